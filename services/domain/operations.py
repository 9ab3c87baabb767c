"""Every command the ledger accepts, in one table: its name, the aggregate it acts on, the rules
that decide it and the aggregate method that records the decision.

``record`` receives the aggregate class and a new id for commands that create an aggregate, or the
aggregate itself otherwise, plus the decision record (event id, actor, basis, rule version,
command ids, payload).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from events.catalogue import EventType
from events.hazards import (
    HAZARD_ESCALATED,
    HAZARD_IDENTIFIED,
    HAZARD_OVERDUE,
    HAZARD_RECTIFIED,
    HAZARD_VERIFIED,
    RECTIFICATION_ORDERED,
)
from events.inspections import (
    INSPECTION_CONDUCTED,
    INSPECTION_PLANNED,
    INSPECTION_RESULT_PUBLISHED,
    INSPECTION_SCHEDULED,
    SAMPLE_DRAWN,
)
from events.registration import INSTITUTION_DISCOVERED, INSTITUTION_FILED
from services.domain import hazard, inspection, registration
from services.domain.hazard import Hazard
from services.domain.inspection import Inspection, InspectionPlan
from services.domain.decisions import Context, Decision
from services.domain.institution import Institution
from services.domain.recorded import LedgerAggregate


@dataclass(frozen=True)
class Operation:
    name: str
    aggregate: type[LedgerAggregate]
    event_type: EventType
    decide: Callable[[Context], Decision]
    record: Callable[..., Any]
    creates: bool = False
    computed: tuple[str, ...] = ()  # payload fields the ledger computes; never in a request


OPERATIONS: dict[str, Operation] = {}


def operation(op: Operation) -> Operation:
    if op.name in OPERATIONS:
        raise ValueError(f"operation {op.name} declared twice")
    OPERATIONS[op.name] = op
    return op


# --- registration -----------------------------------------------------------------------------
operation(Operation(
    "institution.discover", Institution, INSTITUTION_DISCOVERED, registration.discover,
    lambda cls, id, **record: cls.discover(id, **record), creates=True,
    computed=registration.COMPUTED_DISCOVERY_FIELDS,
))
operation(Operation(
    "institution.file_new", Institution, INSTITUTION_FILED, registration.file,
    lambda cls, id, **record: cls.register_filed(id, **record), creates=True,
    computed=registration.COMPUTED_FILING_FIELDS,
))
operation(Operation(
    "institution.file", Institution, INSTITUTION_FILED, registration.file,
    lambda institution, **record: institution.file(**record),
    computed=registration.COMPUTED_FILING_FIELDS,
))

# --- hazards ----------------------------------------------------------------------------------
operation(Operation(
    "hazard.identify", Hazard, HAZARD_IDENTIFIED, hazard.identify,
    lambda cls, id, **record: cls.identify(id, **record), creates=True, computed=("region_code",),
))
operation(Operation(
    "hazard.order", Hazard, RECTIFICATION_ORDERED, hazard.order, lambda h, **r: h.order(**r), computed=("institution_id",),
))
operation(Operation(
    "hazard.rectify", Hazard, HAZARD_RECTIFIED, hazard.rectify, lambda h, **r: h.rectify(**r), computed=("institution_id",),
))
operation(Operation(
    "hazard.verify", Hazard, HAZARD_VERIFIED, hazard.verify, lambda h, **r: h.verify(**r), computed=("institution_id",),
))
operation(Operation(
    "hazard.mark_overdue", Hazard, HAZARD_OVERDUE, hazard.mark_overdue, lambda h, **r: h.mark_overdue(**r),
    computed=("institution_id", "deadline", "detected_on"),
))
operation(Operation(
    "hazard.escalate", Hazard, HAZARD_ESCALATED, hazard.escalate, lambda h, **r: h.escalate(**r), computed=("institution_id",),
))

# --- inspections ------------------------------------------------------------------------------
operation(Operation(
    "inspection_plan.plan", InspectionPlan, INSPECTION_PLANNED, inspection.plan,
    lambda cls, id, **record: cls.plan(id, **record), creates=True,
))
operation(Operation(
    "inspection_plan.draw", InspectionPlan, SAMPLE_DRAWN, inspection.draw_sample, lambda p, **r: p.record_draw(**r),
    computed=("seed", "algorithm", "institution_pool", "ratios", "inspectors_per_team", "sample"),
))
operation(Operation(
    "inspection.schedule", Inspection, INSPECTION_SCHEDULED, inspection.schedule,
    lambda cls, id, **record: cls.schedule(id, **record), creates=True, computed=("region_code",),
))
operation(Operation(
    "inspection.conduct", Inspection, INSPECTION_CONDUCTED, inspection.conduct, lambda i, **r: i.conduct(**r),
    computed=("institution_id",),
))
operation(Operation(
    "inspection.publish", Inspection, INSPECTION_RESULT_PUBLISHED, inspection.publish, lambda i, **r: i.publish(**r),
    computed=("institution_id", "publish_due_by", "late_working_days"),
))
