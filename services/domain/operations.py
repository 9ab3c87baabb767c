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
from events import corrections as correction_events
from events import credit as credit_events
from events import grading as grading_events
from events import lifecycle as lifecycle_events
from events import sanctions as sanction_events
from events.registration import INSTITUTION_DISCOVERED, INSTITUTION_FILED
from services.domain import compliance, corrections, credit_listing, grading, hazard, inspection, lifecycle, registration, sanction
from services.domain.compliance import CampaignTarget, ComplianceAssessment
from services.domain.grading import GradingApplication
from services.domain.credit_listing import CreditListing
from services.domain.hazard import Hazard
from services.domain.inspection import Inspection, InspectionPlan
from services.domain.decisions import Context, Decision
from services.domain.institution import Institution
from services.domain.recorded import LedgerAggregate
from services.domain.sanction import SanctionCase


@dataclass(frozen=True)
class Operation:
    name: str
    aggregate: type[LedgerAggregate]
    event_type: EventType
    decide: Callable[[Context], Decision]
    record: Callable[..., Any]
    creates: bool = False
    computed: tuple[str, ...] = ()  # payload fields the ledger computes; never in a request
    defaults: tuple[str, ...] = ()  # payload fields a request may leave to the rule table
    # Other records the same decision changes, saved in the same transaction: (ctx, decision, a
    # fresh decision record, the aggregate) -> the other aggregates, already changed.
    follow_up: Callable[..., list[Any]] | None = None


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


def _lifecycle_step(name, event_type, decide, event_class):
    operation(Operation(name, Institution, event_type, decide, lambda i, **r: i.record(event_class, **r)))


_lifecycle_step("institution.change", lifecycle_events.CHANGE_FILED, lifecycle.change_filing, Institution.ChangeFiled)
_lifecycle_step("institution.suspend", lifecycle_events.SUSPENSION_ORDERED, lifecycle.order_suspension, Institution.SuspensionOrdered)
_lifecycle_step("institution.resume", lifecycle_events.SERVICE_RESUMED, lifecycle.resume, Institution.ServiceResumed)
_lifecycle_step("institution.plan_closure", lifecycle_events.CLOSURE_PLANNED, lifecycle.plan_closure, Institution.ClosurePlanned)
_lifecycle_step("institution.resettle", lifecycle_events.RESIDENTS_RESETTLED, lifecycle.resettle, Institution.ResidentsResettled)
_lifecycle_step("institution.close", lifecycle_events.INSTITUTION_CLOSED, lifecycle.close, Institution.Closed)
_lifecycle_step("institution.register_legal_person", lifecycle_events.LEGAL_PERSON_REGISTERED, lifecycle.register_legal_person,
                Institution.LegalPersonRegistered)
_lifecycle_step("institution.legal_person_pending", lifecycle_events.LEGAL_PERSON_PENDING, lifecycle.record_legal_person_pending,
                Institution.LegalPersonRegistrationPending)
_lifecycle_step("institution.record_contract", lifecycle_events.CONTRACT_RECORDED, lifecycle.record_contract,
                Institution.OperatingContractRecorded)
_lifecycle_step("institution.update_handling", lifecycle_events.HANDLING_UPDATED, lifecycle.update_handling, Institution.HandlingUpdated)

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
    follow_up=hazard.suspension_follows,
))

