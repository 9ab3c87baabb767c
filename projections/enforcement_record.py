"""Enforcement records: one search document per decision, whichever department made it
("违法线索互联、监管标准互通、处理结果互认"). Every event but identifier bookkeeping is a record;
a correction or retraction is a record of its own and also marks the record it names.

``FIELDS`` declares what a record holds with the catalogue's marks: the visibility gate
(events/visibility.py) shows each reader only what they may see. The searchable ``summary`` is made
of the decision's public text only, so matching never reveals a restricted field.
"""

from __future__ import annotations

from typing import Any

from events import CATALOGUE
from events.catalogue import Field, public_part
from events.regions import parents
from events.visibility import ACTOR, BASIS, confidential

NOT_RECORDS = ("IdentifierClaimed",)
# Payload text that says what a decision was about, in the order it best says it.
SUMMARY_FIELDS = (
    "description", "violation_type", "facts", "reason", "measures", "summary", "public_summary", "facts_summary",
    "measures_taken", "remarks", "verification", "plan_summary", "title", "name",
)
FIELDS = (
    *(Field(name, "string", title, public=True, required=False) for name, title in (
        ("id", "事件编号"), ("event_type", "决定类型"), ("title_zh", "决定名称"), ("aggregate_type", "记录类别"),
        ("aggregate_id", "记录编号"), ("institution_id", "机构编号"), ("institution_name", "机构名称"), ("region_code", "行政区划"),
        ("department", "决定部门"), ("level", "决定层级"), ("occurred_at", "决定日期"), ("recorded_at", "记录时间"),
        ("document_no", "文书编号"), ("legal_basis", "法律依据"), ("rule_version", "规则版本"), ("summary", "摘要"),
        ("retracted_by", "撤销事件"))),
    Field("seq", "integer", "台账序号", public=True),
    Field("version", "integer", "文档版本（最后改变它的台账序号）", public=True),
    Field("region_path", "array", "所属省、市、县", public=True, items=Field("code", "string", "代码", public=True)),
    Field("corrected_by", "array", "更正事件", public=True, items=Field("event_id", "string", "事件编号", public=True)),
    ACTOR,
    BASIS,
    Field("payload", "fragment", "决定内容", public=True, fragment_of="event_type"),
)


def is_record(envelope: dict[str, Any]) -> bool:
    # a confidential decision (an inspection before it takes place) is in no shared search at all
    return envelope["event_type"] not in NOT_RECORDS and not confidential(envelope["event_type"], envelope["payload"])


def _summary(public_payload: dict[str, Any]) -> str:
    parts = [str(public_payload[f]) for f in SUMMARY_FIELDS if isinstance(public_payload.get(f), str) and public_payload[f].strip()]
    return "；".join(parts)[:1000]


def record_of(envelope: dict[str, Any], institution: dict[str, Any] | None) -> dict[str, Any]:
    """The record document of one decision; ``institution`` is the institution's search document
    as it stood (for its name and region), if the decision concerns one."""
    event_type = CATALOGUE[envelope["event_type"]]
    payload = envelope["payload"]
    region = payload.get("region_code") or (institution or {}).get("region_code") or envelope["actor"]["region"]
    return {
        "id": envelope["event_id"],
        "seq": envelope["seq"],
        "version": envelope["seq"],  # the seq of the last event that changed this document
        "event_type": event_type.name,
        "title_zh": event_type.title_zh,
        "aggregate_type": envelope["aggregate_type"],
        "aggregate_id": envelope["aggregate_id"],
        "institution_id": envelope["institution_id"],
        "institution_name": (institution or {}).get("name") or payload.get("name"),
        "region_code": region,
        "region_path": parents(region),
        "department": envelope["actor"]["department"],
        "level": envelope["actor"]["level"],
        "occurred_at": envelope["occurred_at"],
        "recorded_at": envelope["recorded_at"],
        "document_no": envelope["basis"]["document_no"],
        "legal_basis": envelope["basis"]["legal_basis"],
        "rule_version": envelope["rule_version"],
        "summary": _summary(public_part(event_type.fields, payload)),
        "corrected_by": [],
        "retracted_by": None,
        "actor": envelope["actor"],
        "basis": envelope["basis"],
        "payload": payload,
    }


def marked(original: dict[str, Any], envelope: dict[str, Any], record_state: dict[str, Any]) -> dict[str, Any]:
    """The decision's document after a correction or retraction naming it, at the naming event's
    seq: the decision as its record's state now holds it (events/record_kinds.advance applies
    amendments, once, for every read model)."""
    named = envelope["payload"]["original_event_id"]
    updated = dict(original, version=envelope["seq"])
    standing = next((d for d in record_state["decisions"] if d["event_id"] == named), None)
    if standing is None:
        retracted = next((d for d in record_state["retracted"] if d["event_id"] == named), None)
        updated["retracted_by"] = retracted["retracted_by"] if retracted else envelope["event_id"]
        return updated
    event_type = CATALOGUE[original["event_type"]]
    updated.update(payload=standing["payload"], occurred_at=standing["occurred_at"], corrected_by=list(standing.get("corrected_by", [])),
                   summary=_summary(public_part(event_type.fields, standing["payload"])))
    return updated
