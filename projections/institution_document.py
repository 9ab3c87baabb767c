"""The institution document: what the cross-department search holds of an institution — its
registration record's state (the record-state projection's, events/lifecycle.py ``INSTITUTION``)
and what every department's records about it add up to (events/standing.py), each related record
contributing what its own state says.

It is a pure function of the log prefix: the same events give the same document, byte for byte.
``FIELDS`` declares what it holds with the catalogue's public marks; the visibility gate
(events/visibility.py) shows each reader only what they may see of it.
"""

from __future__ import annotations

from typing import Any

from events.catalogue import Field
from events.lifecycle import INSTITUTION, PROFILE
from events.name_keys import pinyin_keys
from events.record_kinds import Record
from events.regions import full_name, parents
from events.standing import RELATED_KINDS, contribution, summarize
from events.visibility import confidential

OPERATING = ("filed", "suspended", "closing")  # on the filed list
STATUS_NAMES = {**INSTITUTION.states, "retracted": "登记已撤销"}


def _summary_fields() -> tuple[Field, ...]:
    grade = Field("grade", "object", "等级", public=True, required=False, fields=(
        Field("level", "integer", "等级", public=True), Field("awarded_on", "date", "授予日期", public=True),
        Field("valid_until", "date", "有效期至", public=True),
        Field("awarded_by", "object", "授予机关", public=True, required=False, fields=(
            Field("department", "string", "部门", public=True), Field("level", "string", "层级", public=True),
            Field("region", "string", "行政区划", public=True)))))
    return (
        Field("open_hazards", "object", "未销账隐患", public=True, fields=(
            Field("major", "integer", "重大隐患", public=True), Field("general", "integer", "一般隐患", public=True))),
        grade,
        Field("grade_level", "integer", "等级（0为未评定）", public=True),
        Field("grading_publicity", "object", "等级评定结果公示中", public=True, required=False, fields=(
            Field("application_id", "string", "评定申请", public=True), Field("level", "integer", "拟评定等级", public=True),
            Field("started_on", "date", "公示开始日期", public=True), Field("ends_on", "date", "公示截止日期", public=True))),
        Field("listings", "array", "失信名单（含未公布）", items=Field("list", "string", "名单")),
        Field("public_listings", "array", "已公布的失信联合惩戒名单", public=True, items=Field("list", "string", "名单", public=True)),
        Field("last_inspection_on", "date", "最近一次检查日期", public=True, required=False),
        Field("penalties", "integer", "有效的行政处罚数"),
        Field("last_penalty_on", "date", "最近一次行政处罚日期", required=False),
        Field("compliance", "object", "标准符合性", public=True, fields=(
            Field("GB 38600", "boolean", "GB 38600", public=True, required=False),
            Field("GB/T 35796", "boolean", "GB/T 35796", public=True, required=False))),
    )


SUMMARY = Field("summary", "object", "各部门记录汇总", public=True, fields=_summary_fields())
FIELDS = (
    Field("id", "string", "机构编号", public=True),
    Field("status", "string", "登记状态", public=True),
    Field("status_name", "string", "登记状态名称", public=True),
    PROFILE,
    *(Field(name, "string", title, public=True, required=False) for name, title in (
        ("name", "机构名称"), ("address", "地址"), ("credit_code", "统一社会信用代码"), ("receipt_no", "备案回执编号"),
        ("region_code", "所在地行政区划代码"), ("region_name", "所在地区"), ("filed_on", "备案日期"), ("discovered_on", "发现日期"),
        ("updated_at", "最近变化时间"), ("hash", "最近变化事件哈希"))),
    Field("region_path", "array", "所属省、市、县", public=True, items=Field("code", "string", "代码", public=True)),
    Field("seq", "integer", "最近变化的台账序号", public=True),
    SUMMARY,
)


def applies_to(envelope: dict[str, Any]) -> bool:
    """Decisions on the institution itself, and on every record about it (its hazards, cases, …)."""
    kind = envelope["aggregate_type"]
    return kind == "Institution" or (kind in RELATED_KINDS and bool(envelope["institution_id"]))


def _stamped(doc: dict[str, Any], envelope: dict[str, Any]) -> dict[str, Any]:
    doc.update(seq=envelope["seq"], hash=envelope["hash"], updated_at=envelope["recorded_at"])
    return doc


def with_institution(document: dict[str, Any] | None, record: Record, envelope: dict[str, Any]) -> dict[str, Any]:
    """The document after a decision on the institution itself (``record``: its state after it)."""
    state = record["state"]
    profile = state.get("profile", {})
    doc = dict(document) if document else {"id": record["id"], "contributions": {}}
    region = state.get("region_code") or profile["region_code"]
    name_pinyin, name_initials = pinyin_keys(profile["name"])
    doc.update(
        status=state["status"], status_name=STATUS_NAMES[state["status"]], profile=profile, version=record["version"],
        name=profile["name"], address=profile["address"], credit_code=profile.get("credit_code"),
        receipt_no=profile.get("receipt_no"), region_code=region, region_path=parents(region), region_name=full_name(region),
        filed_on=state.get("filed_on"), discovered_on=state.get("discovered_on"), name_pinyin=name_pinyin,
        name_initials=name_initials,
    )
    doc["summary"] = summarize(doc["contributions"].values())
    return _stamped(doc, envelope)


def with_related(document: dict[str, Any], record: Record, envelope: dict[str, Any]) -> dict[str, Any]:
    """The document after a decision on one of its related records (``record``: its state after)."""
    contributions = dict(document["contributions"])
    contributions[record["id"]] = contribution(record)
    if not contributions[record["id"]]:
        del contributions[record["id"]]
    doc = dict(document, contributions=dict(sorted(contributions.items())))
    doc["summary"] = summarize(doc["contributions"].values())
    return _stamped(doc, envelope)


def follow(document: dict[str, Any] | None, record: Record, envelope: dict[str, Any]) -> dict[str, Any] | None:
    """The document after an event on the institution or on a record about it (``record``: that
    record's state after the event). An event the document already holds changes nothing; a record
    about an institution the document does not know yet waits for it."""
    if document is not None and document["seq"] >= envelope["seq"]:
        return document
    if confidential(envelope["event_type"], envelope["payload"]):
        return document  # its departments' business only: it neither changes nor stamps the shared document
    if envelope["aggregate_type"] == "Institution":
        return with_institution(document, record, envelope)
    return None if document is None else with_related(document, record, envelope)
