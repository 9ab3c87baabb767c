"""Administrative penalties (行政处罚): one SanctionCase aggregate per case, its procedure, and the
publication of its decision.

filed (立案) → noticed (告知, with statement/defence and, where due, hearing rights) →
[hearing requested → scheduled → held] → decided → served → executed → closed; a decision may be
changed or revoked by reconsideration or litigation. Publication: within 20 working days of the
decision (warning-only penalties are not published), for a period fixed by the rules in force on
the decision date; withdrawn within 3 days of a change or revocation; stopped early (信用修复)
only after the minimum period, with obligations met, never for suspension or closure penalties.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from events import standing as standing_facts
from events.sanctions import (
    CLOSED,
    DECIDED,
    DECISION_STATES,
    EXECUTED,
    FILED,
    HEARING_HELD_,
    HEARING_REQUESTED_,
    HEARING_SCHEDULED_,
    NOTICED,
    SANCTION_CASE,
    SERVED,
)
from events.working_days import working_day_deadline, working_days_after
from services.domain.decisions import Context, Decision
from services.domain.errors import Conflict, RuleViolation
from services.domain.institution import Institution
from services.domain.recorded import LedgerAggregate
from services.domain.validation import day_of, not_after_today

# 谁主管谁监管: the department competent for each ground.
COMPETENT_DEPARTMENT = {
    **{f"MCA66-46.{i}": "civil_affairs" for i in range(1, 10)},
    "FIRE": "fire_rescue", "FOOD": "market_regulation", "SPECIAL_EQUIPMENT": "market_regulation",
    "MEDICAL": "health", "BUILDING": "housing", "WORK_SAFETY": "emergency", "TCM": "tcm", "LABOUR": "hr",
}
SAFETY_GROUNDS = ("FIRE", "SPECIAL_EQUIPMENT", "WORK_SAFETY")
# Penalties that carry the right to a hearing (第63条) and may never be published for less than
# their full period (no 信用修复).
HEARING_TYPES = (
    "qualification_downgrade", "license_revocation", "business_restriction", "suspension_ordered", "closure_ordered",
    "practice_restriction",
)
SERIOUS_TYPES = HEARING_TYPES
UNPUBLISHED_TYPES = ("warning",)
CLOSING_OUTCOMES = {"executed": "执行完毕", "no_penalty": "不予处罚", "revoked": "处罚决定被撤销"}

__all__ = ["CLOSED", "DECIDED", "DECISION_STATES", "EXECUTED", "FILED", "HEARING_HELD_", "HEARING_REQUESTED_",
           "HEARING_SCHEDULED_", "NOTICED", "SERVED", "SanctionCase"]


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class SanctionCase(LedgerAggregate):
    """State (events/sanctions.py ``SANCTION_CASE``): ``institution_id``, ``region_code``,
    ``ground``, ``department``, ``status``, ``filed_on``, ``decide_by``, ``notice`` (intended
    penalties and deadlines), ``decision`` (penalties and date), ``review`` (outcome and date),
    ``publication`` (state and dates)."""

    KIND = SANCTION_CASE
    NAME_ZH = SANCTION_CASE.title_zh

    def require(self, *allowed: str, action_zh: str) -> None:
        if self.status not in allowed:
            raise Conflict(
                "CASE_STATE_INVALID", f"案件当前处于“{SANCTION_CASE.state_name(self.status)}”阶段，不能{action_zh}",
                f"the case is {self.status}; allowed only when {', '.join(allowed)}", status=self.status,
            )

    @property
    def effective_penalties(self) -> list[dict[str, Any]]:
        """The penalties that stand: none if the decision was revoked or found unlawful or void."""
        return standing_facts.effective_penalties(self.record["state"])


# --- rules ------------------------------------------------------------------------------------------


def _day(request: dict[str, Any], name: str) -> date:
    return date.fromisoformat(request[name])


def _require_case_department(ctx: Context, case: SanctionCase) -> None:
    ctx.actor.require_role("officer")
    ctx.actor.require_department(case.department)
    ctx.actor.require_jurisdiction(case.region_code)


def _amount(penalty: dict[str, Any]) -> Decimal:
    return Decimal(penalty.get("amount") or "0")


def _competent_for(ctx: Context, ground: str) -> str:
    """The department competent for the ground, over the institution's region: its region code."""
    ctx.actor.require_role("officer")
    competent = COMPETENT_DEPARTMENT[ground]
    if ctx.actor.department != competent:
        ctx.actor.require_department(competent)
    institution = ctx.lookup.aggregate(Institution, ctx.request["institution_id"])
    region = institution.profile["region_code"]
    ctx.actor.require_jurisdiction(region)
    return region


