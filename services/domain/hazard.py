"""The hazard ledger (隐患台账): one aggregate per hazard, and the rules of each step.

identified → rectification ordered (责令限期改正, with a deadline) → rectified (reported, with
evidence) → verified: closed (销账) or not rectified. An order whose deadline passes without the
hazard being closed becomes overdue (the scheduler records it). An overdue *major* hazard escalates
to 责令停业整顿, and then, once the residents are resettled, to 取缔/关停.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from events.checklists import CHECKLIST
from events.hazards import (
    HAZARD_ESCALATED,
    HAZARD_IDENTIFIED,
    HAZARD_OVERDUE,
    HAZARD_RECTIFIED,
    HAZARD_VERIFIED,
    RECTIFICATION_ORDERED,
)
from services.domain.decisions import Context, Decision
from services.domain.errors import Conflict, NotCompetent, RuleViolation
from services.domain.institution import Institution
from services.domain.recorded import LedgerAggregate, Recorded
from services.domain.validation import check_shape, day_of, not_after_today

IDENTIFIED, ORDERED, OVERDUE, RECTIFIED, CLOSED = "identified", "ordered", "overdue", "rectified", "closed"
STATUS_NAMES = {IDENTIFIED: "已发现", ORDERED: "限期整改中", OVERDUE: "逾期未整改", RECTIFIED: "已整改待验收", CLOSED: "已销账"}


class Hazard(LedgerAggregate):
    """State: ``institution_id``, ``region_code``, ``severity``, ``status``, ``deadline``,
    ``identified_by`` and ``ordered_by`` (departments), ``escalations`` (steps taken)."""

    NAME_ZH = "隐患"

    class Identified(Recorded, Aggregate.Created):
        EVENT_TYPE = HAZARD_IDENTIFIED

        def evolve(self, hazard: Hazard) -> None:
            p = self.payload
            hazard.institution_id = p["institution_id"]
            hazard.region_code = p["region_code"]
            hazard.severity = p["severity"]
            hazard.status = IDENTIFIED
            hazard.deadline = None
            hazard.identified_by = self.actor["department"]
            hazard.ordered_by = None
            hazard.escalations = []

    class RectificationOrdered(Recorded, Aggregate.Event):
        EVENT_TYPE = RECTIFICATION_ORDERED

        def evolve(self, hazard: Hazard) -> None:
            hazard.status = ORDERED
            hazard.deadline = self.payload["deadline"]
            hazard.ordered_by = self.actor["department"]

    class Rectified(Recorded, Aggregate.Event):
        EVENT_TYPE = HAZARD_RECTIFIED

        def evolve(self, hazard: Hazard) -> None:
            hazard.status = RECTIFIED

    class Verified(Recorded, Aggregate.Event):
        EVENT_TYPE = HAZARD_VERIFIED

        def evolve(self, hazard: Hazard) -> None:
            if self.payload["outcome"] == "closed":
                hazard.status = CLOSED
            elif hazard.deadline is None:
                hazard.status = IDENTIFIED
            else:
                hazard.status = OVERDUE if self.payload["verified_on"] > hazard.deadline else ORDERED

    class Overdue(Recorded, Aggregate.Event):
        EVENT_TYPE = HAZARD_OVERDUE

        def evolve(self, hazard: Hazard) -> None:
            hazard.status = OVERDUE

    class Escalated(Recorded, Aggregate.Event):
        EVENT_TYPE = HAZARD_ESCALATED

        def evolve(self, hazard: Hazard) -> None:
            hazard.escalations.append(self.payload["step"])

    def correct(self, event_type: str, fields: dict[str, Any]) -> None:
        """The hazard's state keeps its severity and deadline; other fields live in the events."""
        if "severity" in fields:
            self.severity = fields["severity"]
        if "deadline" in fields:
            self.deadline = fields["deadline"]

    # --- recording ----------------------------------------------------------------------------

    @classmethod
    def identify(cls, id: UUID, **record: Any) -> Hazard:
        return cls._create(cls.Identified, id=id, **record)

    def order(self, **record: Any) -> None:
        self.trigger_event(self.RectificationOrdered, **record)

    def rectify(self, **record: Any) -> None:
        self.trigger_event(self.Rectified, **record)

    def verify(self, **record: Any) -> None:
        self.trigger_event(self.Verified, **record)

    def mark_overdue(self, **record: Any) -> None:
        self.trigger_event(self.Overdue, **record)

    def escalate(self, **record: Any) -> None:
        self.trigger_event(self.Escalated, **record)

    def require_status(self, *allowed: str, action_zh: str) -> None:
        if self.status not in allowed:
            raise Conflict(
                "HAZARD_STATE_INVALID",
                f"隐患当前状态为“{STATUS_NAMES[self.status]}”，不能{action_zh}",
                f"the hazard is {self.status}; allowed only when {', '.join(allowed)}",
                status=self.status,
                allowed=list(allowed),
            )


