"""Inspections: plans with reproducible double-random draws, and the inspection of one institution
from scheduling to its published result.

- A plan fixes its region, year, departments and the sample ratio per credit-risk class.
- The draw takes its institution pool from the ledger's own registry (every institution of the
  region, classified by risk), never from the requester, and a seed the ledger generates; both
  pools, the ratios and the seed are recorded so anyone can re-run ``events.draw.draw``.
- An inspection has at least two officers (《行政处罚法》第42条). Routine, special, joint and
  third-party inspections are notified 3 working days ahead; case inspections never are. Routine
  inspections are of drawn institutions by the drawn team. Results are published within 20 working
  days (param) or the delay is explained.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from events.checklists import CHECKLIST
from events.draw import ALGORITHM, DrawImpossible, draw, seed_commitment
from events.inspections import INSPECTION, INSPECTION_PLAN, RISK_CLASSES
from events.working_days import working_day_deadline, working_days_after
from services.domain import regions
from services.domain.decisions import Context, Decision
from services.domain.errors import Conflict, NotCompetent, RuleViolation
from services.domain.institution import Institution
from services.domain.recorded import LedgerAggregate
from services.domain.validation import day_of, not_after_today

NOTIFIED_KINDS = ("routine", "special", "joint", "third_party")


class InspectionPlan(LedgerAggregate):
    """State (events/inspections.py ``INSPECTION_PLAN``): ``region_code``, ``year``, ``kind``,
    ``departments``, ``ratios``, ``inspectors_per_team``, ``status``, ``sample``."""

    KIND = INSPECTION_PLAN
    NAME_ZH = INSPECTION_PLAN.title_zh

    def team_for(self, institution_id: str) -> list[str] | None:
        for entry in self.sample:
            if entry["institution_id"] == institution_id:
                return entry["inspectors"]
        return None


class Inspection(LedgerAggregate):
    """State (events/inspections.py ``INSPECTION``): ``institution_id``, ``region_code``, ``kind``,
    ``departments``, ``inspectors``, ``status``, ``conducted_on``."""

    KIND = INSPECTION
    NAME_ZH = INSPECTION.title_zh


# --- risk classes -------------------------------------------------------------------------------


def risk_class(standing: Any) -> str:
    """信用风险分类 used by the draw (param, rule table ``inspection.risk_classification``):
    D — on a credit list or with an overdue major hazard; C — an open major hazard; B — unfiled,
    or an overdue hazard; A — otherwise."""
    hazards = standing.of_type("Hazard")
    overdue = [h for h in hazards if h.status == "overdue"]
    if getattr(standing, "listed", False) or any(h.severity == "major" for h in overdue):
        return "D"
    if standing.open_major_hazards:
        return "C"
    if standing.institution.status == "discovered" or overdue:
        return "B"
    return "A"


# --- rules: plans and draws -----------------------------------------------------------------------


def _dates(request: dict[str, Any], *names: str) -> list[date]:
    return [date.fromisoformat(request[n]) for n in names]


def plan(ctx: Context) -> Decision:
    """A plan states its sample ratio per risk class, or takes the rule table's (param 30/10/2/1 %)."""
    ctx.actor.require_role("officer")
    request = dict(ctx.request)
    region = regions.validate_region_code(request["region_code"])
    ctx.actor.require_jurisdiction(region)
    planned_on = day_of(ctx, "planned_on")
    version = ctx.rules.in_force(planned_on, region)
    if "ratios" not in request:
        request["ratios"] = dict(version["inspection.default_ratios"])
    departments = request["departments"]
    if len(set(departments)) != len(departments) or ctx.actor.department not in departments:
        raise RuleViolation(
            "PLAN_DEPARTMENTS_INVALID", "参与部门不能重复，且须包含制定计划的部门",
            "departments must be distinct and include the planning department",
        )
    if request["kind"] == "joint" and len(departments) < 2:
        raise RuleViolation("JOINT_NEEDS_DEPARTMENTS", "联合检查至少由两个部门参加", "a joint plan needs at least two departments")
    if request["inspectors_per_team"] < version["inspection.min_officers"]:
        raise RuleViolation(
            "TOO_FEW_INSPECTORS", f"每组检查人员不得少于{version['inspection.min_officers']}人",
            f"at least {version['inspection.min_officers']} officers per team",
        )
    for cls, ratio in request["ratios"].items():
        if not 0 <= float(ratio) <= 100:
            raise RuleViolation("RATIO_INVALID", f"{cls}类抽查比例应在0到100之间", f"ratio for {cls} must be 0-100")
    scope = (region, request["year"], request["kind"])
    earlier = [str(p.id) for p in ctx.lookup.records_with(("InspectionPlanned",)) if _plans(p.record["state"], scope)]
    if earlier and not (request.get("replan_reason") or "").strip():
        raise Conflict(
            "PLAN_EXISTS", f"本地区{request['year']}年度已有同类检查计划（{'、'.join(earlier)}），再次制定须在 replan_reason 中说明理由",
            "a plan for this region, year and kind exists: a new one states its reason (replan_reason)", earlier_plans=earlier,
        )
    if earlier:
        request["earlier_plans"] = earlier
    if request["kind"] == "routine":  # the draw's seed, committed to now and revealed at the draw
        request["seed_nonce"] = secrets.token_hex(16)
        request["seed_commitment"] = seed_commitment(ctx.lookup.draw_seed(request["seed_nonce"]))
    return Decision(dict(request), planned_on.isoformat(), version.name)


