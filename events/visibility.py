"""The visibility policy: who may see which part of anything the ledger shows — the one gate every
response, download, feed, snapshot and page passes on the way out. Deny by default: a value shows
only the members its declaration names (catalogue fields, a record kind's state fields, a
document's declared fields), and of those only the ones marked public unless the reader may see
restricted ones.

Who sees restricted fields (contact persons, identity numbers, complainants, internal notes, the
acting user):
- a member of staff (officer or 查询人员) of the department that made the decision, or of civil
  affairs (the supervising department), whose jurisdiction covers the record's region;
- an auditor whose jurisdiction covers it;
- nobody else: other departments, other regions and the public see the public
  part, with the personal numbers of private persons masked in every text (identity-card numbers
  to their first 6 and last 4 characters, mobile numbers to their first 3 and last 4 digits) — the
  same on the site, in the public search and in every other department's view.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any, Protocol

from events.catalogue import CATALOGUE, Field, declared_part
from events.record_kinds import AMENDMENTS, KINDS
from events.regions import covers
from events.registration import DEPARTMENT_NAMES, LEVEL_NAMES

SUPERVISING_DEPARTMENT = "civil_affairs"
# Numbers typed in full-width digits (an input method's full-width mode) are numbers too.
ID_NUMBER = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXxＸｘ])(?!\d)")
MOBILE = re.compile(r"(?<!\d)([1１][3-9３-９]\d)\d{4}(\d{4})(?!\d)")
# Either number holds eleven digits in a row: a text without such a run holds neither (one search
# instead of two substitutions for nearly every text shown).
DIGIT_RUN = re.compile(r"\d{11}")
# Keys whose values are identifiers or ledger positions, never free text: a digit run inside a UUID,
# a credit code or a hash is not a telephone number and must survive intact.
IDENTIFIER_KEYS = frozenset({"id", "seq", "hash", "prev_hash", "credit_code", "page_stamp", "recorded_at", "occurred_at"})


class Reader(Protocol):
    """Who reads: a member of staff of one department at one level for one region, in one role
    (services/domain/actors.Actor). The public is ``None``."""

    department: str
    level: str
    region: str
    role: str


def sees_restricted(reader: Reader | None, decided_by: Iterable[str], region_code: str | None, *, only: bool = False) -> bool:
    """May ``reader`` see the restricted fields of a decision (or record) made by ``decided_by``
    about something in ``region_code``? With ``only``, ``decided_by`` are the only departments that
    may (a double-random sample before its inspections: the plan's departments)."""
    if reader is None or not region_code or not covers(reader.region, reader.level, region_code):
        return False
    if reader.role == "auditor":
        return True
    departments = set(decided_by) if only else {SUPERVISING_DEPARTMENT, *decided_by}
    return reader.role in ("officer", "viewer") and reader.department in departments


def confidential(event_type: str, payload: dict[str, Any]) -> bool:
    """Whether a decision is known only to its readers: one of a confidential type (an inspection
    before it takes place), or a correction or retraction of one."""
    if event_type in AMENDMENTS:
        event_type = payload.get("original_event_type") or ""
    spec = CATALOGUE.types.get(event_type)
    return bool(spec and spec.confidential and spec.readers is not None)


def sees_at_all(reader: Reader | None, event_type: str, payload: dict[str, Any], region_code: str | None,
                department: str | None = None) -> bool:
    """Whether ``reader`` may know of a decision at all: always, unless it is confidential — then
    only its readers (for a correction or retraction of one: the department that made it) and
    auditors."""
    if not confidential(event_type, payload):
        return True
    if event_type in AMENDMENTS:
        return sees_restricted(reader, (department,) if department else (), region_code, only=True)
    return sees_restricted(reader, CATALOGUE[event_type].readers(payload) or (), region_code, only=True)


def with_payload_readers(shown: dict[str, Any], reader: Reader | None, event_type: str, payload: dict[str, Any],
                         region_code: str | None) -> dict[str, Any]:
    """A decision as shown by the usual policy, its payload shown again by the event type's own
    readers if it names them (a double-random draw: only the plan's departments read the sample)."""
    readers = CATALOGUE[event_type].readers
    only = readers(payload) if readers else None
    if only is not None:
        shown["payload"] = view(CATALOGUE[event_type].fields, payload, full=sees_restricted(reader, only, region_code, only=True))
    return shown


@functools.cache  # a catalogue's keys are few; texts are many
def _is_identifier(key: str) -> bool:
    return key in IDENTIFIER_KEYS or key.endswith(("_id", "_ids", "_no", "_seq", "_hash", "_on", "_until", "_by"))


def mask_personal(value: Any) -> Any:
    """Identity-card and mobile numbers masked in every text (defence in depth: such numbers belong
    in restricted fields, but a public field may carry one). Identifiers are left as they are."""
    if isinstance(value, str):
        if len(value) < 11 or DIGIT_RUN.search(value) is None:
            return value
        return MOBILE.sub(r"\1****\2", ID_NUMBER.sub(r"\1********\2", value))
    if isinstance(value, list):
        return [mask_personal(v) for v in value]
    if isinstance(value, dict):
        return {k: v if _is_identifier(k) else mask_personal(v) for k, v in value.items()}
    return value


def view(fields: tuple[Field, ...], value: dict[str, Any], *, full: bool) -> dict[str, Any]:
    """``value`` as a reader sees it: every declared member (``full``) or the public ones, masked;
    beside every enum value shown, its Chinese name (``<field>_name``)."""
    if full:
        return named(fields, declared_part(fields, value, public_only=False))
    return named(fields, mask_personal(declared_part(fields, value, public_only=True)))


def named(fields: tuple[Field, ...], value: dict[str, Any]) -> dict[str, Any]:
    """``value`` with the Chinese name of each enum member beside it (``severity`` → ``severity_name``;
    a list of enum values → a list of names), in nested objects too."""
    out = dict(value)
    for spec in fields:
        if spec.name not in value or f"{spec.name}_name" in value:
            continue
        member = value[spec.name]
        if spec.kind == "enum" and isinstance(member, str):
            out[f"{spec.name}_name"] = spec.name_of(member)
        elif spec.kind == "object" and isinstance(member, dict):
            out[spec.name] = named(spec.fields, member)
        elif spec.kind == "array" and isinstance(member, list) and spec.items is not None:
            items = spec.items
            if items.kind == "enum":
                out[f"{spec.name}_name"] = [items.name_of(v) if isinstance(v, str) else v for v in member]
            elif items.kind == "object":
                out[spec.name] = [named(items.fields, v) if isinstance(v, dict) else v for v in member]
    return out


# --- the envelope ----------------------------------------------------------------------------------

ACTOR = Field("actor", "object", "决定主体", public=True, fields=(
    Field("department", "enum", "部门", public=True, enum=DEPARTMENT_NAMES),
    Field("level", "enum", "层级", public=True, enum=LEVEL_NAMES),
    Field("region", "string", "行政区划", public=True),
    Field("user", "string", "经办人"),
))
BASIS = Field("basis", "object", "依据", public=True, fields=(
    Field("document_no", "string", "文书编号", public=True),
    Field("legal_basis", "string", "法律依据", public=True),
    Field("imported_from", "object", "导入来源（本系统启用前的决定）", public=True, required=False, fields=(
        Field("file_sha256", "string", "来源文件SHA-256", public=True),
        Field("row", "integer", "来源文件行号", public=True),
        Field("file_name", "string", "来源文件名"),
    )),
))
# The envelope's own members: the user who acted and the command id are restricted; the department,
# level and region that decided, the legal basis and document number, and the seal are public (a
# decision is public by its author and basis).
ENVELOPE_MEMBERS = (
    Field("event_id", "string", "事件编号", public=True),
    Field("event_type", "string", "事件类型", public=True),
    Field("schema_version", "integer", "事件结构版本", public=True),
    Field("seq", "integer", "台账序号", public=True),
    Field("aggregate_type", "string", "对象类型", public=True),
    Field("aggregate_id", "string", "对象编号", public=True),
    Field("aggregate_version", "integer", "对象版本", public=True),
    Field("institution_id", "string", "机构编号", public=True, required=False),
    Field("occurred_at", "string", "决定时间", public=True),
    Field("recorded_at", "string", "记录时间", public=True),
    ACTOR,
    BASIS,
    Field("rule_version", "string", "规则版本", public=True),
    Field("command_id", "string", "请求幂等键摘要", required=False),
    Field("request_digest", "string", "请求内容摘要", required=False),
    Field("prev_hash", "string", "前一事件哈希", public=True),
    Field("hash", "string", "本事件哈希", public=True),
    Field("payload", "fragment", "决定内容", public=True, fragment_of="event_type"),
)
# One decision as a record state holds it (events/record_kinds.ENTRY_MEMBERS), with its marks.
ENTRY_MEMBERS = (
    *(f for f in ENVELOPE_MEMBERS if f.name in ("event_id", "event_type", "seq", "occurred_at", "recorded_at", "actor", "basis",
                                                 "rule_version", "payload")),
    Field("corrected_by", "array", "更正事件", public=True, required=False, items=Field("event_id", "string", "事件编号", public=True)),
    Field("retracted_by", "string", "撤销事件", public=True, required=False),
)


def envelope_view(envelope: dict[str, Any], *, full: bool) -> dict[str, Any]:
    return view(ENVELOPE_MEMBERS, envelope, full=full)


def public_envelope(envelope: dict[str, Any]) -> dict[str, Any]:
    """The envelope as the public may see it: public members and the public part of the payload."""
    return envelope_view(envelope, full=False)


def entry_view(entry: dict[str, Any], reader: Reader | None, region_code: str | None) -> dict[str, Any]:
    """One decision of a record, as ``reader`` may see it."""
    full = sees_restricted(reader, (entry["actor"]["department"],), region_code)
    view_ = with_payload_readers(view(ENTRY_MEMBERS, entry, full=full), reader, entry["event_type"], entry["payload"], region_code)
    view_["title_zh"] = CATALOGUE[entry["event_type"]].title_zh
    return view_


def knows_record(record: dict[str, Any], reader: Reader | None) -> bool:
    """Whether ``reader`` may know of the record at all (not: an inspection before it takes place,
    to anyone but its departments and auditors)."""
    kind = KINDS[record["kind"]]
    if not kind.confidential(record["state"]):
        return True
    only = kind.readers(record["state"]) if kind.readers else None
    return sees_restricted(reader, only or (), record["region_code"], only=True)


def record_view(record: dict[str, Any], reader: Reader | None) -> dict[str, Any] | None:
    """A record (its state and its decisions) as ``reader`` may see it: the state's restricted
    fields to those who may see any of its decisions' restricted fields, each decision's to those
    who may see that decision's; None if the reader may not know of the record at all (an
    inspection before it takes place, to anyone but its departments), and without the decisions the
    reader may not know of."""
    kind = KINDS[record["kind"]]
    region = record["region_code"]
    departments = {d["actor"]["department"] for d in record["decisions"] + record["retracted"]}
    state = record["state"]
    only = kind.readers(state) if kind.readers else None
    if not knows_record(record, reader):
        return None
    def knows(d: dict[str, Any]) -> bool:
        return sees_at_all(reader, d["event_type"], d["payload"], region, d["actor"]["department"])

    known, gone, amendments = [d for d in record["decisions"] if knows(d)], [d for d in record["retracted"] if knows(d)], \
        [d for d in record["amendments"] if knows(d)]
    full = sees_restricted(reader, only, region, only=True) if only is not None else sees_restricted(reader, departments, region)
    return {
        "id": record["id"], "kind": kind.name, "kind_name": kind.title_zh, "institution_id": record["institution_id"],
        "region_code": region, "version": record["version"], "seq": record.get("seq"),
        "status": state["status"], "status_name": kind.state_name(state["status"]),
        "state": view(kind.fields, state, full=full),
        "decisions": [entry_view(d, reader, region) for d in known],
        "amendments": [entry_view(d, reader, region) for d in amendments],
        "retracted": [entry_view(d, reader, region) for d in gone],
    }
