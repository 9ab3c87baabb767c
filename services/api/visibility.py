"""The API's side of the one gate (events/visibility.py, which also shows records and envelopes):
the search documents — an institution's and a decision's — as the caller may see them. Every
department may look up every department's records (结果互认); restricted fields are seen only by the
department that decided and civil affairs within their jurisdiction, and by auditors within theirs.
No route returns a stored value any other way.
"""

from __future__ import annotations

from typing import Any

from events.visibility import Reader, sees_at_all, sees_restricted, view, with_payload_readers
from projections import enforcement_record, institution_document


def _marked(shown: dict[str, Any], full: bool) -> dict[str, Any]:
    shown["view"] = "restricted" if full else "public"
    return shown


def institution_view(reader: Reader | None, doc: dict[str, Any]) -> dict[str, Any]:
    full = sees_restricted(reader, (), doc["region_code"])
    return _marked(view(institution_document.FIELDS, doc, full=full), full)


def decision_view(reader: Reader | None, record: dict[str, Any]) -> dict[str, Any] | None:
    """A decision's search document as the caller may see it; None if the caller may not know of it
    (an inspection before it takes place, to anyone but its departments)."""
    if not sees_at_all(reader, record["event_type"], record["payload"], record["region_code"], record["department"]):
        return None
    full = sees_restricted(reader, (record["department"],), record["region_code"])
    shown = with_payload_readers(view(enforcement_record.FIELDS, record, full=full), reader, record["event_type"], record["payload"],
                                 record["region_code"])
    return _marked(shown, full)

