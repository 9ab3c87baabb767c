"""Corrections and retractions: nothing is ever deleted. A wrong record is corrected (some of its
fields) or retracted (the whole decision) by a new event that names the original, with the reason
and the approver; every projection applies it and the history shows both. They apply to any kind of
record, so their ``aggregate_type`` is whatever record they are recorded on ("*").
"""

from __future__ import annotations

from events.catalogue import CATALOGUE, DATE_PATTERN, EventType, Field

ORIGINAL = (
    Field("original_event_id", "string", "被更正/撤销的事件编号", public=True, max_length=36),
    Field("original_event_type", "string", "被更正/撤销的事件类型", public=True, max_length=60),
    Field("institution_id", "string", "机构编号", public=True, required=False, max_length=36),
    Field("reason", "text", "理由", public=True, max_length=1000),
    Field("approver", "string", "批准人", public=True, max_length=50),
)

DECISION_CORRECTED = CATALOGUE.register(EventType(
    name="DecisionCorrected", version=1, aggregate_type="*", title_zh="更正决定",
    description="Corrects fields of an earlier decision on the same record; computed fields and identifiers are never corrected.",
    institution_scoped=False,
    fields=(
        *ORIGINAL,
        Field("corrected", "fragment", "更正后的字段", public=True, fragment_of="original_event_type"),
        Field("corrected_on", "date", "更正日期", public=True, pattern=DATE_PATTERN),
    ),
))

DECISION_RETRACTED = CATALOGUE.register(EventType(
    name="DecisionRetracted", version=1, aggregate_type="*", title_zh="撤销决定",
    description=(
        "Retracts the latest decision on a record (earlier ones are retracted in reverse order); the "
        "record returns to its state before it. Retracting a record's first decision retracts the record."
    ),
    institution_scoped=False,
    fields=(*ORIGINAL, Field("retracted_on", "date", "撤销日期", public=True, pattern=DATE_PATTERN)),
))

# What the ledger fills in on both: the corrected decision's type, and the institution it concerns.
COMPUTED = ("original_event_type", "institution_id")
