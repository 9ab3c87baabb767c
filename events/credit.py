"""Credit list events (失信联合惩戒对象名单 and 重点关注对象名单, 民发〔2019〕103号): proposal,
written notice, defence, decision, publication, expiry after the term, early removal.

Individuals named with a listing are published by name and role only; identity numbers never.
"""

from __future__ import annotations

from events.catalogue import CATALOGUE, EventType, Field, date_field
from events.record_kinds import Entry, RecordKind, State, Step, declare, payload

LIST_NAMES = {"joint_punishment": "养老服务市场失信联合惩戒对象名单", "key_attention": "重点关注名单"}
LISTS = tuple(LIST_NAMES)
GROUNDS = (
    "beyond_charter", "elder_rights_harm", "fraud_fundraising", "fire_hazard_unfixed", "safety_accident",
    "subsidy_fraud", "inspection_obstruction", "reporting_failure", "other_serious", "court_designation",
)
GROUND_NAMES = {
    "beyond_charter": "超出章程规定的宗旨和业务范围开展活动",
    "elder_rights_harm": "侵害老年人合法权益",
    "fraud_fundraising": "利用养老机构开展欺诈、非法集资或推销保健品",
    "fire_hazard_unfixed": "存在重大火灾隐患，逾期不改正",
    "safety_accident": "对安全事故负主要责任或直接责任",
    "subsidy_fraud": "骗取补贴",
    "inspection_obstruction": "拒绝、阻挠监督检查或提供虚假材料",
    "reporting_failure": "未按规定报送年度报告或公开信息",
    "other_serious": "其他严重违法失信行为",
    "court_designation": "被人民法院依法判定为失信被执行人",
}



INSTITUTION = Field("institution_id", "string", "机构编号", public=True, max_length=36)
PERSON = Field(
    "person", "object", "相关责任人", public=True,
    fields=(
        Field("name", "string", "姓名", public=True, max_length=50),
        Field("role", "string", "职务", public=True, max_length=50),
        Field("id_no", "string", "身份证件号码", required=False, max_length=18),
    ),
)

LISTING_PROPOSED = CATALOGUE.register(EventType(
    name="CreditListingProposed", version=1, aggregate_type="CreditListing", title_zh="拟列入失信名单",
    description="The supervising civil affairs proposes a listing on one of the 9 grounds, or a court designation, citing the decision that grounds it.",
    fields=(
        INSTITUTION,
        Field("list", "enum", "名单类别", public=True, enum=LIST_NAMES),
        Field("ground", "enum", "列入事由", public=True, enum=GROUND_NAMES),
        Field("grounding_kind", "enum", "依据文书类别", public=True, enum={"sanction_case": "行政处罚决定", "hazard": "重大隐患逾期未改", "court_judgment": "人民法院裁判"}),
        Field("grounding_ref", "string", "依据文书（处罚案件编号、隐患编号或判决书文号）", public=True, max_length=100),
        Field("persons", "array", "相关责任人", public=True, required=False, items=PERSON),
        date_field("proposed_on", "拟列入日期"),
        Field("region_code", "string", "机构所在地行政区划", public=True, pattern=r"^\d{6}$"),
    ),
))

LISTING_NOTICE_SERVED = CATALOGUE.register(EventType(
    name="CreditListingNoticeServed", version=1, aggregate_type="CreditListing", title_zh="送达拟列入告知书",
    description="Written notice; the party may state and defend itself within the window (param: 5 working days).",
    fields=(INSTITUTION, date_field("served_on", "送达日期"), date_field("defence_deadline", "陈述申辩截止日", public=False)),
))

LISTING_DEFENCE_RECEIVED = CATALOGUE.register(EventType(
    name="CreditListingDefenceReceived", version=1, aggregate_type="CreditListing", title_zh="收到陈述申辩",
    description="The party's statement and defence, received within the window.",
    fields=(INSTITUTION, date_field("received_on", "收到日期", public=False), Field("summary", "text", "陈述申辩要点", max_length=4000)),
))

LISTING_DECIDED = CATALOGUE.register(EventType(
    name="CreditListingDecided", version=1, aggregate_type="CreditListing", title_zh="决定列入失信名单",
    description="Decided after the defence window (a court designation lists at once); the term (param: 3 years) runs from the decision.",
    fields=(
        INSTITUTION,
        Field("outcome", "enum", "决定", public=True, enum={"listed": "决定列入", "not_listed": "决定不予列入"}),
        date_field("decided_on", "决定日期"),
        Field("reasons", "text", "理由（含对陈述申辩的采纳情况）", public=True, max_length=2000),
        date_field("expires_on", "期满日期", required=False),
        date_field("early_removal_from", "可申请提前移出日期", required=False),
        # a listing decided before the ledger, imported from the register: it creates its record
        Field("list", "enum", "名单类别", public=True, required=False, enum=LIST_NAMES),
        Field("ground", "enum", "列入事由", public=True, required=False, enum=GROUND_NAMES),
        Field("grounding_ref", "string", "原列入依据文书", public=True, required=False, max_length=100),
        Field("persons", "array", "相关责任人", public=True, required=False, items=PERSON),
        Field("region_code", "string", "机构所在地行政区划", public=True, required=False, pattern=r"^\d{6}$"),
    ),
))

LISTING_PUBLISHED = CATALOGUE.register(EventType(
    name="CreditListingPublished", version=1, aggregate_type="CreditListing", title_zh="公布失信名单",
    description="The listing is published; the public list shows only current entries.",
    fields=(INSTITUTION, date_field("published_on", "公布日期")),
))

