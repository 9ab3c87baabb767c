"""Institution lifecycle rules after registration: change filing, suspension and resumption,
关停并转 with the resettlement plan, rural legal-person registration, 公建民营 contracts and the
handling of known-unfiled institutions. All are civil affairs' decisions within its jurisdiction;
a change filing goes to the authority the institution files with.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from events.lifecycle import day_after, handling_deadline
from services.domain.credit_code import validate_credit_code
from services.domain.decisions import Context, Decision
from services.domain.errors import RuleViolation
from services.domain.hazard import Hazard
from services.domain.institution import Institution
from services.domain.registration import require_filing_competence
from services.domain.validation import not_after_today


def _day(request: dict[str, Any], name: str) -> date:
    return date.fromisoformat(request[name])


def _civil_affairs(ctx: Context, institution: Institution) -> None:
    ctx.actor.require_role("officer")
    ctx.actor.require_department("civil_affairs")
    ctx.actor.require_jurisdiction(institution.profile["region_code"])


def _decided(ctx: Context, day_field: str) -> tuple[date, Any]:
    day = _day(ctx.request, day_field)
    not_after_today(day, ctx.today, day_field)
    return day, ctx.rules.in_force(day, ctx.target.profile["region_code"])


def change_filing(ctx: Context) -> Decision:
    """变更备案 with the authority the institution files with; the changed particulars must still
    make an institution (≥ 10 beds, nursing beds within beds)."""
    institution: Institution = ctx.target
    day, version = _decided(ctx, "changed_on")
    changes = ctx.request["changes"]
    if not changes:
        raise RuleViolation("NOTHING_CHANGED", "变更事项不能为空", "a change filing names what changed")
    merged = {**institution.profile, **changes}
    require_filing_competence(ctx.actor, merged)
    if merged["beds"] < version["institution.minimum_beds"]:
        raise RuleViolation("BEDS_BELOW_MINIMUM", f"床位数应在{version['institution.minimum_beds']}张以上", "too few beds")
    if merged["nursing_beds"] > merged["beds"]:
        raise RuleViolation("NURSING_BEDS_EXCEED_BEDS", "护理型床位数不能超过床位总数", "nursing beds exceed beds")
    return Decision(dict(ctx.request), day.isoformat(), version.name)


def order_suspension(ctx: Context) -> Decision:
    """责令停业整顿 (66号令), citing the hazard that grounds it where there is one."""
    institution: Institution = ctx.target
    _civil_affairs(ctx, institution)
    day, version = _decided(ctx, "ordered_on")
    if _day(ctx.request, "rectify_by") < day:
        raise RuleViolation("DEADLINE_BEFORE_ORDER", "整顿期限不能早于责令日期", "the deadline precedes the order")
    if ctx.request.get("hazard_id"):
        hazard = ctx.lookup.aggregate(Hazard, ctx.request["hazard_id"])
        if hazard.institution_id != str(institution.id):
            raise RuleViolation("GROUNDING_MISMATCH", "依据的隐患不属于该机构", "the hazard concerns another institution")
    return Decision(dict(ctx.request), day.isoformat(), version.name)


def resume(ctx: Context) -> Decision:
    institution: Institution = ctx.target
    _civil_affairs(ctx, institution)
    day, version = _decided(ctx, "resumed_on")
    return Decision(dict(ctx.request), day.isoformat(), version.name)


def plan_closure(ctx: Context) -> Decision:
    """Suspending or ending service: the resettlement plan is submitted 60 days ahead (param)."""
    institution: Institution = ctx.target
    _civil_affairs(ctx, institution)
    day, version = _decided(ctx, "plan_submitted_on")
    ahead = version["closure.plan_days_ahead"]
    earliest = day + timedelta(days=ahead)
    if _day(ctx.request, "effective_on") < earliest:
        raise RuleViolation(
            "PLAN_TOO_LATE", f"暂停或终止服务应提前{ahead}日报送安置方案，最早实施日期为 {earliest.isoformat()}",
            f"the plan comes {ahead} days ahead: effective on {earliest.isoformat()} at the earliest", earliest=earliest.isoformat(),
        )
    kind = ctx.request["kind"]
    if kind == "merge":
        target = ctx.request.get("merge_into")
        if not target or target == str(institution.id):
            raise RuleViolation("MERGE_TARGET_MISSING", "合并须载明并入的其他机构", "a merger names the institution merged into")
        ctx.lookup.aggregate(Institution, target)
    if kind == "convert" and not ctx.request.get("convert_to"):
        raise RuleViolation("CONVERSION_TARGET_MISSING", "转型须载明转型方向", "a conversion names what it converts to")
    return Decision(dict(ctx.request), day.isoformat(), version.name)


def resettle(ctx: Context) -> Decision:
    institution: Institution = ctx.target
    _civil_affairs(ctx, institution)
    day, version = _decided(ctx, "resettled_on")
    return Decision(dict(ctx.request), day.isoformat(), version.name)


def close(ctx: Context) -> Decision:
    """Only after every resident was resettled, and not before the plan's date."""
    institution: Institution = ctx.target
    _civil_affairs(ctx, institution)
    day, version = _decided(ctx, "closed_on")
    if not institution.residents_resettled:
        raise RuleViolation("RESIDENTS_NOT_RESETTLED", "老年人未妥善安置，不得关停并转", "residents must be resettled first")
    if ctx.request["kind"] != institution.closure["kind"]:
        raise RuleViolation("CLOSURE_KIND_MISMATCH", "与报送的方案类型不一致", "the kind differs from the plan")
    if day < date.fromisoformat(institution.closure["effective_on"]):
        raise RuleViolation("BEFORE_PLANNED_DATE", f"安置方案的实施日期为 {institution.closure['effective_on']}", "before the planned date")
    return Decision(dict(ctx.request), day.isoformat(), version.name)