# --- inspections ------------------------------------------------------------------------------
operation(Operation(
    "inspection_plan.plan", InspectionPlan, INSPECTION_PLANNED, inspection.plan,
    lambda cls, id, **record: cls.plan(id, **record), creates=True, defaults=("ratios",),
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

# --- sanctions --------------------------------------------------------------------------------
operation(Operation(
    "sanction.file", SanctionCase, sanction_events.CASE_FILED, sanction.file_case,
    lambda cls, id, **record: cls.file(id, **record), creates=True, computed=("region_code", "decide_by"),
))


def _case_step(name, event_type, decide, event_class, computed=("institution_id",)):
    operation(Operation(
        name, SanctionCase, event_type, decide, lambda case, **r: case.record(event_class, **r), computed=computed,
    ))


_case_step("sanction.notify", sanction_events.NOTICE_SERVED, sanction.serve_notice, SanctionCase.NoticeServed,
           ("institution_id", "hearing_eligible", "statement_deadline", "hearing_request_deadline"))
_case_step("sanction.request_hearing", sanction_events.HEARING_REQUESTED, sanction.request_hearing, SanctionCase.HearingRequested)
_case_step("sanction.schedule_hearing", sanction_events.HEARING_SCHEDULED, sanction.schedule_hearing, SanctionCase.HearingScheduled)
_case_step("sanction.hold_hearing", sanction_events.HEARING_HELD, sanction.hold_hearing, SanctionCase.HearingHeld)
_case_step("sanction.decide", sanction_events.PENALTY_DECIDED, sanction.decide, SanctionCase.Decided)
_case_step("sanction.serve", sanction_events.DECISION_SERVED, sanction.serve_decision, SanctionCase.DecisionServed,
           ("institution_id", "late_days"))
_case_step("sanction.execute", sanction_events.PENALTY_EXECUTED, sanction.execute_penalty, SanctionCase.Executed)
_case_step("sanction.close", sanction_events.CASE_CLOSED, sanction.close_case, SanctionCase.Closed)
_case_step("sanction.review", sanction_events.DECISION_REVIEWED, sanction.review, SanctionCase.Reviewed)
_case_step("sanction.publish", sanction_events.PENALTY_PUBLISHED, sanction.publish, SanctionCase.Published,
           ("institution_id", "earliest_repair_on", "publish_until"))
_case_step("sanction.withdraw_publication", sanction_events.PUBLICATION_WITHDRAWN, sanction.withdraw_publication,
           SanctionCase.PublicationWithdrawn, ("institution_id", "late_days"))
_case_step("sanction.end_publication_early", sanction_events.PUBLICATION_ENDED_EARLY, sanction.end_publication_early,
           SanctionCase.PublicationEndedEarly)
_case_step("sanction.expire_publication", sanction_events.PUBLICATION_EXPIRED, sanction.expire_publication,
           SanctionCase.PublicationExpired, ("institution_id", "expired_on"))

# --- credit lists -----------------------------------------------------------------------------
operation(Operation(
    "listing.propose", CreditListing, credit_events.LISTING_PROPOSED, credit_listing.propose,
    lambda cls, id, **record: cls.propose(id, **record), creates=True, computed=("region_code",),
))


def _listing_step(name, event_type, decide, event_class, computed=("institution_id",)):
    operation(Operation(
        name, CreditListing, event_type, decide, lambda entry, **r: entry.record(event_class, **r), computed=computed,
    ))


_listing_step("listing.notify", credit_events.LISTING_NOTICE_SERVED, credit_listing.serve_notice, CreditListing.NoticeServed,
              ("institution_id", "defence_deadline"))
_listing_step("listing.receive_defence", credit_events.LISTING_DEFENCE_RECEIVED, credit_listing.receive_defence,
              CreditListing.DefenceReceived)
_listing_step("listing.decide", credit_events.LISTING_DECIDED, credit_listing.decide, CreditListing.Decided,
              ("institution_id", "expires_on", "early_removal_from"))
_listing_step("listing.publish", credit_events.LISTING_PUBLISHED, credit_listing.publish, CreditListing.Published)
_listing_step("listing.remove_early", credit_events.LISTING_REMOVED_EARLY, credit_listing.remove_early, CreditListing.RemovedEarly)
_listing_step("listing.expire", credit_events.LISTING_EXPIRED, credit_listing.expire, CreditListing.Expired,
              ("institution_id", "expired_on"))

# --- grading ----------------------------------------------------------------------------------
operation(Operation(
    "grading.apply", GradingApplication, grading_events.GRADING_APPLIED, grading.apply,
    lambda cls, id, **record: cls.apply_for(id, **record), creates=True, computed=("region_code", "authority_levels"),
))


def _grading_step(name, event_type, decide, event_class, computed=("institution_id",)):
    operation(Operation(
        name, GradingApplication, event_type, decide, lambda app, **r: app.record(event_class, **r), computed=computed,
    ))


_grading_step("grading.recommend", grading_events.GRADING_RECOMMENDED, grading.recommend, GradingApplication.Recommended)
_grading_step("grading.review_eligibility", grading_events.ELIGIBILITY_REVIEWED, grading.review_eligibility,
              GradingApplication.EligibilityReviewed, ("institution_id", "eligible", "reasons"))
_grading_step("grading.score", grading_events.ASSESSMENT_SCORED, grading.score, GradingApplication.Scored,
              ("institution_id", "total", "level_reached"))
_grading_step("grading.committee", grading_events.COMMITTEE_DECIDED, grading.committee, GradingApplication.CommitteeDecided)
_grading_step("grading.start_publicity", grading_events.PUBLICITY_STARTED, grading.start_publicity,
              GradingApplication.PublicityStarted, ("institution_id", "ends_on"))
_grading_step("grading.close_publicity", grading_events.PUBLICITY_CLOSED, grading.close_publicity, GradingApplication.PublicityClosed)
_grading_step("grading.award", grading_events.GRADE_AWARDED, grading.award, GradingApplication.Awarded,
              ("institution_id", "level", "valid_until"))
_grading_step("grading.downgrade", grading_events.GRADE_DOWNGRADED, grading.downgrade, GradingApplication.Downgraded,
              ("institution_id", "no_upgrade_until"))
_grading_step("grading.revoke", grading_events.GRADE_REVOKED, grading.revoke, GradingApplication.Revoked,
              ("institution_id", "no_application_until"))
_grading_step("grading.lapse", grading_events.GRADE_LAPSED, grading.lapse, GradingApplication.Lapsed,
              ("institution_id", "lapsed_on"))

# --- standards compliance and campaign targets -------------------------------------------------
operation(Operation(
    "compliance.assess", ComplianceAssessment, grading_events.COMPLIANCE_ASSESSED, compliance.assess,
    lambda cls, id, **record: cls.assess(id, **record), creates=True, computed=("region_code",),
))
operation(Operation(
    "campaign.set_target", CampaignTarget, grading_events.CAMPAIGN_TARGET_SET, compliance.set_target,
    lambda cls, id, **record: cls.set(id, **record), creates=True,
))

# --- corrections and retractions, on any record -------------------------------------------------
operation(Operation(
    "record.correct", LedgerAggregate, correction_events.DECISION_CORRECTED, corrections.correct,
    lambda record, **r: record.trigger_event(record.Corrected, **r), computed=("original_event_type", "institution_id"),
))
operation(Operation(
    "record.retract", LedgerAggregate, correction_events.DECISION_RETRACTED, corrections.retract,
    lambda record, **r: record.trigger_event(record.Retracted, **r), computed=("original_event_type", "institution_id"),
))