def _plans(state: dict[str, Any], scope: tuple[str, int, str]) -> bool:
    """A standing plan for the scope (region, year, kind)."""
    return (state["region_code"], state["year"], state["kind"]) == scope and state["status"] != "retracted"


def draw_sample(ctx: Context) -> Decision:
    """双随机: the ledger builds the institution pool and the seed; the request brings only the
    inspector pool (执法检查人员名录) and the date."""
    plan_: InspectionPlan = ctx.target
    ctx.actor.require_role("officer")
    ctx.actor.require_department(*plan_.departments)
    ctx.actor.require_jurisdiction(plan_.region_code)
    drawn_on = day_of(ctx, "drawn_on")
    pool = [
        {"institution_id": institution_id, "risk_class": risk_class(ctx.lookup.standing(institution_id))}
        for institution_id in ctx.lookup.institutions_in(plan_.region_code)
    ]
    inspectors = sorted(ctx.request["inspector_pool"], key=lambda i: i["inspector_id"])
    if len({i["inspector_id"] for i in inspectors}) != len(inspectors):
        raise RuleViolation("INSPECTOR_POOL_INVALID", "执法检查人员库中人员编号重复", "duplicate inspector ids in the pool")
    if plan_.seed_commitment:
        seed = ctx.lookup.draw_seed(plan_.seed_nonce)
        if seed_commitment(seed) != plan_.seed_commitment:
            raise Conflict(
                "DRAW_KEY_CHANGED", "台账密钥已更换，无法重现计划时承诺的随机种子；请重新制定计划并说明理由",
                "the ledger's key changed: the seed committed to in the plan cannot be reproduced; make a new plan with a reason",
            )
    else:  # a plan made before seeds were committed to
        seed = secrets.token_hex(16)
    try:
        sample = draw(seed, pool, inspectors, plan_.ratios, plan_.inspectors_per_team)
    except DrawImpossible as impossible:
        raise RuleViolation(
            "INSUFFICIENT_INSPECTORS",
            f"机构 {impossible.institution_id} 可回避后的检查人员仅{impossible.available}人，不足{impossible.needed}人",
            str(impossible), institution_id=impossible.institution_id,
        ) from None
    payload = {
        "seed": seed, **({"seed_commitment": plan_.seed_commitment} if plan_.seed_commitment else {}), "departments": list(plan_.departments),
        "algorithm": ALGORITHM, "institution_pool": pool, "inspector_pool": inspectors,
        "ratios": plan_.ratios, "inspectors_per_team": plan_.inspectors_per_team, "sample": sample,
        "drawn_on": drawn_on.isoformat(),
    }
    return Decision(payload, drawn_on.isoformat(), ctx.rules.in_force(drawn_on, plan_.region_code).name)


# --- rules: one inspection ------------------------------------------------------------------------


def schedule(ctx: Context) -> Decision:
    ctx.actor.require_role("officer")
    request = ctx.request
    institution = ctx.lookup.aggregate(Institution, request["institution_id"])
    region = institution.profile["region_code"]
    ctx.actor.require_jurisdiction(region)
    kind, departments, inspectors = request["kind"], request["departments"], request["inspectors"]
    if ctx.actor.department not in departments:
        raise NotCompetent("NOT_AN_INSPECTING_DEPARTMENT", "安排检查的部门须为检查部门之一", "the scheduling department must take part")
    scheduled_on, = _dates(request, "scheduled_on")
    version = ctx.rules.in_force(min(scheduled_on, ctx.today), region)
    if len(set(inspectors)) < version["inspection.min_officers"]:
        raise RuleViolation(
            "TOO_FEW_INSPECTORS", f"检查人员不得少于{version['inspection.min_officers']}人（《行政处罚法》第四十二条）",
            f"at least {version['inspection.min_officers']} officers inspect",
        )
    if kind == "joint" and len(set(departments)) < 2:
        raise RuleViolation("JOINT_NEEDS_DEPARTMENTS", "联合检查至少由两个部门参加", "a joint inspection needs two departments")
    if kind == "case" and not request.get("trigger"):
        raise RuleViolation("CASE_NEEDS_TRIGGER", "个案检查须载明举报、投诉或线索来源", "a case inspection names its trigger")
    if kind == "third_party" and not request.get("third_party"):
        raise RuleViolation("THIRD_PARTY_MISSING", "第三方评估须载明评估机构", "a third-party assessment names the assessor")
    if kind == "routine":
        _check_drawn(ctx, request, inspectors)
    _check_notice(kind, request, scheduled_on, ctx.today, version)
    # decided on the day it was recorded, or by the day it was set for when recorded after the fact
    return Decision(dict(request, region_code=region), min(scheduled_on, ctx.today).isoformat(), version.name)