# --- rules ------------------------------------------------------------------------------------


def _institution_of(ctx: Context, institution_id: str) -> Institution:
    return ctx.lookup.aggregate(Institution, institution_id)


def _require_handler(ctx: Context, hazard: Hazard) -> None:
    """Orders and verifications are for the department that found the hazard, the one that
    ordered its rectification, or civil affairs (the supervising department, 66号令)."""
    ctx.actor.require_role("officer")
    allowed = {"civil_affairs", hazard.identified_by, hazard.ordered_by} - {None}
    if ctx.actor.department not in allowed:
        ctx.actor.require_department(*sorted(allowed))
    ctx.actor.require_jurisdiction(hazard.region_code)


def _date_of(request: dict[str, Any], name: str) -> date:
    return date.fromisoformat(request[name])


def identify(ctx: Context) -> Decision:
    """Any supervising department may record a hazard it found at an institution in its area."""
    ctx.actor.require_role("officer")
    check_shape(HAZARD_IDENTIFIED.fields, ctx.request, ("region_code",))
    institution = _institution_of(ctx, ctx.request["institution_id"])
    region = institution.profile["region_code"]
    ctx.actor.require_jurisdiction(region)
    criterion = CHECKLIST.get(ctx.request["criterion_ref"])
    if criterion is None:
        raise RuleViolation(
            "CRITERION_UNKNOWN",
            f"判定依据条目 {ctx.request['criterion_ref']} 不在检查清单参考目录中",
            f"criterion {ctx.request['criterion_ref']} is not in the checklist reference data",
        )
    if criterion.major_hazard and ctx.request["severity"] != "major":
        raise RuleViolation(
            "SEVERITY_MISMATCH",
            f"“{criterion.title_zh}”属于重大事故隐患判定标准情形，隐患等级应为重大",
            "a criterion of the 2023 major-hazard standard makes the hazard major",
        )
    identified_on = day_of(ctx, "identified_on")
    version = ctx.rules.in_force(identified_on)
    payload = dict(ctx.request, region_code=region)
    return Decision(payload, identified_on.isoformat(), version.name)


def order(ctx: Context) -> Decision:
    """责令限期改正: a deadline no earlier than the order, on a hazard not yet rectified or closed."""
    hazard: Hazard = ctx.target
    hazard.require_status(IDENTIFIED, OVERDUE, action_zh="责令限期整改")
    _require_handler(ctx, hazard)
    check_shape(RECTIFICATION_ORDERED.fields, ctx.request, ("institution_id",))
    ordered_on, deadline = _date_of(ctx.request, "ordered_on"), _date_of(ctx.request, "deadline")
    not_after_today(ordered_on, ctx.today, "ordered_on")
    if deadline < ordered_on:
        raise RuleViolation("DEADLINE_BEFORE_ORDER", "整改期限不能早于责令日期", "the deadline is before the order")
    version = ctx.rules.in_force(ordered_on)
    return Decision(dict(ctx.request, institution_id=hazard.institution_id), ordered_on.isoformat(), version.name)


def rectify(ctx: Context) -> Decision:
    hazard: Hazard = ctx.target
    hazard.require_status(IDENTIFIED, ORDERED, OVERDUE, action_zh="登记整改完成")
    _require_handler(ctx, hazard)
    check_shape(HAZARD_RECTIFIED.fields, ctx.request, ("institution_id",))
    rectified_on = day_of(ctx, "rectified_on")
    version = ctx.rules.in_force(rectified_on)
    return Decision(dict(ctx.request, institution_id=hazard.institution_id), rectified_on.isoformat(), version.name)


