"""The hazard ledger (隐患台账): one aggregate per hazard, and the rules of each step.

identified → rectification ordered (责令限期改正, with a deadline) → rectified (reported, with
evidence) → verified: closed (销账) or not rectified. An order whose deadline passes without the
hazard being closed becomes overdue (the scheduler records it). An overdue *major* hazard escalates
to 责令停业整顿, and then, once the residents are resettled, to 取缔/关停.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from events.checklists import CHECKLIST
from events.hazards import CLOSED, HAZARD, IDENTIFIED, ORDERED, OVERDUE, RECTIFIED
from services.domain.decisions import Context, Decision
from services.domain.errors import Conflict, RuleViolation
from services.domain.institution import Institution
from services.domain.recorded import LedgerAggregate
from services.domain.validation import day_of, not_after_today

__all__ = ["CLOSED", "IDENTIFIED", "ORDERED", "OVERDUE", "RECTIFIED", "Hazard"]


class Hazard(LedgerAggregate):
    """State (events/hazards.py ``HAZARD``): ``institution_id``, ``region_code``, ``severity``,
    ``status``, ``deadline``, ``identified_by`` and ``ordered_by`` (departments), ``escalations``."""

    KIND = HAZARD
    NAME_ZH = HAZARD.title_zh


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
    version = ctx.rules.in_force(identified_on, region)
    payload = dict(ctx.request, region_code=region)
    return Decision(payload, identified_on.isoformat(), version.name)


def order(ctx: Context) -> Decision:
    """责令限期改正: a deadline no earlier than the order, on a hazard not yet rectified or closed."""
    hazard: Hazard = ctx.target
    _require_handler(ctx, hazard)
    ordered_on, deadline = _date_of(ctx.request, "ordered_on"), _date_of(ctx.request, "deadline")
    not_after_today(ordered_on, ctx.today, "ordered_on")
    if deadline < ordered_on:
        raise RuleViolation("DEADLINE_BEFORE_ORDER", "整改期限不能早于责令日期", "the deadline is before the order")
    version = ctx.rules.in_force(ordered_on, hazard.region_code)
    return Decision(dict(ctx.request, institution_id=hazard.institution_id), ordered_on.isoformat(), version.name)


def rectify(ctx: Context) -> Decision:
    hazard: Hazard = ctx.target
    _require_handler(ctx, hazard)
    rectified_on = day_of(ctx, "rectified_on")
    version = ctx.rules.in_force(rectified_on, hazard.region_code)
    return Decision(dict(ctx.request, institution_id=hazard.institution_id), rectified_on.isoformat(), version.name)


def verify(ctx: Context) -> Decision:
    """销账 only after a reported rectification has been checked ("照单销账")."""
    hazard: Hazard = ctx.target
    _require_handler(ctx, hazard)
    verified_on = day_of(ctx, "verified_on")
    version = ctx.rules.in_force(verified_on, hazard.region_code)
    return Decision(dict(ctx.request, institution_id=hazard.institution_id), verified_on.isoformat(), version.name)


def mark_overdue(ctx: Context) -> Decision:
    """Recorded by the scheduler only, the day after a deadline that passed with the hazard open."""
    hazard: Hazard = ctx.target
    deadline = date.fromisoformat(hazard.deadline)
    if ctx.today <= deadline:
        raise RuleViolation("NOT_YET_DUE", f"整改期限 {hazard.deadline} 尚未届满", f"the deadline {hazard.deadline} has not passed")
    version = ctx.rules.in_force(ctx.today, hazard.region_code)
    payload = {"institution_id": hazard.institution_id, "deadline": hazard.deadline, "detected_on": ctx.today.isoformat()}
    return Decision(payload, ctx.today.isoformat(), version.name)


def escalate(ctx: Context) -> Decision:
    """An overdue major hazard: 取缔/关停 only once the residents are resettled, and — where the rule
    table says so (nationally; Tianjin's Hebei district plan) — only after 责令停业整顿; where a
    region's plan closes a home that refuses its rectification order by joint enforcement
    (Zhenjiang, Sanming), without a suspension first."""
    hazard: Hazard = ctx.target
    ctx.actor.require_role("officer")
    ctx.actor.require_department("civil_affairs")
    ctx.actor.require_jurisdiction(hazard.region_code)
    if hazard.severity != "major":
        raise RuleViolation("ESCALATION_NOT_ALLOWED", "只有重大隐患逾期不改方可升级处置", "only a major hazard escalates")
    step = ctx.request["step"]
    if step in hazard.escalations:
        raise Conflict("ALREADY_ESCALATED", "该升级措施已作出", "this escalation step was already taken", step=step)
    decided_on = day_of(ctx, "decided_on")
    version = ctx.rules.in_force(decided_on, hazard.region_code)
    if step == "closure_ordered":
        if version["hazard.closure_needs_suspension_first"] and "suspension_ordered" not in hazard.escalations:
            raise RuleViolation(
                "ESCALATION_ORDER", "应先责令停业整顿，逾期仍不改正的方可取缔或关停", "suspension comes before closure"
            )
        standing = ctx.lookup.standing(hazard.institution_id)
        if not standing.residents_resettled:
            raise RuleViolation(
                "RESIDENTS_NOT_RESETTLED", "须在妥善安置老年人后方可取缔或关停", "residents must be resettled before closure"
            )
    if step == "suspension_ordered":
        rectify_by = ctx.request.get("rectify_by")
        if not rectify_by or date.fromisoformat(rectify_by) < decided_on:
            raise RuleViolation("DEADLINE_BEFORE_ORDER", "责令停业整顿须载明不早于决定日期的整顿期限（rectify_by）",
                                "a suspension states its rectification deadline (rectify_by), not before the decision")
        ctx.lookup.aggregate(Institution, hazard.institution_id).require_status("filed", action_zh="责令停业整顿")
    return Decision(dict(ctx.request, institution_id=hazard.institution_id), decided_on.isoformat(), version.name)


def suspension_follows(ctx: Context, decision: Decision, record: dict[str, Any], hazard: Hazard) -> list[Any]:
    """Escalating to 责令停业整顿 suspends the institution in the same transaction."""
    if decision.payload["step"] != "suspension_ordered":
        return []
    institution = ctx.lookup.aggregate(Institution, hazard.institution_id)
    payload = {"ordered_on": decision.payload["decided_on"], "reason": decision.payload["reason"],
               "hazard_id": str(hazard.id), "rectify_by": decision.payload["rectify_by"]}
    institution.decide("InstitutionSuspensionOrdered", **dict(record, payload=payload))
    return [institution]