LISTING_REMOVED_EARLY = CATALOGUE.register(EventType(
    name="CreditListingRemovedEarly", version=1, aggregate_type="CreditListing", title_zh="提前移出失信名单",
    description="On application after 2 years (param) with no new serious violation, or once rectification is complete.",
    fields=(
        INSTITUTION,
        date_field("applied_on", "申请日期", public=False),
        date_field("removed_on", "移出日期"),
        Field("basis_of_removal", "enum", "移出情形", public=True, enum={"no_new_violation": "列入期间未再发生失信行为", "rectification_completed": "失信行为已整改纠正"}),
    ),
))

LISTING_EXPIRED = CATALOGUE.register(EventType(
    name="CreditListingExpired", version=1, aggregate_type="CreditListing", title_zh="期满移出失信名单",
    description="Recorded by the scheduler when the term ends: automatic removal.",
    fields=(INSTITUTION, date_field("expired_on", "移出日期")),
))


# --- the listing's lifecycle ---------------------------------------------------------------------

PROPOSED, NOTICED, DEFENDED, LISTED, NOT_LISTED, PUBLISHED = "proposed", "noticed", "defended", "listed", "not_listed", "published"
REMOVED, EXPIRED = "removed", "expired"
ACTIVE = (LISTED, PUBLISHED)


IMPORTED_ONLY = ("list", "ground", "grounding_ref", "persons", "region_code")  # what the proposal said, for an import


def _imported_listing(_: State, entry: Entry) -> State:
    """A listing decided before the ledger, imported from the register: the record starts listed."""
    p = payload(entry)
    return {"institution_id": p["institution_id"], "region_code": p["region_code"], "list": p["list"], "ground": p["ground"],
            "persons": p.get("persons", []), "proposed_on": p["decided_on"], "defence_deadline": None, "published_on": None,
            "ended_on": None, **_decided({}, entry)}


def _decided(state: State, entry: Entry) -> State:
    p = payload(entry)
    return {"status": LISTED if p["outcome"] == "listed" else NOT_LISTED, "decided_on": p["decided_on"],
            "expires_on": p.get("expires_on"), "early_removal_from": p.get("early_removal_from")}


CREDIT_LISTING = declare(RecordKind(
    name="CreditListing", title_zh="失信名单记录", refusal_code="LISTING_STATE_INVALID",
    states={PROPOSED: "拟列入", NOTICED: "已送达告知书", DEFENDED: "已陈述申辩", LISTED: "已决定列入", NOT_LISTED: "决定不予列入",
            PUBLISHED: "已公布", REMOVED: "已提前移出", EXPIRED: "已期满移出"},
    fields=(
        INSTITUTION,
        Field("region_code", "string", "机构所在地行政区划", public=True),
        LISTING_PROPOSED.field_named("list"),
        LISTING_PROPOSED.field_named("ground"),
        LISTING_PROPOSED.field_named("persons"),
        date_field("proposed_on", "拟列入日期"),
        LISTING_NOTICE_SERVED.field_named("defence_deadline"),
        date_field("decided_on", "决定日期", required=False),
        date_field("expires_on", "期满日期", required=False),
        date_field("early_removal_from", "可申请提前移出日期", required=False),
        date_field("published_on", "公布日期", required=False),
        date_field("ended_on", "移出日期", required=False),
    ),
    steps=(
        Step(LISTING_PROPOSED, "拟列入", to=PROPOSED, computed=("region_code",),
             sets=lambda s, e: {"institution_id": payload(e)["institution_id"], "region_code": payload(e)["region_code"],
                                "list": payload(e)["list"], "ground": payload(e)["ground"], "persons": payload(e).get("persons", []),
                                "proposed_on": payload(e)["proposed_on"], "defence_deadline": None, "decided_on": None,
                                "expires_on": None, "early_removal_from": None, "published_on": None, "ended_on": None}),
        Step(LISTING_NOTICE_SERVED, "送达告知书", after=(PROPOSED,), to=NOTICED, computed=("institution_id", "defence_deadline"),
             sets=lambda s, e: {"defence_deadline": payload(e)["defence_deadline"]}),
        Step(LISTING_DEFENCE_RECEIVED, "登记陈述申辩", after=(NOTICED,), to=DEFENDED, computed=("institution_id",)),
        Step(LISTING_DECIDED, "作出列入决定", after=(PROPOSED, NOTICED, DEFENDED), sets=_decided,
             computed=("institution_id", "expires_on", "early_removal_from", *IMPORTED_ONLY)),
        Step(LISTING_DECIDED, "列入失信名单（本系统启用前，导入）", sets=_imported_listing,
             computed=("region_code", "expires_on", "early_removal_from"), imported=True),
        Step(LISTING_PUBLISHED, "公布", after=(LISTED,), to=PUBLISHED, computed=("institution_id",),
             sets=lambda s, e: {"published_on": payload(e)["published_on"]}),
        Step(LISTING_REMOVED_EARLY, "提前移出", after=ACTIVE, to=REMOVED, computed=("institution_id",),
             sets=lambda s, e: {"ended_on": payload(e)["removed_on"]}),
        Step(LISTING_EXPIRED, "期满移出", after=ACTIVE, to=EXPIRED, computed=("institution_id", "expired_on"),
             sets=lambda s, e: {"ended_on": s["expires_on"]}, falls_due=lambda s: s["expires_on"]),
    ),
))
