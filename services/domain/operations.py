"""Every command the ledger accepts, in one table: its name, the kind of record it acts on, the rules
that decide it, and the event it records.

What the event does to the record, the states it may follow and the fields the ledger computes are
the record kind's declaration (events/, ``Step``), not this table's: the command pipeline
(services/ledger/application.py) checks the request's shape and the record's state from it before
the rules run, and records the event through the aggregate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from events import corrections as correction_events
from events import credit as credit_events
from events import grading as grading_events
from events import hazards as hazard_events
from events import inspections as inspection_events
from events import lifecycle as lifecycle_events
from events import sanctions as sanction_events
from events.catalogue import EventType
from events.record_kinds import Step
from events.registration import INSTITUTION_DISCOVERED, INSTITUTION_FILED
from services.domain import (
    compliance,
    corrections,
    credit_listing,
    grading,
    hazard,
    inspection,
    lifecycle,
    registration,
    sanction,
)
from services.domain.compliance import CampaignTarget, ComplianceAssessment
from services.domain.credit_listing import CreditListing
from services.domain.decisions import Context, Decision
from services.domain.grading import GradingApplication
from services.domain.hazard import Hazard
from services.domain.inspection import Inspection, InspectionPlan
from services.domain.institution import Institution
from services.domain.recorded import LedgerAggregate
from services.domain.sanction import SanctionCase


@dataclass(frozen=True)
class Operation:
    name: str
    aggregate: type[LedgerAggregate]  # LedgerAggregate itself: any kind of record (corrections)
    event_type: EventType
    decide: Callable[[Context], Decision]
    creates: bool = False
    defaults: tuple[str, ...] = ()  # payload fields a request may leave to the rule table
    # Other records the same decision changes, saved in the same transaction: (ctx, decision, a
    # fresh decision record, the aggregate) -> the other aggregates, already changed.
    follow_up: Callable[..., list[Any]] | None = None

    @property
    def step(self) -> Step | None:
        """The record kind's step this command records (None: a correction or retraction, which
        any kind records)."""
        if self.aggregate is LedgerAggregate:
            return None
        return self.aggregate.KIND.step(self.event_type.name, creates=self.creates)

    @property
    def computed(self) -> tuple[str, ...]:
        """Payload fields the ledger computes; never in a request."""
        return correction_events.COMPUTED if self.step is None else self.step.computed


OPERATIONS: dict[str, Operation] = {}


def operation(name: str, aggregate: type[LedgerAggregate], event_type: EventType, decide: Callable[[Context], Decision],
              **options: Any) -> Operation:
    if name in OPERATIONS:
        raise ValueError(f"operation {name} declared twice")
    op = OPERATIONS[name] = Operation(name, aggregate, event_type, decide, **options)
    op.step  # noqa: B018  (the kind must declare the step: fail at import, not at the first request)
    return op


# --- registration and lifecycle -------------------------------------------------------------------
operation("institution.discover", Institution, INSTITUTION_DISCOVERED, registration.discover, creates=True)
operation("institution.file_new", Institution, INSTITUTION_FILED, registration.file, creates=True)
operation("institution.file", Institution, INSTITUTION_FILED, registration.file)
operation("institution.change", Institution, lifecycle_events.CHANGE_FILED, lifecycle.change_filing)
operation("institution.suspend", Institution, lifecycle_events.SUSPENSION_ORDERED, lifecycle.order_suspension)
operation("institution.resume", Institution, lifecycle_events.SERVICE_RESUMED, lifecycle.resume)
operation("institution.plan_closure", Institution, lifecycle_events.CLOSURE_PLANNED, lifecycle.plan_closure)
operation("institution.resettle", Institution, lifecycle_events.RESIDENTS_RESETTLED, lifecycle.resettle)
operation("institution.close", Institution, lifecycle_events.INSTITUTION_CLOSED, lifecycle.close)
operation("institution.register_legal_person", Institution, lifecycle_events.LEGAL_PERSON_REGISTERED, lifecycle.register_legal_person)
operation("institution.legal_person_pending", Institution, lifecycle_events.LEGAL_PERSON_PENDING, lifecycle.record_legal_person_pending)
operation("institution.record_contract", Institution, lifecycle_events.CONTRACT_RECORDED, lifecycle.record_contract)
operation("institution.update_handling", Institution, lifecycle_events.HANDLING_UPDATED, lifecycle.update_handling)
operation("institution.mark_handling_overdue", Institution, lifecycle_events.HANDLING_OVERDUE, lifecycle.mark_handling_overdue)

# --- hazards ----------------------------------------------------------------------------------------
operation("hazard.identify", Hazard, hazard_events.HAZARD_IDENTIFIED, hazard.identify, creates=True)
operation("hazard.order", Hazard, hazard_events.RECTIFICATION_ORDERED, hazard.order)
operation("hazard.rectify", Hazard, hazard_events.HAZARD_RECTIFIED, hazard.rectify)
operation("hazard.verify", Hazard, hazard_events.HAZARD_VERIFIED, hazard.verify)
operation("hazard.mark_overdue", Hazard, hazard_events.HAZARD_OVERDUE, hazard.mark_overdue)
operation("hazard.escalate", Hazard, hazard_events.HAZARD_ESCALATED, hazard.escalate, follow_up=hazard.suspension_follows)

# --- inspections ------------------------------------------------------------------------------------
operation("inspection_plan.plan", InspectionPlan, inspection_events.INSPECTION_PLANNED, inspection.plan, creates=True,
          defaults=("ratios",))
operation("inspection_plan.draw", InspectionPlan, inspection_events.SAMPLE_DRAWN, inspection.draw_sample)
operation("inspection.schedule", Inspection, inspection_events.INSPECTION_SCHEDULED, inspection.schedule, creates=True)
operation("inspection.conduct", Inspection, inspection_events.INSPECTION_CONDUCTED, inspection.conduct)
operation("inspection.publish", Inspection, inspection_events.INSPECTION_RESULT_PUBLISHED, inspection.publish)

# --- sanctions ----------------------------------------------------------------------------------------
operation("sanction.file", SanctionCase, sanction_events.CASE_FILED, sanction.file_case, creates=True)
operation("sanction.notify", SanctionCase, sanction_events.NOTICE_SERVED, sanction.serve_notice)
operation("sanction.request_hearing", SanctionCase, sanction_events.HEARING_REQUESTED, sanction.request_hearing)
operation("sanction.schedule_hearing", SanctionCase, sanction_events.HEARING_SCHEDULED, sanction.schedule_hearing)
operation("sanction.hold_hearing", SanctionCase, sanction_events.HEARING_HELD, sanction.hold_hearing)
operation("sanction.decide", SanctionCase, sanction_events.PENALTY_DECIDED, sanction.decide)
operation("sanction.serve", SanctionCase, sanction_events.DECISION_SERVED, sanction.serve_decision)
operation("sanction.execute", SanctionCase, sanction_events.PENALTY_EXECUTED, sanction.execute_penalty)
operation("sanction.close", SanctionCase, sanction_events.CASE_CLOSED, sanction.close_case)
operation("sanction.review", SanctionCase, sanction_events.DECISION_REVIEWED, sanction.review)
operation("sanction.publish", SanctionCase, sanction_events.PENALTY_PUBLISHED, sanction.publish)
operation("sanction.withdraw_publication", SanctionCase, sanction_events.PUBLICATION_WITHDRAWN, sanction.withdraw_publication)
operation("sanction.end_publication_early", SanctionCase, sanction_events.PUBLICATION_ENDED_EARLY, sanction.end_publication_early)
operation("sanction.import", SanctionCase, sanction_events.PENALTY_DECIDED, sanction.import_decision, creates=True)
operation("sanction.expire_publication", SanctionCase, sanction_events.PUBLICATION_EXPIRED, sanction.expire_publication)

# --- credit lists ---------------------------------------------------------------------------------------
operation("listing.propose", CreditListing, credit_events.LISTING_PROPOSED, credit_listing.propose, creates=True)
operation("listing.notify", CreditListing, credit_events.LISTING_NOTICE_SERVED, credit_listing.serve_notice)
operation("listing.receive_defence", CreditListing, credit_events.LISTING_DEFENCE_RECEIVED, credit_listing.receive_defence)
operation("listing.decide", CreditListing, credit_events.LISTING_DECIDED, credit_listing.decide)
operation("listing.publish", CreditListing, credit_events.LISTING_PUBLISHED, credit_listing.publish)
operation("listing.remove_early", CreditListing, credit_events.LISTING_REMOVED_EARLY, credit_listing.remove_early)
operation("listing.import", CreditListing, credit_events.LISTING_DECIDED, credit_listing.import_listing, creates=True)
operation("listing.expire", CreditListing, credit_events.LISTING_EXPIRED, credit_listing.expire)

# --- grading ----------------------------------------------------------------------------------------------
operation("grading.apply", GradingApplication, grading_events.GRADING_APPLIED, grading.apply, creates=True)
operation("grading.recommend", GradingApplication, grading_events.GRADING_RECOMMENDED, grading.recommend)
operation("grading.review_eligibility", GradingApplication, grading_events.ELIGIBILITY_REVIEWED, grading.review_eligibility)
operation("grading.score", GradingApplication, grading_events.ASSESSMENT_SCORED, grading.score)
operation("grading.committee", GradingApplication, grading_events.COMMITTEE_DECIDED, grading.committee)
operation("grading.start_publicity", GradingApplication, grading_events.PUBLICITY_STARTED, grading.start_publicity)
operation("grading.receive_objection", GradingApplication, grading_events.OBJECTION_RECEIVED, grading.receive_objection)
operation("grading.handle_objection", GradingApplication, grading_events.OBJECTION_HANDLED, grading.handle_objection)
operation("grading.close_publicity", GradingApplication, grading_events.PUBLICITY_CLOSED, grading.close_publicity)
operation("grading.award", GradingApplication, grading_events.GRADE_AWARDED, grading.award)
operation("grading.downgrade", GradingApplication, grading_events.GRADE_DOWNGRADED, grading.downgrade)
operation("grading.revoke", GradingApplication, grading_events.GRADE_REVOKED, grading.revoke)
operation("grading.lapse", GradingApplication, grading_events.GRADE_LAPSED, grading.lapse)
operation("grading.import_award", GradingApplication, grading_events.GRADE_AWARDED, grading.import_award, creates=True)

# --- standards compliance and campaign targets ---------------------------------------------------------------
operation("compliance.assess", ComplianceAssessment, grading_events.COMPLIANCE_ASSESSED, compliance.assess, creates=True)
operation("campaign.set_target", CampaignTarget, grading_events.CAMPAIGN_TARGET_SET, compliance.set_target, creates=True)

# --- corrections and retractions, on any record ---------------------------------------------------------------
operation("record.correct", LedgerAggregate, correction_events.DECISION_CORRECTED, corrections.correct)
operation("record.retract", LedgerAggregate, correction_events.DECISION_RETRACTED, corrections.retract)
