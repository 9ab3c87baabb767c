"""Credit lists (民发〔2019〕103号): "谁监管、谁列入、谁惩戒、谁负责".

proposed (citing the decision that grounds it) → written notice → statement and defence within the
window, counted in Chinese working days → decided (listed or not) → published → expired after the
term, or removed early on application after the minimum. A court 失信被执行人 designation lists
without the defence window. Other rules read the list through the institution's standing: no
grading, more frequent inspection.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from events.credit import ACTIVE, CREDIT_LISTING, NOTICED, PROPOSED
from events.working_days import Deadline, working_day_deadline
from services.domain.decisions import Context, Decision
from services.domain.errors import Conflict, RuleViolation
from services.domain.hazard import Hazard
from services.domain.institution import Institution
from services.domain.recorded import LedgerAggregate
from services.domain.sanction import DECISION_STATES, SanctionCase, add_months
from services.domain.validation import day_of, not_after_today

__all__ = ["ACTIVE", "CreditListing"]


class CreditListing(LedgerAggregate):
    """State (events/credit.py ``CREDIT_LISTING``): ``institution_id``, ``region_code``, ``list``,
    ``ground``, ``status``, ``defence_deadline``, ``decided_on``, ``expires_on``,
    ``early_removal_from``."""

    KIND = CREDIT_LISTING
    NAME_ZH = CREDIT_LISTING.title_zh

    @property
    def active(self) -> bool:
        return self.status in ACTIVE



def _day(request: dict[str, Any], name: str) -> date:
    return date.fromisoformat(request[name])


def _require_supervisor(ctx: Context, region_code: str) -> None:
    """谁监管、谁列入: the supervising civil affairs within its jurisdiction."""
    ctx.actor.require_role("officer")
    ctx.actor.require_department("civil_affairs")
    ctx.actor.require_jurisdiction(region_code)


def _check_grounding(ctx: Context, institution_id: str) -> None:
    """Each listing cites the decision that grounds it, and it must say what the ground says."""
    kind, ref, ground = ctx.request["grounding_kind"], ctx.request["grounding_ref"], ctx.request["ground"]
    if ground == "court_designation" and kind != "court_judgment":
        raise RuleViolation("GROUNDING_MISMATCH", "失信被执行人应以人民法院文书为依据", "a court designation cites the court's document")
    if kind == "court_judgment":
        if ground != "court_designation":
            raise RuleViolation("GROUNDING_MISMATCH", "法院文书仅作为失信被执行人的依据", "a court document grounds a court designation only")
        return
    cls = SanctionCase if kind == "sanction_case" else Hazard
    grounding = ctx.lookup.aggregate(cls, ref)
    if grounding.institution_id != institution_id:
        raise RuleViolation("GROUNDING_MISMATCH", "依据文书不属于该机构", "the grounding decision concerns another institution")
    if kind == "sanction_case" and (grounding.status not in DECISION_STATES or not grounding.effective_penalties):
        raise RuleViolation("GROUNDING_NOT_DECIDED", "依据的行政处罚尚未作出或已被撤销", "the grounding penalty is not in force")
    if kind == "hazard":
        if ground != "fire_hazard_unfixed":
            raise RuleViolation("GROUNDING_MISMATCH", "隐患记录只能作为“重大火灾隐患逾期不改”的依据", "a hazard grounds only the fire-hazard ground")
        if not (grounding.severity == "major" and grounding.status == "overdue"):
            raise RuleViolation("GROUNDING_NOT_DECIDED", "依据的隐患须为逾期未整改的重大隐患", "the hazard must be major and overdue")


def propose(ctx: Context) -> Decision:
    institution = ctx.lookup.aggregate(Institution, ctx.request["institution_id"])
    region = institution.profile["region_code"]
    _require_supervisor(ctx, region)
    _check_grounding(ctx, str(institution.id))
    proposed_on = day_of(ctx, "proposed_on")
    version = ctx.rules.in_force(proposed_on, region)
    version.param("listing.term_years")  # the list exists only from 民发〔2019〕103号 on
    return Decision(dict(ctx.request, region_code=region), proposed_on.isoformat(), version.name)


def defence_deadline(served_on: date, working_days: int) -> Deadline:
    return working_day_deadline(served_on, working_days)


def _defence_deadline_now(ctx: Context, listing: CreditListing) -> date:
    """The defence window's last day, recomputed from the notice's service with the calendar known
    now: a window first judged on a provisional calendar follows the official one once it is known."""
    notice = next(d for d in reversed(listing.decisions) if d["event_type"] == "CreditListingNoticeServed")
    served_on = date.fromisoformat(notice["payload"]["served_on"])
    version = ctx.rules.in_force(served_on, listing.region_code)
    return defence_deadline(served_on, version["listing.defence_working_days"]).due


def serve_notice(ctx: Context) -> Decision:
    listing: CreditListing = ctx.target
    _require_supervisor(ctx, listing.region_code)
    served_on = day_of(ctx, "served_on")
    version = ctx.rules.in_force(served_on, listing.region_code)
    deadline = defence_deadline(served_on, version["listing.defence_working_days"])
    payload = dict(ctx.request, institution_id=listing.institution_id, defence_deadline=deadline.due.isoformat())
    return Decision(payload, served_on.isoformat(), version.name)


def receive_defence(ctx: Context) -> Decision:
    listing: CreditListing = ctx.target
    _require_supervisor(ctx, listing.region_code)
    received_on = day_of(ctx, "received_on")
    until = _defence_deadline_now(ctx, listing)
    if received_on > until:
        raise RuleViolation(
            "DEFENCE_LATE", f"陈述申辩期限已于 {until.isoformat()} 届满", "the defence window has closed",
        )
    version = ctx.rules.in_force(received_on, listing.region_code)
    return Decision(dict(ctx.request, institution_id=listing.institution_id), received_on.isoformat(), version.name)


def decide(ctx: Context) -> Decision:
    listing: CreditListing = ctx.target
    court = listing.ground == "court_designation"
    if listing.status == PROPOSED and not court:
        raise Conflict(
            "LISTING_STATE_INVALID", "须先送达拟列入告知书、陈述申辩期满后方可作出列入决定（人民法院认定的失信被执行人除外）",
            "only a court designation is decided without the written notice and defence window", status=listing.status,
        )
    _require_supervisor(ctx, listing.region_code)
    decided_on = day_of(ctx, "decided_on")
    if listing.defence_deadline and listing.status == NOTICED and decided_on <= (until := _defence_deadline_now(ctx, listing)):
        raise RuleViolation(
            "DEFENCE_PERIOD_OPEN", f"陈述申辩期限至 {until.isoformat()} 届满后方可决定",
            f"the defence window runs until {until.isoformat()}", open_until=until.isoformat(),
        )
    if court and ctx.request["outcome"] != "listed":
        raise RuleViolation("COURT_DESIGNATION_MANDATORY", "失信被执行人应依法列入", "a court designation lists mandatorily")
    version = ctx.rules.in_force(decided_on, listing.region_code)
    payload = dict(ctx.request, institution_id=listing.institution_id)
    if ctx.request["outcome"] == "listed":
        payload["expires_on"] = add_months(decided_on, 12 * version["listing.term_years"]).isoformat()
        payload["early_removal_from"] = add_months(decided_on, 12 * version["listing.early_removal_after_years"]).isoformat()
    return Decision(payload, decided_on.isoformat(), version.name)


def publish(ctx: Context) -> Decision:
    listing: CreditListing = ctx.target
    _require_supervisor(ctx, listing.region_code)
    published_on = day_of(ctx, "published_on")
    if published_on < date.fromisoformat(listing.decided_on):
        raise RuleViolation("DATE_ORDER_INVALID", "公布日期不能早于决定日期", "published before the decision")
    version = ctx.rules.in_force(published_on, listing.region_code)
    return Decision(dict(ctx.request, institution_id=listing.institution_id), published_on.isoformat(), version.name)


def remove_early(ctx: Context) -> Decision:
    """On application after 2 years (param), with no new serious violation since the listing."""
    listing: CreditListing = ctx.target
    _require_supervisor(ctx, listing.region_code)
    removed_on, applied_on = _day(ctx.request, "removed_on"), _day(ctx.request, "applied_on")
    not_after_today(removed_on, ctx.today, "removed_on")
    if applied_on < date.fromisoformat(listing.early_removal_from):
        raise RuleViolation(
            "EARLY_REMOVAL_TOO_SOON", f"列入满2年（{listing.early_removal_from} 起）方可申请提前移出",
            f"early removal may be asked for from {listing.early_removal_from}",
        )
    if ctx.request["basis_of_removal"] == "no_new_violation":
        standing = ctx.lookup.standing(listing.institution_id)
        newer = [c for c in standing.of_type("SanctionCase") if c.effective_penalties and c.decision["decided_on"] > listing.decided_on]
        if newer:
            raise RuleViolation("NEW_VIOLATION", "列入后又受到行政处罚，不能以无新的违法行为为由提前移出", "a penalty since the listing")
    version = ctx.rules.in_force(removed_on, listing.region_code)
    return Decision(dict(ctx.request, institution_id=listing.institution_id), removed_on.isoformat(), version.name)


def expire(ctx: Context) -> Decision:
    listing: CreditListing = ctx.target
    if ctx.today <= date.fromisoformat(listing.expires_on):
        raise RuleViolation("NOT_YET_DUE", f"名单有效期至 {listing.expires_on}", f"listed until {listing.expires_on}")
    payload = {"institution_id": listing.institution_id, "expired_on": ctx.today.isoformat()}
    return Decision(payload, ctx.today.isoformat(), ctx.rules.in_force(ctx.today, listing.region_code).name)


def import_listing(ctx: Context) -> Decision:
    """A listing decided before the ledger, from an imported register (never a decision made now):
    the supervising civil affairs over the institution's region records it; its term follows the
    rules of its date (the list exists from 民发〔2019〕103号 on)."""
    institution = ctx.lookup.aggregate(Institution, ctx.request["institution_id"])
    region = institution.profile["region_code"]
    _require_supervisor(ctx, region)
    if ctx.request["outcome"] != "listed" or not ctx.request.get("list") or not ctx.request.get("ground"):
        raise RuleViolation("IMPORT_LISTING_INCOMPLETE", "导入的列入决定须为“决定列入”，并载明名单类别和列入事由",
                            "an imported listing is a decision to list, with its list and ground")
    decided_on = day_of(ctx, "decided_on")
    version = ctx.rules.in_force(decided_on, region)
    payload = dict(ctx.request, region_code=region,
                   expires_on=add_months(decided_on, 12 * version["listing.term_years"]).isoformat(),
                   early_removal_from=add_months(decided_on, 12 * version["listing.early_removal_after_years"]).isoformat())
    return Decision(payload, decided_on.isoformat(), version.name)