def _check_drawn(ctx: Context, request: dict[str, Any], inspectors: list[str]) -> None:
    """A routine inspection inspects a drawn institution with the drawn team (双随机)."""
    if not request.get("plan_id"):
        raise RuleViolation("ROUTINE_NEEDS_PLAN", "日常检查须依据双随机抽取结果（plan_id）", "a routine inspection names its plan")
    plan_ = ctx.lookup.aggregate(InspectionPlan, request["plan_id"])
    if ctx.actor.department not in plan_.departments:
        ctx.actor.require_department(*plan_.departments)
    team = plan_.team_for(request["institution_id"])
    if team is None:
        raise RuleViolation("NOT_DRAWN", "该机构不在本计划的双随机抽取结果中", "the institution was not drawn in this plan")
    if sorted(team) != sorted(inspectors):
        raise RuleViolation("TEAM_NOT_DRAWN", "检查人员须与随机抽取的检查组一致", "the inspectors must be the drawn team", drawn_team=team)


def _check_notice(kind: str, request: dict[str, Any], scheduled_on: date, today: date, version: Any) -> None:
    notice = request.get("notice_given_on")
    if kind == "case":
        if notice:
            raise RuleViolation("CASE_NOT_NOTIFIED", "个案检查不得事先通知被检查机构", "case inspections are never notified in advance")
        return
    if not notice:
        raise RuleViolation("NOTICE_REQUIRED", "该类检查须提前通知被检查机构（notice_given_on）", "this inspection must be notified")
    notice_on = date.fromisoformat(notice)
    not_after_today(notice_on, today, "notice_given_on")
    earliest = working_day_deadline(notice_on, version["inspection.notice_working_days"]).due
    if scheduled_on < earliest:
        raise RuleViolation(
            "NOTICE_TOO_SHORT",
            f"应提前{version['inspection.notice_working_days']}个工作日通知，{notice} 通知的最早检查日为 {earliest.isoformat()}",
            f"notice must precede the inspection by {version['inspection.notice_working_days']} working days",
            earliest=earliest.isoformat(),
        )


def conduct(ctx: Context) -> Decision:
    inspection: Inspection = ctx.target
    ctx.actor.require_role("officer")
    ctx.actor.require_department(*inspection.departments)
    ctx.actor.require_jurisdiction(inspection.region_code)
    conducted_on = day_of(ctx, "conducted_on")
    version = ctx.rules.in_force(conducted_on, inspection.region_code)
    present = ctx.request["inspectors_present"]
    if len(set(present)) < version["inspection.min_officers"] or not set(present) <= set(inspection.inspectors):
        raise RuleViolation(
            "TOO_FEW_INSPECTORS", f"到场检查人员须为安排的检查人员且不少于{version['inspection.min_officers']}人",
            "at least two of the scheduled officers must be present",
        )
    unknown = [f["checklist_ref"] for f in ctx.request["findings"] if f["checklist_ref"] not in CHECKLIST]
    if unknown:
        raise RuleViolation("CRITERION_UNKNOWN", f"检查项目条目不在参考目录中：{unknown}", f"unknown checklist items {unknown}")
    return Decision(dict(ctx.request, institution_id=inspection.institution_id), conducted_on.isoformat(), version.name)


def publish(ctx: Context) -> Decision:
    """一公开: within 20 working days of the inspection (param); a later publication says why."""
    inspection: Inspection = ctx.target
    ctx.actor.require_role("officer")
    ctx.actor.require_department(*inspection.departments)
    ctx.actor.require_jurisdiction(inspection.region_code)
    published_on = day_of(ctx, "published_on")
    conducted_on = date.fromisoformat(inspection.conducted_on)
    if published_on < conducted_on:
        raise RuleViolation("DATE_ORDER_INVALID", "公开日期不能早于检查日期", "published before the inspection")
    version = ctx.rules.in_force(conducted_on, inspection.region_code)
    due = working_day_deadline(conducted_on, version["inspection.publish_within_working_days"])
    late = working_days_after(due.due, published_on)
    if late and not ctx.request.get("late_reason"):
        raise RuleViolation(
            "PUBLICATION_LATE", f"检查结果应于 {due.due.isoformat()} 前公开，已逾期{late}个工作日，请说明原因（late_reason）",
            f"due by {due.due.isoformat()}, {late} working days late; give late_reason",
            publish_due_by=due.due.isoformat(), late_working_days=late,
        )
    payload = dict(ctx.request, institution_id=inspection.institution_id, publish_due_by=due.due.isoformat(), late_working_days=late)
    return Decision(payload, published_on.isoformat(), version.name)


__all__ = ["RISK_CLASSES", "Inspection", "InspectionPlan"]
