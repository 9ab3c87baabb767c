"""Enforcement records: one search document per decision, whichever department made it
("违法线索互联、监管标准互通、处理结果互认"). Every event but identifier bookkeeping is a record;
a correction or retraction is a record of its own and also marks the record it names.
"""

from __future__ import annotations

from typing import Any

from events import CATALOGUE
from events.catalogue import public_part
from events.regions import parents

NOT_RECORDS = ("IdentifierClaimed",)
# Payload text that says what a decision was about, in the order it best says it.
SUMMARY_FIELDS = (
    "description", "violation_type", "facts", "reason", "measures", "summary", "public_summary", "facts_summary",
    "measures_taken", "remarks", "verification", "plan_summary", "title", "name",
)


def is_record(envelope: dict[str, Any]) -> bool:
    return envelope["event_type"] not in NOT_RECORDS


def _summary(payload: dict[str, Any]) -> str:
    parts = [str(payload[f]) for f in SUMMARY_FIELDS if isinstance(payload.get(f), str) and payload[f].strip()]
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
        "summary": _summary(payload),
        "corrected_by": [],
        "retracted_by": None,
        "payload": payload,
        "public_payload": public_part(event_type.fields, payload),
    }


def marked(original: dict[str, Any], envelope: dict[str, Any]) -> dict[str, Any]:
    """The original record after a correction or retraction naming it (at the naming event's seq)."""
    updated = dict(original, version=envelope["seq"])
    if envelope["event_type"] == "DecisionRetracted":
        updated["retracted_by"] = envelope["event_id"]
    else:
        updated["corrected_by"] = [*original["corrected_by"], envelope["event_id"]]
    return updated


def public_record(record: dict[str, Any]) -> dict[str, Any]:
    """A record without its restricted payload fields."""
    return {k: v for k, v in record.items() if k != "payload"}
