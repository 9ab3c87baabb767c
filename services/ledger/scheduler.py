"""Time-driven transitions: what the rules say happens when a date passes, recorded without anyone
calling — overdue hazards now; lapsed grades, expired listings and publications as they land.

Each transition is an ordinary command run as the actor ``system:scheduler`` of the department
responsible, with an idempotency key naming the aggregate and the date it fell due, so running
the scheduler twice (or from two machines) records each transition once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from events.record_kinds import Step
from services.domain.actors import Actor
from services.domain.errors import DomainError
from services.domain.grading import GradingApplication
from services.domain.operations import OPERATIONS
from services.ledger.application import Basis, Command, CommandResult, SupervisionLedger

SYSTEM_USER = "system:scheduler"
LOG = logging.getLogger("eldercare.scheduler")


@dataclass(frozen=True)
class Transition:
    """A time-driven step (its record kind declares when it falls due), who records it, on what
    basis, and which records may be due: those with an event of one of ``candidates``."""

    operation: str
    candidates: tuple[str, ...]
    department: Callable[[Any], str]
    legal_basis: str
    unless: Callable[[Any, SupervisionLedger], bool] = lambda aggregate, ledger: False

    @property
    def step(self) -> Step:
        return OPERATIONS[self.operation].step

    @property
    def aggregate(self) -> type:
        return OPERATIONS[self.operation].aggregate

    def due_date(self, aggregate: Any) -> str | None:
        """The date after which the step falls due, if the record is in a state it follows."""
        state = aggregate.record["state"]
        return self.step.falls_due(state) if state["status"] in self.step.after else None

    def due(self, aggregate: Any, today: date, ledger: SupervisionLedger) -> bool:
        due = self.due_date(aggregate)
        return due is not None and date.fromisoformat(due) < today and not self.unless(aggregate, ledger)


TRANSITIONS = (
    Transition("hazard.mark_overdue", ("HazardRectificationOrdered",), lambda h: h.ordered_by or h.identified_by,
               "整改期限届满未验收销账，台账自动判定逾期（隐患台账“照单销账”）"),
    Transition("institution.mark_handling_overdue", ("InstitutionDiscovered", "UnfiledHandlingUpdated"), lambda i: "civil_affairs",
               "未登记备案机构处置办结时限届满仍未备案，台账自动判定处置逾期（种子文件002：未登记设施明确整改时限和责任人）"),
    Transition("sanction.expire_publication", ("PenaltyPublished",), lambda c: c.department,
               "最长公示期届满，自动停止公示（信用修复相关规定）"),
    Transition("listing.expire", ("CreditListingDecided",), lambda entry: "civil_affairs",
               "列入期限届满，自动移出失信名单（民发〔2019〕103号）"),
    Transition("grading.lapse", ("GradeAwarded",), lambda app: "civil_affairs", "等级有效期届满未重新评定，自动失效",
               unless=lambda app, ledger: _replaced(app, ledger)),
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
            # A mark an officer retracted falls due again (its deadline still passed): the key counts
            # the record's retractions, so the new mark is a new command, not a replay of the old.
            retracted = len(aggregate.record["retracted"])
            key = f"{transition.operation}:{aggregate_id}:{transition.due_date(aggregate)}:{retracted}"
            try:
                result = ledger.execute(transition.operation, Command(actor, basis, {}, key), aggregate.id)
            except DomainError as refused:  # one record's refusal never stops the others' transitions
                log_refusal(transition.operation, aggregate_id, refused)
                continue
            if not result.replayed:
                recorded.append(result)
    return recorded


def log_refusal(operation: str, aggregate_id: str, refused: DomainError) -> None:
    LOG.warning("scheduler: %s on %s refused: %s %s", operation, aggregate_id, refused.code, refused.message_en)