def file_case(ctx: Context) -> Decision:
    """立案 by the department competent for the ground, within its jurisdiction."""
    region = _competent_for(ctx, ctx.request["ground"])
    filed_on = day_of(ctx, "filed_on")
    version = ctx.rules.in_force(filed_on, region)
    decide_by = filed_on + timedelta(days=version["sanction.decide_within_days"])
    payload = dict(ctx.request, region_code=region, decide_by=decide_by.isoformat())
    return Decision(payload, filed_on.isoformat(), version.name)


def _check_penalties(ground: str, penalties: list[dict[str, Any]], version: Any) -> None:
    if not penalties:
        raise RuleViolation("PENALTY_MISSING", "应载明处罚种类", "at least one penalty")
    for p in penalties:
        if p["type"] == "fine" and _amount(p) <= 0:
            raise RuleViolation("FINE_AMOUNT_MISSING", "罚款应载明金额", "a fine states its amount")
    if ground.startswith("MCA66-46"):
        limit = Decimal(version["sanction.max_fine_66_46"])
        for p in penalties:
            if p["type"] == "fine" and _amount(p) > limit:
                raise RuleViolation(
                    "FINE_ABOVE_LIMIT", f"依66号令第46条，罚款不得超过{limit}元", f"66号令 §46 fines are at most {limit} yuan",
                    limit=str(limit),
                )


def serve_notice(ctx: Context) -> Decision:
    """告知: the intended penalty with facts and basis, the statement/defence period and, for large
    fines and suspension-type penalties, the 5-day window to ask for a hearing (第44、63、64条)."""
    case: SanctionCase = ctx.target
    _require_case_department(ctx, case)
    served_on = day_of(ctx, "served_on")
    if served_on < date.fromisoformat(case.filed_on):
        raise RuleViolation("DATE_ORDER_INVALID", "告知日期不能早于立案日期", "the notice precedes the case")
    version = ctx.rules.in_force(date.fromisoformat(case.filed_on), case.region_code)
    penalties = ctx.request["penalties"]
    _check_penalties(case.ground, penalties, version)
    threshold = Decimal(version["sanction.hearing_fine_threshold"])
    eligible = any(p["type"] in HEARING_TYPES or (p["type"] == "fine" and _amount(p) >= threshold) for p in penalties)
    payload = dict(
        ctx.request, institution_id=case.institution_id, hearing_eligible=eligible,
        statement_deadline=(served_on + timedelta(days=version["sanction.statement_days"])).isoformat(),
    )
    if eligible:
        payload["hearing_request_deadline"] = (served_on + timedelta(days=version["sanction.hearing_request_days"])).isoformat()
    return Decision(payload, served_on.isoformat(), version.name)


def request_hearing(ctx: Context) -> Decision:
    case: SanctionCase = ctx.target
    _require_case_department(ctx, case)
    if not case.notice["hearing_eligible"]:
        raise RuleViolation("NO_HEARING_RIGHT", "拟作出的处罚不属于应告知听证权利的情形", "this penalty carries no hearing right")
    requested_on = day_of(ctx, "requested_on")
    if requested_on > date.fromisoformat(case.notice["hearing_request_deadline"]):
        raise RuleViolation(
            "HEARING_REQUEST_LATE", f"听证申请期限已于 {case.notice['hearing_request_deadline']} 届满（告知后5日内）",
            "the 5-day window to request a hearing has closed",
        )
    version = ctx.rules.in_force(date.fromisoformat(case.filed_on), case.region_code)
    return Decision(dict(ctx.request, institution_id=case.institution_id), requested_on.isoformat(), version.name)


def schedule_hearing(ctx: Context) -> Decision:
    case: SanctionCase = ctx.target
    _require_case_department(ctx, case)
    notified_on, hearing_on = _day(ctx.request, "notified_on"), _day(ctx.request, "hearing_on")
    not_after_today(notified_on, ctx.today, "notified_on")
    version = ctx.rules.in_force(date.fromisoformat(case.filed_on), case.region_code)
    days = version["sanction.hearing_notice_days"]
    if hearing_on < notified_on + timedelta(days=days):
        raise RuleViolation(
            "HEARING_NOTICE_TOO_SHORT", f"应在举行听证的{days}日前通知当事人", f"the hearing is notified {days} days ahead",
            earliest=(notified_on + timedelta(days=days)).isoformat(),
        )
    return Decision(dict(ctx.request, institution_id=case.institution_id), notified_on.isoformat(), version.name)