def _rural_home(institution: Institution) -> None:
    if institution.profile.get("ownership_type") != "特困供养设施":
        raise RuleViolation("NOT_A_RURAL_HOME", "法人登记事项仅适用于特困人员供养服务设施（敬老院）", "only for 特困供养设施")


def register_legal_person(ctx: Context) -> Decision:
    institution: Institution = ctx.target
    _civil_affairs(ctx, institution)
    _rural_home(institution)
    day, version = _decided(ctx, "registered_on")
    payload = dict(ctx.request, legal_person_code=validate_credit_code(ctx.request["legal_person_code"]))
    return Decision(payload, day.isoformat(), version.name)


def record_legal_person_pending(ctx: Context) -> Decision:
    institution: Institution = ctx.target
    _civil_affairs(ctx, institution)
    _rural_home(institution)
    day, version = _decided(ctx, "recorded_on")
    if _day(ctx.request, "deadline") < day:
        raise RuleViolation("DEADLINE_BEFORE_ORDER", "办结时限不能早于登记日期", "the deadline precedes the record")
    return Decision(dict(ctx.request), day.isoformat(), version.name)


def record_contract(ctx: Context) -> Decision:
    institution: Institution = ctx.target
    _civil_affairs(ctx, institution)
    if institution.profile.get("ownership_type") != "公建民营":
        raise RuleViolation("NOT_PUBLICLY_BUILT", "运营合同仅适用于公建民营机构", "only for 公建民营 institutions")
    day, version = _decided(ctx, "recorded_on")
    if _day(ctx.request, "contract_end") <= _day(ctx.request, "contract_start"):
        raise RuleViolation("CONTRACT_TERM_INVALID", "合同终止日期应晚于起始日期", "the contract ends after it starts")
    payload = dict(ctx.request, operator_credit_code=validate_credit_code(ctx.request["operator_credit_code"]))
    return Decision(payload, day.isoformat(), version.name)


def update_handling(ctx: Context) -> Decision:
    """The unfiled list's handling: referral (copied to the departments concerned), reason, measures,
    deadline and responsible person."""
    institution: Institution = ctx.target
    _civil_affairs(ctx, institution)
    day, version = _decided(ctx, "updated_on")
    if _day(ctx.request["handling"], "deadline") < day:
        raise RuleViolation("DEADLINE_BEFORE_ORDER", "办结时限不能早于更新日期", "the deadline precedes the update")
    return Decision(dict(ctx.request), day.isoformat(), version.name)


def mark_handling_overdue(ctx: Context) -> Decision:
    """Recorded by the scheduler only: a known-unfiled institution still unfiled after its handling
    deadline is overdue from the day after it, whenever the scheduler ran."""
    institution: Institution = ctx.target
    deadline = handling_deadline(institution.record["state"])
    if deadline is None or ctx.today <= date.fromisoformat(deadline):
        raise RuleViolation("NOT_YET_DUE", f"处置办结时限 {deadline or '未设定'} 尚未届满", f"the handling deadline {deadline} has not passed")
    overdue_on = day_after(deadline)
    version = ctx.rules.in_force(date.fromisoformat(overdue_on), institution.profile["region_code"])
    return Decision({"deadline": deadline, "overdue_on": overdue_on}, overdue_on, version.name)
