"""An institution's full history for auditors — every decision on it and on every record about it,
with who decided, when (occurred and recorded), on what basis and under which rule version, and
how corrections and retractions tie to what they change — and diffs between two moments."""

from __future__ import annotations

from typing import Any

from events import CATALOGUE
from services.ledger.sealed_log import SealedLog

CORRECTIONS = ("DecisionCorrected", "DecisionRetracted")


def history(log: SealedLog, institution_id: str, *, up_to_seq: int | None = None) -> list[dict[str, Any]]:
    envelopes = log.of_institution(institution_id, up_to_seq=up_to_seq)
    seq_of_event = {e["event_id"]: e["seq"] for e in envelopes}
    entries: list[dict[str, Any]] = []
    by_event: dict[str, dict[str, Any]] = {}
    for e in envelopes:
        kind = CATALOGUE[e["event_type"]] if e["event_type"] in CATALOGUE else None
        entry = {
            "seq": e["seq"], "event_id": e["event_id"], "event_type": e["event_type"],
            "title_zh": kind.title_zh if kind else e["event_type"],
            "aggregate_type": e["aggregate_type"], "aggregate_id": e["aggregate_id"], "aggregate_version": e["aggregate_version"],
            "occurred_at": e["occurred_at"], "recorded_at": e["recorded_at"],
            "actor": e["actor"], "basis": e["basis"], "rule_version": e["rule_version"],
            "payload": e["payload"], "hash": e["hash"], "corrected_by": [],
        }
        if e["event_type"] in CORRECTIONS:
            original = e["payload"]["original_event_id"]
            entry["corrects"] = {"event_id": original, "seq": seq_of_event.get(original)}
            if original in by_event:
                by_event[original]["corrected_by"].append({"seq": e["seq"], "event_type": e["event_type"]})
        by_event[e["event_id"]] = entry
        entries.append(entry)
    return entries


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, f"{prefix}.{key}" if prefix else key))
        return flat
    return {prefix: value}


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Field-by-field changes between two states (dotted paths; lists compared whole)."""
    old, new = _flatten(before or {}), _flatten(after or {})
    return [
        {"field": key, "before": old.get(key), "after": new.get(key)}
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    ]


def list_diff(before: list[dict[str, Any]], after: list[dict[str, Any]], *, key: str = "id") -> dict[str, Any]:
    """Rows that entered, left or changed on a public list between two moments."""
    old = {_row_key(r, key): r for r in before}
    new = {_row_key(r, key): r for r in after}
    return {
        "added": [new[k] for k in sorted(new.keys() - old.keys())],
        "removed": [old[k] for k in sorted(old.keys() - new.keys())],
        "changed": [
            {"key": k, "changes": diff(old[k], new[k])} for k in sorted(old.keys() & new.keys()) if old[k] != new[k]
        ],
    }


def _row_key(row: dict[str, Any], key: str) -> str:
    # Rows about decisions (sanctions, listings, inspections) are keyed by the decision's record.
    for name in ("case_id", "listing_id", "inspection_id"):
        if name in row:
            return f"{row[key]}/{row[name]}"
    return str(row[key])