def verify(ctx: Context) -> Decision:
    """销账 only after a reported rectification has been checked ("照单销账")."""
    hazard: Hazard = ctx.target
    hazard.require_status(RECTIFIED, action_zh="验收销账")
    _require_handler(ctx, hazard)
    check_shape(HAZARD_VERIFIED.fields, ctx.request, ("institution_id",))
    verified_on = day_of(ctx, "verified_on")
    version = ctx.rules.in_force(verified_on)
    return Decision(dict(ctx.request, institution_id=hazard.institution_id), verified_on.isoformat(), version.name)


def mark_overdue(ctx: Context) -> Decision:
    """Recorded by the scheduler only, the day after a deadline that passed with the hazard open."""
    hazard: Hazard = ctx.target
    hazard.require_status(ORDERED, action_zh="判定逾期")
    if not ctx.actor.user.startswith("system:"):
        raise NotCompetent("SYSTEM_ONLY", "逾期判定由台账调度程序自动记录", "only the ledger's scheduler records this")
    deadline = date.fromisoformat(hazard.deadline)
    if ctx.today <= deadline:
        raise RuleViolation("NOT_YET_DUE", f"整改期限 {hazard.deadline} 尚未届满", f"the deadline {hazard.deadline} has not passed")
    version = ctx.rules.in_force(ctx.today)
    payload = {"institution_id": hazard.institution_id, "deadline": hazard.deadline, "detected_on": ctx.today.isoformat()}
    return Decision(payload, ctx.today.isoformat(), version.name)


def escalate(ctx: Context) -> Decision:
    """An overdue major hazard: 责令停业整顿 first; 取缔/关停 only after that and once the
    residents are resettled (66号令; Hebei district plan)."""
    hazard: Hazard = ctx.target
    ctx.actor.require_role("officer")
    ctx.actor.require_department("civil_affairs")
    ctx.actor.require_jurisdiction(hazard.region_code)
    check_shape(HAZARD_ESCALATED.fields, ctx.request, ("institution_id",))
    if hazard.severity != "major":
        raise RuleViolation("ESCALATION_NOT_ALLOWED", "只有重大隐患逾期不改方可升级处置", "only a major hazard escalates")
    hazard.require_status(OVERDUE, action_zh="升级处置")
    step = ctx.request["step"]
    if step in hazard.escalations:
        raise Conflict("ALREADY_ESCALATED", "该升级措施已作出", "this escalation step was already taken", step=step)
    if step == "closure_ordered":
        if "suspension_ordered" not in hazard.escalations:
            raise RuleViolation(
                "ESCALATION_ORDER", "应先责令停业整顿，逾期仍不改正的方可取缔或关停", "suspension comes before closure"
            )
        standing = ctx.lookup.standing(hazard.institution_id)
        if not standing.residents_resettled:
            raise RuleViolation(
                "RESIDENTS_NOT_RESETTLED", "须在妥善安置老年人后方可取缔或关停", "residents must be resettled before closure"
            )
    decided_on = day_of(ctx, "decided_on")
    if step == "suspension_ordered":
        rectify_by = ctx.request.get("rectify_by")
        if not rectify_by or date.fromisoformat(rectify_by) < decided_on:
            raise RuleViolation("DEADLINE_BEFORE_ORDER", "责令停业整顿须载明不早于决定日期的整顿期限（rectify_by）",
                                "a suspension states its rectification deadline (rectify_by), not before the decision")
        ctx.lookup.aggregate(Institution, hazard.institution_id).require_status("filed", action_zh="责令停业整顿")
    version = ctx.rules.in_force(decided_on)
    return Decision(dict(ctx.request, institution_id=hazard.institution_id), decided_on.isoformat(), version.name)


def suspension_follows(ctx: Context, decision: Decision, record: dict[str, Any], hazard: Hazard) -> list[Any]:
    """Escalating to 责令停业整顿 suspends the institution in the same transaction."""
    if decision.payload["step"] != "suspension_ordered":
        return []
    institution = ctx.lookup.aggregate(Institution, hazard.institution_id)
    payload = {"ordered_on": decision.payload["decided_on"], "reason": decision.payload["reason"],
               "hazard_id": str(hazard.id), "rectify_by": decision.payload["rectify_by"]}
    institution.record(Institution.SuspensionOrdered, **dict(record, payload=payload))
    return [institution]