def hold_hearing(ctx: Context) -> Decision:
    case: SanctionCase = ctx.target
    _require_case_department(ctx, case)
    held_on = day_of(ctx, "held_on")
    if held_on < date.fromisoformat(case.hearing_on):
        raise RuleViolation("DATE_ORDER_INVALID", "听证不能早于通知的听证日期", "held before the notified date")
    version = ctx.rules.in_force(date.fromisoformat(case.filed_on), case.region_code)
    return Decision(dict(ctx.request, institution_id=case.institution_id), held_on.isoformat(), version.name)


def decide(ctx: Context) -> Decision:
    """The decision: after the statement period (and the hearing, if one was asked for), within
    90 days of filing unless the extension is approved, never heavier than notified (第45、60条)."""
    case: SanctionCase = ctx.target
    _require_case_department(ctx, case)
    decided_on = day_of(ctx, "decided_on")
    version = ctx.rules.in_force(date.fromisoformat(case.filed_on), case.region_code)
    waits = [case.notice["statement_deadline"]]
    if case.status == NOTICED and case.notice["hearing_eligible"]:
        waits.append(case.notice["hearing_request_deadline"])
    if decided_on <= date.fromisoformat(max(waits)):
        raise RuleViolation(
            "RIGHTS_PERIOD_OPEN", f"陈述申辩（听证申请）期限至 {max(waits)} 届满后方可作出决定",
            f"the statement/hearing window runs until {max(waits)}", open_until=max(waits),
        )
    if decided_on > date.fromisoformat(case.decide_by) and not ctx.request.get("extension_approved_by"):
        raise RuleViolation(
            "DECISION_OVERDUE", f"应于立案后90日内（{case.decide_by} 前）作出决定；延期须经批准（extension_approved_by）",
            f"decide within 90 days of filing ({case.decide_by}) unless the extension is approved",
        )
    penalties = ctx.request["penalties"]
    _check_penalties(case.ground, penalties, version)
    intended = {p["type"]: _amount(p) for p in case.notice["penalties"]}
    for p in penalties:
        if p["type"] not in intended or _amount(p) > intended[p["type"]]:
            raise RuleViolation(
                "PENALTY_HEAVIER_THAN_NOTIFIED", "处罚决定不得重于告知的处罚（《行政处罚法》第四十五条）",
                "the decision may not be heavier than the notified penalty",
            )
    claims = (("decision_no", ctx.request["decision_no"]),)
    return Decision(dict(ctx.request, institution_id=case.institution_id), decided_on.isoformat(), version.name, claims)


def serve_decision(ctx: Context) -> Decision:
    case: SanctionCase = ctx.target
    _require_case_department(ctx, case)
    served_on = day_of(ctx, "served_on")
    decided_on = date.fromisoformat(case.decision["decided_on"])
    if served_on < decided_on:
        raise RuleViolation("DATE_ORDER_INVALID", "送达日期不能早于决定日期", "served before the decision")
    version = ctx.rules.in_force(date.fromisoformat(case.filed_on), case.region_code)
    late = max(0, (served_on - decided_on).days - version["sanction.service_within_days"])
    payload = dict(ctx.request, institution_id=case.institution_id, late_days=late)
    return Decision(payload, served_on.isoformat(), version.name)


def execute_penalty(ctx: Context) -> Decision:
    case: SanctionCase = ctx.target
    _require_case_department(ctx, case)
    executed_on = day_of(ctx, "executed_on")
    version = ctx.rules.in_force(date.fromisoformat(case.filed_on), case.region_code)
    return Decision(dict(ctx.request, institution_id=case.institution_id), executed_on.isoformat(), version.name)


