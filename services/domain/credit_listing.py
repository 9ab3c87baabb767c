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
from uuid import UUID

from eventsourcing.domain import Aggregate

from events.credit import (
    LISTING_DECIDED,
    LISTING_DEFENCE_RECEIVED,
    LISTING_EXPIRED,
    LISTING_NOTICE_SERVED,
    LISTING_PROPOSED,
    LISTING_PUBLISHED,
    LISTING_REMOVED_EARLY,
)
from services.domain.decisions import Context, Decision
from services.domain.errors import Conflict, NotCompetent, RuleViolation
from services.domain.hazard import Hazard
from services.domain.institution import Institution
from services.domain.recorded import LedgerAggregate, Recorded
from services.domain.sanction import DECISION_STATES, SanctionCase, add_months
from services.domain.validation import check_shape, day_of, not_after_today
from services.domain.working_days import working_day_deadline

PROPOSED, NOTICED, DEFENDED, LISTED, NOT_LISTED, PUBLISHED = "proposed", "noticed", "defended", "listed", "not_listed", "published"
REMOVED, EXPIRED = "removed", "expired"
ACTIVE = (LISTED, PUBLISHED)


class CreditListing(LedgerAggregate):
    """State: ``institution_id``, ``region_code``, ``list``, ``ground``, ``status``,
    ``defence_deadline``, ``decided_on``, ``expires_on``, ``early_removal_from``."""

    NAME_ZH = "失信名单记录"

    class Proposed(Recorded, Aggregate.Created):
        EVENT_TYPE = LISTING_PROPOSED

        def evolve(self, listing: CreditListing) -> None:
            p = self.payload
            listing.institution_id, listing.region_code = p["institution_id"], p["region_code"]
            listing.list, listing.ground, listing.status = p["list"], p["ground"], PROPOSED
            listing.defence_deadline = listing.decided_on = listing.expires_on = listing.early_removal_from = None

    class NoticeServed(Recorded, Aggregate.Event):
        EVENT_TYPE = LISTING_NOTICE_SERVED

        def evolve(self, listing: CreditListing) -> None:
            listing.status, listing.defence_deadline = NOTICED, self.payload["defence_deadline"]

    class DefenceReceived(Recorded, Aggregate.Event):
        EVENT_TYPE = LISTING_DEFENCE_RECEIVED

        def evolve(self, listing: CreditListing) -> None:
            listing.status = DEFENDED

    class Decided(Recorded, Aggregate.Event):
        EVENT_TYPE = LISTING_DECIDED

        def evolve(self, listing: CreditListing) -> None:
            p = self.payload
            listing.status = LISTED if p["outcome"] == "listed" else NOT_LISTED
            listing.decided_on, listing.expires_on = p["decided_on"], p.get("expires_on")
            listing.early_removal_from = p.get("early_removal_from")

    class Published(Recorded, Aggregate.Event):
        EVENT_TYPE = LISTING_PUBLISHED

        def evolve(self, listing: CreditListing) -> None:
            listing.status = PUBLISHED

    class RemovedEarly(Recorded, Aggregate.Event):
        EVENT_TYPE = LISTING_REMOVED_EARLY

        def evolve(self, listing: CreditListing) -> None:
            listing.status = REMOVED

    class Expired(Recorded, Aggregate.Event):
        EVENT_TYPE = LISTING_EXPIRED

        def evolve(self, listing: CreditListing) -> None:
            listing.status = EXPIRED

    @classmethod
    def propose(cls, id: UUID, **record: Any) -> CreditListing:
        return cls._create(cls.Proposed, id=id, **record)

    def record(self, event_class: type, **record: Any) -> None:
        self.trigger_event(event_class, **record)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def require(self, *allowed: str, action_zh: str) -> None:
        if self.status not in allowed:
            raise Conflict(
                "LISTING_STATE_INVALID", f"名单记录当前状态为 {self.status}，不能{action_zh}",
                f"the listing is {self.status}; allowed only when {', '.join(allowed)}", status=self.status,
            )


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
    check_shape(LISTING_PROPOSED.fields, ctx.request, ("region_code",))
    institution = ctx.lookup.aggregate(Institution, ctx.request["institution_id"])
    region = institution.profile["region_code"]
    _require_supervisor(ctx, region)
    _check_grounding(ctx, str(institution.id))
    proposed_on = day_of(ctx, "proposed_on")
    version = ctx.rules.in_force(proposed_on)
    return Decision(dict(ctx.request, region_code=region), proposed_on.isoformat(), version.name)


