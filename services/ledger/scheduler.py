"""Time-driven transitions: what the rules say happens when a date passes, recorded without anyone
calling — overdue hazards now; lapsed grades, expired listings and publications as they land.

Each transition is an ordinary command run as the actor ``system:scheduler`` of the department
responsible, with an idempotency key naming the aggregate and the date it fell due, so running
the scheduler twice (or from two machines) records each transition once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.domain.actors import Actor
from services.domain.credit_listing import CreditListing
from services.domain.grading import HOLDING, GradingApplication
from services.domain.hazard import ORDERED, Hazard
from services.domain.sanction import SanctionCase
from services.ledger.application import Basis, Command, CommandResult, SupervisionLedger

SYSTEM_USER = "system:scheduler"


@dataclass(frozen=True)
class Transition:
    operation: str
    aggregate: type
    candidates: tuple[str, ...]  # aggregates with an event of one of these types may be due
    due: Callable[[Any, date, SupervisionLedger], bool]
    due_date: Callable[[Any], str]
    department: Callable[[Any], str]
    legal_basis: str


TRANSITIONS = (
    Transition(
        operation="hazard.mark_overdue",
        aggregate=Hazard,
        candidates=("HazardRectificationOrdered",),
        due=lambda h, today, _: h.status == ORDERED and h.deadline is not None and date.fromisoformat(h.deadline) < today,
        due_date=lambda h: h.deadline,
        department=lambda h: h.ordered_by or h.identified_by,
        legal_basis="整改期限届满未验收销账，台账自动判定逾期（隐患台账“照单销账”）",
    ),
    Transition(
        operation="sanction.expire_publication",
        aggregate=SanctionCase,
        candidates=("PenaltyPublished",),
        due=lambda c, today, _: bool(c.publication) and c.publication["state"] == "published"
        and date.fromisoformat(c.publication["publish_until"]) < today,
        due_date=lambda c: c.publication["publish_until"],
        department=lambda c: c.department,
        legal_basis="最长公示期届满，自动停止公示（信用修复相关规定）",
    ),
    Transition(
        operation="listing.expire",
        aggregate=CreditListing,
        candidates=("CreditListingDecided",),
        due=lambda entry, today, _: entry.active and date.fromisoformat(entry.expires_on) < today,
        due_date=lambda entry: entry.expires_on,
        department=lambda entry: "civil_affairs",
        legal_basis="列入期限届满，自动移出失信名单（民发〔2019〕103号）",
    ),
    Transition(
        operation="grading.lapse",
        aggregate=GradingApplication,
        candidates=("GradeAwarded",),
        due=lambda app, today, ledger: app.status in HOLDING and date.fromisoformat(app.valid_until) < today
        and not _replaced(app, ledger),
        due_date=lambda app: app.valid_until,
        department=lambda app: "civil_affairs",
        legal_basis="等级有效期届满未重新评定，自动失效",
    ),
)


def _replaced(app: GradingApplication, ledger: SupervisionLedger) -> bool:
    """A later award replaced this grade: it does not lapse, it was superseded."""
    others = ledger.standing(app.institution_id).of_type("GradingApplication")
    return any(o.awarded_on and (o.awarded_on, str(o.id)) > (app.awarded_on, str(app.id)) for o in others)


def run_due(ledger: SupervisionLedger, transitions: tuple[Transition, ...] = TRANSITIONS) -> list[CommandResult]:
    """Record every transition that has fallen due by the ledger's today; return what was recorded."""
    today = ledger.today()
    log = ledger.sealer.log
    recorded = []
    for transition in transitions:
        for aggregate_id in log.aggregates_with(transition.candidates):
            aggregate = ledger.aggregate(transition.aggregate, aggregate_id)
            if not transition.due(aggregate, today, ledger):
                continue
            actor = Actor(transition.department(aggregate), "county", aggregate.region_code, SYSTEM_USER)
            basis = Basis(f"系统判定〔{today.isoformat()}〕", transition.legal_basis)
            key = f"{transition.operation}:{aggregate_id}:{transition.due_date(aggregate)}"
            result = ledger.execute(transition.operation, Command(actor, basis, {}, key), aggregate.id)
            if not result.replayed:
                recorded.append(result)
    return recorded
