"""Grading 1–5 (等级评定, GB/T 37276): one GradingApplication aggregate per application, carrying the
grade it leads to through its whole life (awarded → downgraded / revoked / lapsed).

Authority is a per-province rule table (Zhenjiang seed: levels 1–3 county or city civil affairs,
4 the city, 5 the province); candidates for 4 and 5 are recommended by the authority of the level
below. Eligibility is judged by the ledger from the institution's standing — filed, operating a
year, not on the joint-punishment list, no penalty in two years, no open major hazard, compliant
with GB 38600, first application at most level 3, and the lock-outs after a downgrade (1 year) or
a revocation (3 years).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from events.grading import APPLIED, GRADING_APPLICATION, HOLDING, SCORE_SECTIONS
from events.registration import LEVEL_NAMES
from events.working_days import working_day_deadline
from services.domain.decisions import Context, Decision
from services.domain.errors import Conflict, NotCompetent, RuleViolation
from services.domain.institution import Institution
from services.domain.recorded import LedgerAggregate
from services.domain.sanction import add_months
from services.domain.validation import day_of

__all__ = ["HOLDING", "GradingApplication"]


class GradingApplication(LedgerAggregate):
    """State (events/grading.py ``GRADING_APPLICATION``): ``institution_id``, ``region_code``,
    ``requested_level``, ``authority_levels``, ``status``, ``reasons``, ``level_reached``,
    ``approved_level``, ``publicity_ends_on``, and once awarded ``level``, ``awarded_on``,
    ``valid_until``, ``no_upgrade_until``, ``no_application_until``."""

    KIND = GRADING_APPLICATION
    NAME_ZH = GRADING_APPLICATION.title_zh


# --- eligibility, read from the institution's standing -------------------------------------------


def eligibility_reasons(standing: Any, requested_level: int, applied_on: date, version: Any) -> list[str]:
    institution = standing.institution
    applications = [a for a in standing.of_type("GradingApplication")]
    reasons = []
    if institution.status != "filed":
        reasons.append("not_filed")
    started = institution.profile.get("first_resident_admitted_on")
    if started is None or date.fromisoformat(started) > add_months(applied_on, -12 * version["grading.min_operating_years"]):
        reasons.append("operating_under_one_year")
    if standing.on_joint_punishment_list:
        reasons.append("on_joint_punishment_list")
    since = add_months(applied_on, -12 * version["grading.penalty_free_years"]).isoformat()
    if any(c.effective_penalties and since <= c.decision["decided_on"] <= applied_on.isoformat() for c in standing.of_type("SanctionCase")):
        reasons.append("penalty_within_two_years")
    if standing.open_major_hazards:
        reasons.append("open_major_hazard")
    latest = standing.latest_compliance("GB 38600")
    if latest is None or not latest.compliant:
        reasons.append("not_gb38600_compliant")
    if any(a.no_application_until and applied_on.isoformat() < a.no_application_until for a in applications):
        reasons.append("application_locked")
    current = standing.current_grade(applied_on.isoformat())
    ever_awarded = any(a.awarded_on for a in applications)
    if not ever_awarded and requested_level > version["grading.first_application_max_level"]:
        reasons.append("first_application_above_level_3")
    if current is not None and requested_level > current.level:
        if current.no_upgrade_until and applied_on.isoformat() < current.no_upgrade_until:
            reasons.append("upgrade_locked")
        if requested_level > current.level + 1:
            reasons.append("upgrade_more_than_one_level")
        if applied_on < add_months(date.fromisoformat(current.awarded_on), 12 * version["grading.upgrade_after_years"]):
            reasons.append("upgrade_too_soon")
    return reasons


# --- rules ----------------------------------------------------------------------------------------


def _day(request: dict[str, Any], name: str) -> date:
    return date.fromisoformat(request[name])


def authority_levels(version: Any, level: int) -> list[str]:
    """Who grades a level: the rule table's ``grading.authority`` for the institution's region."""
    return list(version["grading.authority"][str(level)])


def _require_authority(ctx: Context, region_code: str, level: int, allowed: list[str], action_zh: str = "评定",
                       field: str | None = None) -> None:
    """Only the civil affairs at a level the province's table names for this grade, over the site.
    ``field``: the request field that named the level, if one did (the refusal concerns it)."""
    ctx.actor.require_role("officer")
    ctx.actor.require_department("civil_affairs")
    if ctx.actor.level not in allowed:
        where = {"field": field} if field else {}
        raise NotCompetent(
            "GRADING_AUTHORITY_MISMATCH", f"{level}级养老机构的{action_zh}由{'、'.join(LEVEL_NAMES[a] for a in allowed)}民政部门办理",
            f"level {level} is graded by {', '.join(allowed)} civil affairs", authority_levels=allowed, **where,
        )
    ctx.actor.require_jurisdiction(region_code)


def _require_grader(ctx: Context, app: GradingApplication, action_zh: str = "评定") -> None:
    _require_authority(ctx, app.region_code, app.requested_level, app.authority_levels, action_zh)


def _refuse_locked(standing: Any, requested_level: int, applied_on: date) -> None:
    """An institution under a lock-out cannot even lodge the application it is locked out of."""
    day = applied_on.isoformat()
    for other in standing.of_type("GradingApplication"):
        if other.no_application_until and day < other.no_application_until:
            raise RuleViolation(
                "APPLICATION_LOCKED", f"该机构等级被取消，{other.no_application_until} 前不得申请等级评定",
                f"the grade was revoked: no application before {other.no_application_until}", until=other.no_application_until,
            )
    current = standing.current_grade(day)
    if current is not None and requested_level > current.level and current.no_upgrade_until and day < current.no_upgrade_until:
        raise RuleViolation(
            "UPGRADE_LOCKED", f"该机构等级被降低，{current.no_upgrade_until} 前不得申请提升等级",
            f"the grade was lowered: no upgrade application before {current.no_upgrade_until}", until=current.no_upgrade_until,
        )


def apply(ctx: Context) -> Decision:
    level = ctx.request["requested_level"]
    if not 1 <= level <= 5:
        raise RuleViolation("LEVEL_INVALID", "等级为一级至五级", "levels are 1 to 5", field="requested_level")
    institution = ctx.lookup.aggregate(Institution, ctx.request["institution_id"])
    region = institution.profile["region_code"]
    applied_on = day_of(ctx, "applied_on")
    version = ctx.rules.in_force(applied_on, region)
    levels = authority_levels(version, level)
    _require_authority(ctx, region, level, levels, field="requested_level")
    _refuse_locked(ctx.lookup.standing(str(institution.id)), level, applied_on)
    payload = dict(ctx.request, region_code=region, authority_levels=levels)
    return Decision(payload, applied_on.isoformat(), version.name)


def recommend(ctx: Context) -> Decision:
    """Levels 4 and 5: the authority of the level below recommends a candidate holding that level."""
    app: GradingApplication = ctx.target
    if app.requested_level < 4:
        raise RuleViolation("RECOMMENDATION_NOT_NEEDED", "一级至三级评定无需推荐", "levels 1-3 need no recommendation")
    version = ctx.rules.in_force(date.fromisoformat(app.applied_on), app.region_code)
    below = app.requested_level - 1
    _require_authority(ctx, app.region_code, below, authority_levels(version, below))
    current = ctx.lookup.standing(app.institution_id).current_grade(ctx.today.isoformat())
    if current is None or current.level != app.requested_level - 1:
        raise RuleViolation(
            "CANDIDATE_LEVEL_MISMATCH", f"{app.requested_level}级候选对象应为现有{app.requested_level - 1}级养老机构",
            f"a candidate for level {app.requested_level} holds level {app.requested_level - 1}",
        )
    recommended_on = day_of(ctx, "recommended_on")
    return Decision(dict(ctx.request, institution_id=app.institution_id), recommended_on.isoformat(), version.name)


def review_eligibility(ctx: Context) -> Decision:
    app: GradingApplication = ctx.target
    if app.requested_level >= 4 and app.status == APPLIED:
        raise Conflict(
            "GRADING_STATE_INVALID", f"{app.requested_level}级评定须经下一级评定机关推荐后方可资格审查",
            f"a level {app.requested_level} application is reviewed after its recommendation", status=app.status,
        )
    _require_grader(ctx, app)
    reviewed_on = day_of(ctx, "reviewed_on")
    applied_on = date.fromisoformat(app.applied_on)
    version = ctx.rules.in_force(applied_on, app.region_code)
    standing = ctx.lookup.standing(app.institution_id)
    others = [a for a in standing.related if getattr(a, "id", None) != app.id]
    standing = type(standing)(standing.institution, others)
    reasons = eligibility_reasons(standing, app.requested_level, applied_on, version)
    payload = dict(ctx.request, institution_id=app.institution_id, eligible=not reasons, reasons=reasons)
    return Decision(payload, reviewed_on.isoformat(), version.name)


def score(ctx: Context) -> Decision:
    app: GradingApplication = ctx.target
    _require_grader(ctx, app)
    assessed_on = day_of(ctx, "assessed_on")
    version = ctx.rules.in_force(date.fromisoformat(app.applied_on), app.region_code)
    maxima = version["grading.section_maxima"]
    scores = ctx.request["scores"]
    for section in SCORE_SECTIONS:
        if scores[section] > maxima[section]:
            raise RuleViolation(
                "SCORE_ABOVE_MAXIMUM", f"{section} 得分不能超过{maxima[section]}分", f"{section} scores at most {maxima[section]}",
            )
    total = sum(scores[s] for s in SCORE_SECTIONS)
    reached = max([lvl for lvl, minimum in version["grading.level_thresholds"].items() if total >= minimum], default=0)
    payload = dict(ctx.request, institution_id=app.institution_id, total=total, level_reached=int(reached))
    return Decision(payload, assessed_on.isoformat(), version.name)


def committee(ctx: Context) -> Decision:
    app: GradingApplication = ctx.target
    _require_grader(ctx, app)
    level = ctx.request["approved_level"]
    if level > min(app.requested_level, app.level_reached):
        raise RuleViolation(
            "LEVEL_ABOVE_SCORE", f"审定等级不能高于申请等级和得分对应等级（{min(app.requested_level, app.level_reached)}级）",
            "the approved level cannot exceed the requested or reached level",
        )
    decided_on = day_of(ctx, "decided_on")
    version = ctx.rules.in_force(date.fromisoformat(app.applied_on), app.region_code)
    return Decision(dict(ctx.request, institution_id=app.institution_id), decided_on.isoformat(), version.name)


def start_publicity(ctx: Context) -> Decision:
    """公示 for the rule table's working days, saying how to object (by default: in writing to the
    grading authority within the period)."""
    app: GradingApplication = ctx.target
    _require_grader(ctx, app)
    started_on = day_of(ctx, "started_on")
    version = ctx.rules.in_force(date.fromisoformat(app.applied_on), app.region_code)
    ends = working_day_deadline(started_on, version["grading.publicity_working_days"]).due
    channel = ctx.request.get("objection_channel") or (
        f"对公示内容有异议的，请于 {ends.isoformat()} 前以书面形式向{ctx.actor.title_zh}提出，载明异议理由和联系方式"
    )
    payload = dict(ctx.request, institution_id=app.institution_id, ends_on=ends.isoformat(), objection_channel=channel)
    return Decision(payload, started_on.isoformat(), version.name)


def _publicity_ends(version: Any, app: GradingApplication) -> date:
    """The publicity's last day, recomputed with the calendar known now (the one recorded may have
    been provisional)."""
    return working_day_deadline(date.fromisoformat(app.publicity_started_on), version["grading.publicity_working_days"]).due


def receive_objection(ctx: Context) -> Decision:
    """An objection lodged within the publicity period."""
    app: GradingApplication = ctx.target
    _require_grader(ctx, app, "公示异议受理")
    received_on = day_of(ctx, "received_on")
    version = ctx.rules.in_force(date.fromisoformat(app.applied_on), app.region_code)
    ends = _publicity_ends(version, app)
    if not date.fromisoformat(app.publicity_started_on) <= received_on <= ends:
        raise RuleViolation(
            "OBJECTION_OUT_OF_PERIOD", f"异议应在公示期内（{app.publicity_started_on} 至 {ends.isoformat()}）提出",
            f"objections are lodged within the publicity ({app.publicity_started_on} to {ends.isoformat()})",
        )
    return Decision(dict(ctx.request, institution_id=app.institution_id), received_on.isoformat(), version.name)


def handle_objection(ctx: Context) -> Decision:
    app: GradingApplication = ctx.target
    _require_grader(ctx, app, "公示异议处理")
    objection = next((o for o in app.objections if o["event_id"] == ctx.request["objection_event_id"]), None)
    if objection is None:
        raise RuleViolation("OBJECTION_NOT_FOUND", "该评定申请没有这一异议", "no such objection on this application")
    if objection["handled_on"] is not None:
        raise Conflict("OBJECTION_ALREADY_HANDLED", f"该异议已于 {objection['handled_on']} 处理", "this objection was handled already")
    handled_on = day_of(ctx, "handled_on")
    if handled_on.isoformat() < objection["received_on"]:
        raise RuleViolation("DATE_ORDER_INVALID", f"处理日期不能早于异议受理日期（{objection['received_on']}）",
                            "handled before it was received")
    version = ctx.rules.in_force(date.fromisoformat(app.applied_on), app.region_code)
    return Decision(dict(ctx.request, institution_id=app.institution_id), handled_on.isoformat(), version.name)


def close_publicity(ctx: Context) -> Decision:
    """After the period, with every objection handled; the level is not awarded if one was upheld."""
    app: GradingApplication = ctx.target
    _require_grader(ctx, app)
    closed_on = day_of(ctx, "closed_on")
    version = ctx.rules.in_force(date.fromisoformat(app.applied_on), app.region_code)
    ends = _publicity_ends(version, app)
    if closed_on < ends:
        raise RuleViolation(
            "PUBLICITY_NOT_OVER", f"公示期至 {ends.isoformat()} 届满", f"the publicity runs until {ends.isoformat()}",
        )
    pending = [o["received_on"] for o in app.objections if o["handled_on"] is None]
    if pending:
        raise Conflict("OBJECTIONS_PENDING", f"尚有{len(pending)}项公示异议未处理，处理完毕后方可结束公示",
                       f"{len(pending)} objection(s) not yet handled", pending=len(pending))
    upheld = any(o["upheld"] for o in app.objections)
    if ctx.request["objection_upheld"] != upheld:
        raise RuleViolation(
            "OBJECTION_OUTCOME_MISMATCH",
            "“异议是否成立”应与已登记的异议处理结果一致" + ("（有异议成立）" if upheld else "（没有成立的异议）"),
            f"objection_upheld must agree with the objections handled ({'one was upheld' if upheld else 'none was upheld'})",
        )
    return Decision(dict(ctx.request, institution_id=app.institution_id), closed_on.isoformat(), version.name)


def award(ctx: Context) -> Decision:
    app: GradingApplication = ctx.target
    _require_grader(ctx, app)
    awarded_on = day_of(ctx, "awarded_on")
    version = ctx.rules.in_force(awarded_on, app.region_code)
    valid_until = add_months(awarded_on, 12 * version["grading.validity_years"])
    payload = dict(ctx.request, institution_id=app.institution_id, level=app.approved_level, valid_until=valid_until.isoformat())
    return Decision(payload, awarded_on.isoformat(), version.name)


def downgrade(ctx: Context) -> Decision:
    app: GradingApplication = ctx.target
    _require_grader(ctx, app, "降低等级")
    if not 1 <= ctx.request["new_level"] < app.level:
        raise RuleViolation("LEVEL_INVALID", f"降级后等级应低于现有{app.level}级且不低于一级", "the new level is below the current one")
    decided_on = day_of(ctx, "decided_on")
    version = ctx.rules.in_force(decided_on, app.region_code)
    until = add_months(decided_on, 12 * version["grading.no_upgrade_after_downgrade_years"])
    payload = dict(ctx.request, institution_id=app.institution_id, no_upgrade_until=until.isoformat())
    return Decision(payload, decided_on.isoformat(), version.name)


def revoke(ctx: Context) -> Decision:
    app: GradingApplication = ctx.target
    _require_grader(ctx, app, "取消等级")
    decided_on = day_of(ctx, "decided_on")
    version = ctx.rules.in_force(decided_on, app.region_code)
    until = add_months(decided_on, 12 * version["grading.no_application_after_revocation_years"])
    payload = dict(ctx.request, institution_id=app.institution_id, no_application_until=until.isoformat())
    return Decision(payload, decided_on.isoformat(), version.name)


def lapse(ctx: Context) -> Decision:
    app: GradingApplication = ctx.target
    if ctx.today <= date.fromisoformat(app.valid_until):
        raise RuleViolation("NOT_YET_DUE", f"等级有效期至 {app.valid_until}", f"valid until {app.valid_until}")
    payload = {"institution_id": app.institution_id, "lapsed_on": ctx.today.isoformat()}
    return Decision(payload, ctx.today.isoformat(), ctx.rules.in_force(ctx.today, app.region_code).name)


def import_award(ctx: Context) -> Decision:
    """An award made before the ledger, from an imported register (never a decision made now): the
    institution's civil affairs over its region records the level, date and certificate; its
    validity follows the rules of the award's date."""
    ctx.actor.require_role("officer")
    ctx.actor.require_department("civil_affairs")
    institution = ctx.lookup.aggregate(Institution, ctx.request["institution_id"])
    region = institution.profile["region_code"]
    ctx.actor.require_jurisdiction(region)
    if not 1 <= ctx.request["level"] <= 5:
        raise RuleViolation("LEVEL_INVALID", "等级为一级至五级", "levels are 1 to 5")
    awarded_on = day_of(ctx, "awarded_on")
    version = ctx.rules.in_force(awarded_on, region)
    valid_until = add_months(awarded_on, 12 * version["grading.validity_years"])
    payload = dict(ctx.request, region_code=region, valid_until=valid_until.isoformat())
    return Decision(payload, awarded_on.isoformat(), version.name)
