"""Registration rules: discovering an unfiled institution, and filing (备案).

Each function takes the request as the department sent it, checks every rule, and returns the
payload of the event to record (with the deadlines it computed and the rule version that judged
it). It raises a DomainError naming the first rule broken; nothing is recorded then.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from events.working_days import working_day_deadline, working_days_after
from services.domain import regions
from services.domain.actors import Actor
from services.domain.credit_code import validate_credit_code
from services.domain.decisions import Context, Decision
from services.domain.errors import NotCompetent, RuleViolation
from services.domain.validation import not_after_today

MATERIAL_NAMES = {
    "application_form": "备案申请书",
    "registration_certificate": "登记证书",
    "compliance_commitment": "承诺书",
}


def discover(ctx: Context) -> Decision:
    """Record a facility taking in elders without filing. Any supervising department may report
    one within its jurisdiction ("线索互联"); the first on-site inspection is due within 20 working
    days of discovery (66号令)."""
    request, actor, today = ctx.request, ctx.actor, ctx.today
    actor.require_role("officer")
    region = regions.validate_region_code(request["region_code"], level="county")
    actor.require_jurisdiction(region)
    payload = dict(request)
    if "credit_code" in payload:
        payload["credit_code"] = validate_credit_code(payload["credit_code"])
    discovered_on = date.fromisoformat(request["discovered_on"])
    not_after_today(discovered_on, today, "discovered_on")
    version = ctx.rules.in_force(discovered_on, region)
    due = working_day_deadline(discovered_on, version["inspection.first_within_working_days"])
    payload.update(inspection_due_by=due.due.isoformat(), calendar=due.calendar)
    claims = (("credit_code", payload["credit_code"]),) if "credit_code" in payload else ()
    return Decision(payload, discovered_on.isoformat(), version.name, claims)


def require_filing_competence(actor: Actor, request: dict[str, Any], *, imported: bool = False) -> None:
    """For-profit institutions file with the county civil affairs where the service site is; non-
    profit ones with the civil affairs at the same level as their registration authority (66号令).
    An ``imported`` filing (made before the ledger) is recorded by a civil-affairs officer whose
    jurisdiction covers the site, at any level."""
    actor.require_role("officer")
    actor.require_department("civil_affairs")
    site = request["region_code"]
    if imported:
        actor.require_jurisdiction(site)
        return
    if request["nature"] == "for_profit":
        if actor.level != "county" or actor.region != site:
            raise NotCompetent(
                "FILING_AUTHORITY_MISMATCH",
                f"营利性养老机构应向服务场所所在地县级民政部门（{site}）备案",
                f"a for-profit institution files with the county civil affairs of its site ({site})",
                competent_level="county",
                competent_region=site,
                field="region_code",
            )
        return
    authority = request["registration_authority"]
    level, region = authority["level"], authority["region_code"]
    if actor.level != level or actor.region != region:
        raise NotCompetent(
            "FILING_AUTHORITY_MISMATCH",
            f"非营利性养老机构应向登记管理机关同级民政部门（{region}）备案",
            f"a non-profit institution files with the civil affairs at its registration authority's level ({level} {region})",
            competent_level=level,
            competent_region=region,
            field="registration_authority.level",
        )
    actor.require_jurisdiction(site)


def file(ctx: Context) -> Decision:
    """File an institution on complete materials, within 10 working days of its first resident.
    An institution on the known-unfiled list (``ctx.target``) is filed once only (its lifecycle)."""
    request, actor, today = ctx.request, ctx.actor, ctx.today
    payload = dict(request)
    payload["credit_code"] = validate_credit_code(request["credit_code"])
    regions.validate_region_code(request["region_code"], level="county")
    authority = request["registration_authority"]
    regions.validate_region_code(authority["region_code"], level=authority["level"])
    require_filing_competence(actor, request, imported=ctx.imported)

    filed_on = date.fromisoformat(request["filed_on"])
    version = ctx.rules.in_force(filed_on, request["region_code"])
    if request["beds"] < version["institution.minimum_beds"]:
        raise RuleViolation(
            "BEDS_BELOW_MINIMUM",
            f"养老机构床位数应在{version['institution.minimum_beds']}张以上，申报{request['beds']}张",
            f"an elderly-care institution has at least {version['institution.minimum_beds']} beds; {request['beds']} declared",
            beds=request["beds"],
        )
    if request["nursing_beds"] > request["beds"]:
        raise RuleViolation(
            "NURSING_BEDS_EXCEED_BEDS",
            "护理型床位数不能超过床位总数",
            "nursing-type beds cannot exceed the total number of beds",
        )
    missing = [name for name, present in request["materials"].items() if not present]
    if missing:
        raise RuleViolation(
            "FILING_MATERIALS_INCOMPLETE",
            f"备案材料不齐全（缺少：{'、'.join(MATERIAL_NAMES[m] for m in missing)}），请指导申请人补正，不予出具备案回执",
            f"filing materials incomplete (missing: {', '.join(missing)}); guide the applicant to complete them, no receipt is issued",
            missing=missing,
        )

    admitted_on = date.fromisoformat(request["first_resident_admitted_on"])
    received_on = date.fromisoformat(request["application_received_on"])
    if not admitted_on <= received_on <= filed_on:
        raise RuleViolation(
            "DATE_ORDER_INVALID",
            "日期顺序有误：应为 首次收住老年人日期 ≤ 备案申请受理日期 ≤ 备案日期",
            "dates out of order: first_resident_admitted_on <= application_received_on <= filed_on",
        )
    not_after_today(filed_on, today, "filed_on")

    deadline = working_day_deadline(admitted_on, version["filing.deadline_working_days"])
    late = working_days_after(deadline.due, received_on)
    if late and not request.get("late_filing_reason", "").strip():
        raise RuleViolation(
            "FILING_LATE",
            f"逾期备案：应于 {deadline.due.isoformat()} 前（收住老年人后{version['filing.deadline_working_days']}个工作日内）申请备案，"
            f"已逾期{late}个工作日。如确需受理，请在 late_filing_reason 中说明逾期情况，逾期将记入监管记录",
            f"late filing: due by {deadline.due.isoformat()} ({version['filing.deadline_working_days']} working days after the "
            f"first resident), {late} working days late; to accept it, state the circumstances in late_filing_reason",
            filing_due_by=deadline.due.isoformat(),
            late_working_days=late,
        )
    inspection = working_day_deadline(filed_on, version["inspection.first_within_working_days"])
    payload.update(
        filing_due_by=deadline.due.isoformat(),
        late_working_days=late,
        inspection_due_by=inspection.due.isoformat(),
        calendar=inspection.calendar,  # the later date: names the wider span the calendar judged
    )
    claims = (("credit_code", payload["credit_code"]), ("receipt_no", payload["receipt_no"]))
    return Decision(payload, filed_on.isoformat(), version.name, claims)