def serve_notice(ctx: Context) -> Decision:
    listing: CreditListing = ctx.target
    listing.require(PROPOSED, action_zh="送达告知书")
    _require_supervisor(ctx, listing.region_code)
    check_shape(LISTING_NOTICE_SERVED.fields, ctx.request, ("institution_id", "defence_deadline"))
    served_on = day_of(ctx, "served_on")
    version = ctx.rules.in_force(served_on)
    deadline = working_day_deadline(served_on, version["listing.defence_working_days"])
    payload = dict(ctx.request, institution_id=listing.institution_id, defence_deadline=deadline.due.isoformat())
    return Decision(payload, served_on.isoformat(), version.name)


def receive_defence(ctx: Context) -> Decision:
    listing: CreditListing = ctx.target
    listing.require(NOTICED, action_zh="登记陈述申辩")
    _require_supervisor(ctx, listing.region_code)
    check_shape(LISTING_DEFENCE_RECEIVED.fields, ctx.request, ("institution_id",))
    received_on = day_of(ctx, "received_on")
    if received_on > date.fromisoformat(listing.defence_deadline):
        raise RuleViolation(
            "DEFENCE_LATE", f"陈述申辩期限已于 {listing.defence_deadline} 届满", "the defence window has closed",
        )
    version = ctx.rules.in_force(received_on)
    return Decision(dict(ctx.request, institution_id=listing.institution_id), received_on.isoformat(), version.name)


def decide(ctx: Context) -> Decision:
    listing: CreditListing = ctx.target
    court = listing.ground == "court_designation"
    listing.require(*((PROPOSED, NOTICED, DEFENDED) if court else (NOTICED, DEFENDED)), action_zh="作出列入决定")
    _require_supervisor(ctx, listing.region_code)
    check_shape(LISTING_DECIDED.fields, ctx.request, ("institution_id", "expires_on", "early_removal_from"))
    decided_on = day_of(ctx, "decided_on")
    if listing.defence_deadline and listing.status == NOTICED and decided_on <= date.fromisoformat(listing.defence_deadline):
        raise RuleViolation(
            "DEFENCE_PERIOD_OPEN", f"陈述申辩期限至 {listing.defence_deadline} 届满后方可决定",
            f"the defence window runs until {listing.defence_deadline}", open_until=listing.defence_deadline,
        )
    if court and ctx.request["outcome"] != "listed":
        raise RuleViolation("COURT_DESIGNATION_MANDATORY", "失信被执行人应依法列入", "a court designation lists mandatorily")
    version = ctx.rules.in_force(decided_on)
    payload = dict(ctx.request, institution_id=listing.institution_id)
    if ctx.request["outcome"] == "listed":
        payload["expires_on"] = add_months(decided_on, 12 * version["listing.term_years"]).isoformat()
        payload["early_removal_from"] = add_months(decided_on, 12 * version["listing.early_removal_after_years"]).isoformat()
    return Decision(payload, decided_on.isoformat(), version.name)


def publish(ctx: Context) -> Decision:
    listing: CreditListing = ctx.target
    listing.require(LISTED, action_zh="公布")
    _require_supervisor(ctx, listing.region_code)
    check_shape(LISTING_PUBLISHED.fields, ctx.request, ("institution_id",))
    published_on = day_of(ctx, "published_on")
    if published_on < date.fromisoformat(listing.decided_on):
        raise RuleViolation("DATE_ORDER_INVALID", "公布日期不能早于决定日期", "published before the decision")
    version = ctx.rules.in_force(published_on)
    return Decision(dict(ctx.request, institution_id=listing.institution_id), published_on.isoformat(), version.name)


def remove_early(ctx: Context) -> Decision:
    """On application after 2 years (param), with no new serious violation since the listing."""
    listing: CreditListing = ctx.target
    listing.require(*ACTIVE, action_zh="提前移出")
    _require_supervisor(ctx, listing.region_code)
    check_shape(LISTING_REMOVED_EARLY.fields, ctx.request, ("institution_id",))
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
    version = ctx.rules.in_force(removed_on)
    return Decision(dict(ctx.request, institution_id=listing.institution_id), removed_on.isoformat(), version.name)


def expire(ctx: Context) -> Decision:
    listing: CreditListing = ctx.target
    if not ctx.actor.user.startswith("system:"):
        raise NotCompetent("SYSTEM_ONLY", "期满移出由台账调度程序自动记录", "only the ledger's scheduler records this")
    listing.require(*ACTIVE, action_zh="期满移出")
    if ctx.today <= date.fromisoformat(listing.expires_on):
        raise RuleViolation("NOT_YET_DUE", f"名单有效期至 {listing.expires_on}", f"listed until {listing.expires_on}")
    payload = {"institution_id": listing.institution_id, "expired_on": ctx.today.isoformat()}
    return Decision(payload, ctx.today.isoformat(), ctx.rules.in_force(ctx.today).name)