def close_case(ctx: Context) -> Decision:
    case: SanctionCase = ctx.target
    _require_case_department(ctx, case)
    outcome = ctx.request["outcome"]
    allowed = {"executed": (EXECUTED,), "no_penalty": (FILED, NOTICED, HEARING_HELD_), "revoked": DECISION_STATES}[outcome]
    case.require(*allowed, action_zh=f"以“{CLOSING_OUTCOMES[outcome]}”结案")
    if outcome == "revoked" and not (case.review and case.review["outcome"] != "changed"):
        raise RuleViolation("NOT_REVOKED", "处罚决定未被撤销，不能以撤销结案", "the decision was not revoked")
    closed_on = day_of(ctx, "closed_on")
    version = ctx.rules.in_force(date.fromisoformat(case.filed_on), case.region_code)
    return Decision(dict(ctx.request, institution_id=case.institution_id), closed_on.isoformat(), version.name)


def review(ctx: Context) -> Decision:
    """Reconsideration or litigation changed, revoked or voided the decision."""
    case: SanctionCase = ctx.target
    _require_case_department(ctx, case)
    decided_on = day_of(ctx, "decided_on")
    if decided_on < date.fromisoformat(case.decision["decided_on"]):
        raise RuleViolation("DATE_ORDER_INVALID", "复议或判决日期不能早于处罚决定", "the review precedes the decision")
    changed = ctx.request["outcome"] == "changed"
    if changed != bool(ctx.request["penalties"]):
        raise RuleViolation(
            "REVIEW_PENALTIES_INVALID", "决定被变更的须载明变更后的处罚；被撤销或确认违法、无效的不载明处罚",
            "a changed decision states the new penalties; a revoked one states none",
        )
    version = ctx.rules.in_force(date.fromisoformat(case.filed_on), case.region_code)
    return Decision(dict(ctx.request, institution_id=case.institution_id), decided_on.isoformat(), version.name)


# --- publication ----------------------------------------------------------------------------------


def publish(ctx: Context) -> Decision:
    case: SanctionCase = ctx.target
    _require_case_department(ctx, case)
    if case.publication is not None:
        raise Conflict("ALREADY_PUBLISHED", "该处罚信息已公示", "this decision was already published")
    penalties = case.effective_penalties
    if not penalties:
        raise RuleViolation("DECISION_NOT_IN_FORCE", "处罚决定已被撤销或确认违法、无效，不予公示", "the decision no longer stands")
    if all(p["type"] in UNPUBLISHED_TYPES for p in penalties):
        raise RuleViolation("WARNING_NOT_PUBLISHED", "仅给予警告的行政处罚信息不予公示", "warning-only penalties are not published")
    klass = ctx.request["publication_class"]
    if any(p["type"] in SERIOUS_TYPES for p in penalties) and klass != "serious":
        raise RuleViolation(
            "PUBLICATION_CLASS_INVALID", "责令停产停业、吊销许可等处罚属于严重失信信息", "suspension-type penalties are serious",
        )
    decided_on = date.fromisoformat(case.decision["decided_on"])
    version = ctx.rules.in_force(decided_on, case.region_code)
    published_on = day_of(ctx, "published_on")
    if published_on < decided_on:
        raise RuleViolation("DATE_ORDER_INVALID", "公示日期不能早于决定日期", "published before the decision")
    due = working_day_deadline(decided_on, version["sanction.publish_within_working_days"]).due
    late = working_days_after(due, published_on)
    if late and not ctx.request.get("late_reason"):
        raise RuleViolation(
            "PUBLICATION_LATE", f"应于决定后20个工作日内（{due.isoformat()} 前）公示，已逾期{late}个工作日，请说明原因",
            f"publish within 20 working days ({due.isoformat()}); {late} late: give late_reason",
            publish_due_by=due.isoformat(),
        )
    periods = version["publication.periods"]
    span = periods[klass]
    if span is None:
        raise RuleViolation(
            "MINOR_NOT_PUBLISHED", f"依 {version.name} 规则，轻微失信信息不予公示", f"under {version.name} minor entries are not published",
        )
    if klass == "minor" and periods.get("minor_only_where_necessary") and not ctx.request.get("necessity_reason"):
        raise RuleViolation(
            "MINOR_NOT_PUBLISHED", f"依 {version.name} 规则，轻微失信信息原则上不予公示；确需公示的，请在 necessity_reason 中说明理由（最长公示{span[1]}个月）",
            f"under {version.name} minor entries are published only where necessary: give necessity_reason "
            f"(at most {span[1]} months)",
        )
    minimum, maximum = span
    if case.ground in SAFETY_GROUNDS and periods.get("safety_minimum_months"):
        minimum = max(minimum, periods["safety_minimum_months"])
    payload = dict(
        ctx.request, institution_id=case.institution_id,
        earliest_repair_on=add_months(decided_on, minimum).isoformat(), publish_until=add_months(decided_on, maximum).isoformat(),
    )
    return Decision(payload, published_on.isoformat(), version.name)


def withdraw_publication(ctx: Context) -> Decision:
    """Within 3 days of the decision being changed or revoked, with the reason (第48条)."""
    case: SanctionCase = ctx.target
    _require_case_department(ctx, case)
    if not case.publication or case.publication["state"] != "published":
        raise Conflict("NOT_PUBLISHED", "该处罚信息未在公示中", "the decision is not being published")
    if case.review is None:
        raise RuleViolation("NOT_REVIEWED", "处罚决定未被变更或撤销，不能撤回公示", "only a changed or revoked decision is withdrawn")
    withdrawn_on = day_of(ctx, "withdrawn_on")
    version = ctx.rules.in_force(date.fromisoformat(case.filed_on), case.region_code)
    late = max(0, (withdrawn_on - date.fromisoformat(case.review["decided_on"])).days - version["sanction.withdraw_within_days"])
    payload = dict(ctx.request, institution_id=case.institution_id, late_days=late)
    return Decision(payload, withdrawn_on.isoformat(), version.name)


def end_publication_early(ctx: Context) -> Decision:
    """信用修复: after the minimum period, obligations fulfilled, a credit undertaking given; never
    for suspension, closure or other serious penalties."""
    case: SanctionCase = ctx.target
    _require_case_department(ctx, case)
    if not case.publication or case.publication["state"] != "published":
        raise Conflict("NOT_PUBLISHED", "该处罚信息未在公示中", "the decision is not being published")
    if any(p["type"] in SERIOUS_TYPES for p in case.effective_penalties):
        raise RuleViolation(
            "NO_EARLY_STOP", "责令停产停业、吊销许可、限制从业等处罚信息不得提前停止公示", "serious penalties are never repaired early",
        )
    if case.status not in (EXECUTED, CLOSED):
        raise RuleViolation("OBLIGATIONS_NOT_MET", "处罚尚未履行完毕，不能信用修复", "the penalty is not yet fulfilled")
    ended_on = day_of(ctx, "ended_on")
    if ended_on < date.fromisoformat(case.publication["earliest_repair_on"]):
        raise RuleViolation(
            "MINIMUM_PERIOD_NOT_SERVED", f"最短公示期至 {case.publication['earliest_repair_on']} 届满后方可信用修复",
            "the minimum publication period has not passed",
        )
    version = ctx.rules.in_force(ended_on, case.region_code)
    return Decision(dict(ctx.request, institution_id=case.institution_id), ended_on.isoformat(), version.name)


def expire_publication(ctx: Context) -> Decision:
    case: SanctionCase = ctx.target
    if not case.publication or case.publication["state"] != "published":
        raise Conflict("NOT_PUBLISHED", "该处罚信息未在公示中", "the decision is not being published")
    until = date.fromisoformat(case.publication["publish_until"])
    if ctx.today <= until:
        raise RuleViolation("NOT_YET_DUE", f"公示期至 {until.isoformat()} 届满", f"published until {until.isoformat()}")
    payload = {"institution_id": case.institution_id, "expired_on": ctx.today.isoformat()}
    return Decision(payload, ctx.today.isoformat(), ctx.rules.in_force(ctx.today, case.region_code).name)


def import_decision(ctx: Context) -> Decision:
    """A penalty decided before the ledger, from an imported register (never a decision made now):
    the department competent for its ground, over the institution's region, records it; the
    penalties are checked against the rules of its date."""
    ground = ctx.request.get("ground")
    if not ground:
        raise RuleViolation("IMPORT_GROUND_MISSING", "导入的处罚决定须载明违法情形类别", "an imported decision states its ground")
    region = _competent_for(ctx, ground)
    decided_on = day_of(ctx, "decided_on")
    filed_on = ctx.request.get("filed_on")
    if filed_on and date.fromisoformat(filed_on) > decided_on:
        raise RuleViolation("DATE_ORDER_INVALID", "立案日期不能晚于决定日期", "filed after the decision")
    version = ctx.rules.in_force(decided_on, region)
    _check_penalties(ground, ctx.request["penalties"], version)
    claims = (("decision_no", ctx.request["decision_no"]),)
    return Decision(dict(ctx.request, region_code=region), decided_on.isoformat(), version.name, claims)
