"""Administrative penalty (行政处罚) events: the case from filing (立案) through notice of the
intended penalty, hearing, decision, service and execution to closure; changes by review or
litigation; and the decision's publication with its period, withdrawal and early stop (信用修复).

Sources: 《行政处罚法》(2021) 第9、44-48、59-64条; 民政部令第66号 第46条; 《市场监督管理行政
处罚信息公示规定》as the closest national template for publication; NDRC credit rules of 2019
(527号), 2023-05-01 (58号令) and 2026-04-01 (信用修复管理办法) for publication periods.
"""

from __future__ import annotations

from events.catalogue import CATALOGUE, EventType, Field, date_field
from events.record_kinds import Entry, RecordKind, State, Step, declare, payload

PENALTY_TYPE_NAMES = {  # 《行政处罚法》第九条
    "warning": "警告", "circulated_criticism": "通报批评", "fine": "罚款", "confiscation_illegal_gains": "没收违法所得",
    "confiscation_property": "没收非法财物", "license_suspension": "暂扣许可证件", "qualification_downgrade": "降低资质等级",
    "license_revocation": "吊销许可证件", "business_restriction": "限制开展生产经营活动", "suspension_ordered": "责令停产停业",
    "closure_ordered": "责令关闭", "practice_restriction": "限制从业",
}
PENALTY_TYPES = tuple(PENALTY_TYPE_NAMES)
# 66号令 第46条 (1)-(9) are civil affairs' grounds; the others name the law another department enforces.
GROUND_NAMES = {
    **{f"MCA66-46.{i}": f"《养老机构管理办法》第四十六条第（{numeral}）项" for i, numeral in enumerate("一二三四五六七八九", 1)},
    "FIRE": "消防安全违法行为（《消防法》）", "FOOD": "食品安全违法行为（《食品安全法》）",
    "SPECIAL_EQUIPMENT": "特种设备安全违法行为（《特种设备安全法》）", "MEDICAL": "医疗卫生违法行为",
    "BUILDING": "建筑安全违法行为", "WORK_SAFETY": "安全生产违法行为（《安全生产法》）", "TCM": "中医药违法行为（《中医药法》）",
    "LABOUR": "劳动保障违法行为",
}
GROUNDS = tuple(GROUND_NAMES)
PUBLICATION_CLASS_NAMES = {"minor": "轻微失信", "ordinary": "一般失信", "serious": "严重失信"}
PUBLICATION_CLASSES = tuple(PUBLICATION_CLASS_NAMES)



INSTITUTION = Field("institution_id", "string", "机构编号", public=True, max_length=36)
PENALTY = Field(
    "penalty", "object", "处罚", public=True,
    fields=(
        Field("type", "enum", "处罚种类", public=True, enum=PENALTY_TYPE_NAMES),
        Field("amount", "decimal", "金额（元）", public=True, required=False),
    ),
)


def _penalties(title: str, public: bool = True) -> Field:
    return Field("penalties", "array", title, public=public, items=PENALTY)


CASE_FILED = CATALOGUE.register(EventType(
    name="SanctionCaseFiled", version=1, aggregate_type="SanctionCase", title_zh="行政处罚立案",
    description="立案 by the department competent for the ground (谁主管谁监管); the 90-day clock starts.",
    fields=(
        INSTITUTION,
        Field("ground", "enum", "违法情形/依据类别", public=True, enum=GROUND_NAMES),
        Field("facts_summary", "text", "涉嫌违法事实（立案时）", max_length=2000),
        date_field("filed_on", "立案日期"),
        Field("region_code", "string", "机构所在地行政区划", public=True, pattern=r"^\d{6}$"),
        date_field("decide_by", "应作出决定日期（立案后90日）", public=False),
    ),
))

NOTICE_SERVED = CATALOGUE.register(EventType(
    name="PenaltyNoticeServed", version=1, aggregate_type="SanctionCase", title_zh="送达行政处罚告知书",
    description="The intended penalty, facts and basis, and the right to statement, defence and (where due) a hearing.",
    fields=(
        INSTITUTION,
        date_field("served_on", "告知书送达日期"),
        _penalties("拟作出的处罚", public=False),
        Field("facts", "text", "违法事实", max_length=4000),
        Field("legal_basis", "text", "处罚依据", max_length=1000),
        Field("hearing_eligible", "boolean", "是否告知听证权利"),
        date_field("statement_deadline", "陈述申辩期限", public=False),
        date_field("hearing_request_deadline", "听证申请期限", public=False, required=False),
    ),
))

HEARING_REQUESTED = CATALOGUE.register(EventType(
    name="HearingRequested", version=1, aggregate_type="SanctionCase", title_zh="当事人申请听证",
    description="Within 5 days of the notice (《行政处罚法》第64条).",
    fields=(INSTITUTION, date_field("requested_on", "申请日期", public=False)),
))

HEARING_SCHEDULED = CATALOGUE.register(EventType(
    name="HearingScheduled", version=1, aggregate_type="SanctionCase", title_zh="通知听证",
    description="The party is told of the hearing at least 7 days before it (《行政处罚法》第64条).",
    fields=(INSTITUTION, date_field("notified_on", "通知日期", public=False), date_field("hearing_on", "听证日期", public=False)),
))

HEARING_HELD = CATALOGUE.register(EventType(
    name="HearingHeld", version=1, aggregate_type="SanctionCase", title_zh="举行听证",
    description="The hearing took place.",
    fields=(INSTITUTION, date_field("held_on", "听证日期", public=False), Field("record_ref", "string", "听证笔录编号", max_length=100)),
))

PENALTY_DECIDED = CATALOGUE.register(EventType(
    name="PenaltyDecided", version=1, aggregate_type="SanctionCase", title_zh="作出行政处罚决定",
    description=(
        "The decision (《行政处罚法》第59条 fields): document number, facts, basis, penalties, how and by "
        "when to comply, remedies, deciding authority and date. Never heavier than the notice's "
        "penalty (第45条); within 90 days of filing unless extended (第60条)."
    ),
    fields=(
        INSTITUTION,
        Field("decision_no", "string", "行政处罚决定书文号", public=True, max_length=100),
        date_field("decided_on", "决定日期"),
        Field("violation_type", "string", "违法行为类型", public=True, max_length=200),
        Field("facts", "text", "违法事实", public=True, max_length=4000),
        Field("legal_basis", "text", "处罚依据", public=True, max_length=1000),
        _penalties("处罚内容"),
        Field("compliance", "text", "履行方式和期限", public=True, max_length=1000),
        Field("remedies", "text", "救济途径和期限", public=True, max_length=1000),
        Field("deciding_authority", "string", "作出决定的行政机关", public=True, max_length=200),
        Field("extension_approved_by", "string", "延期决定批准人", required=False, max_length=100),
        # a decision taken before the ledger, imported from the register: it creates its case
        Field("ground", "enum", "违法情形/依据类别", public=True, required=False, enum=GROUND_NAMES),
        date_field("filed_on", "立案日期", required=False),
        Field("region_code", "string", "机构所在地行政区划", public=True, required=False, pattern=r"^\d{6}$"),
    ),
))
IMPORTED_ONLY = ("ground", "filed_on", "region_code")  # what the case's earlier steps said, for an import

DECISION_SERVED = CATALOGUE.register(EventType(
    name="PenaltyDecisionServed", version=1, aggregate_type="SanctionCase", title_zh="送达处罚决定书",
    description="Served on the party; within 7 days when the party was absent (第61条).",
    fields=(INSTITUTION, date_field("served_on", "送达日期"), Field("late_days", "integer", "超出送达期限天数", minimum=0)),
))

PENALTY_EXECUTED = CATALOGUE.register(EventType(
    name="PenaltyExecuted", version=1, aggregate_type="SanctionCase", title_zh="处罚执行完毕",
    description="The party complied (fine paid, order carried out).",
    fields=(INSTITUTION, date_field("executed_on", "执行完毕日期"), Field("details", "text", "执行情况", public=True, max_length=1000)),
))

CASE_CLOSED = CATALOGUE.register(EventType(
    name="SanctionCaseClosed", version=1, aggregate_type="SanctionCase", title_zh="结案",
    description="The case is closed after execution, or without a penalty.",
    fields=(
        INSTITUTION,
        date_field("closed_on", "结案日期"),
        Field("outcome", "enum", "结案情形", public=True, enum={"executed": "执行完毕", "no_penalty": "不予行政处罚", "revoked": "处罚决定被撤销"}),
    ),
))

DECISION_REVIEWED = CATALOGUE.register(EventType(
    name="PenaltyDecisionReviewed", version=1, aggregate_type="SanctionCase", title_zh="复议或诉讼改变、撤销处罚决定",
    description="Reconsideration (复议) or litigation changed or revoked the decision; a published decision is withdrawn within 3 days.",
    fields=(
        INSTITUTION,
        Field("outcome", "enum", "结果", public=True, enum={"changed": "变更", "revoked": "撤销", "confirmed_unlawful": "确认违法", "confirmed_void": "确认无效"}),
        Field("authority", "string", "复议机关或法院", public=True, max_length=200),
        Field("document_no", "string", "复议决定书或判决书文号", public=True, max_length=100),
        date_field("decided_on", "作出日期"),
        _penalties("变更后的处罚"),
    ),
))

PENALTY_PUBLISHED = CATALOGUE.register(EventType(
    name="PenaltyPublished", version=1, aggregate_type="SanctionCase", title_zh="公示行政处罚信息",
    description=(
        "Published within 20 working days of the decision; warning-only penalties are not published. "
        "Its class fixes the minimum and maximum period under the rules in force on the decision date."
    ),
    fields=(
        INSTITUTION,
        date_field("published_on", "公示日期"),
        Field("publication_class", "enum", "失信程度", public=True, enum=PUBLICATION_CLASS_NAMES),
        date_field("earliest_repair_on", "最短公示期届满日（可申请信用修复）"),
        date_field("publish_until", "最长公示期届满日"),
        Field("late_reason", "text", "逾期公示说明", required=False, max_length=1000),
        Field("necessity_reason", "text", "确需公示的理由（轻微失信信息）", public=True, required=False, max_length=1000),
    ),
))

PUBLICATION_WITHDRAWN = CATALOGUE.register(EventType(
    name="PenaltyPublicationWithdrawn", version=1, aggregate_type="SanctionCase", title_zh="撤回公示的处罚信息",
    description="Within 3 days of the decision being changed or revoked (第48条), with the reason published.",
    fields=(
        INSTITUTION,
        date_field("withdrawn_on", "撤回日期"),
        Field("reason", "text", "撤回理由", public=True, max_length=1000),
        Field("late_days", "integer", "超出3日期限天数", minimum=0),
    ),
))

PUBLICATION_ENDED_EARLY = CATALOGUE.register(EventType(
    name="PenaltyPublicationEndedEarly", version=1, aggregate_type="SanctionCase", title_zh="信用修复，提前停止公示",
    description="After the minimum period, obligations met and a credit undertaking given; never for suspension or closure penalties.",
    fields=(
        INSTITUTION,
        date_field("ended_on", "停止公示日期"),
        Field("credit_commitment_ref", "string", "信用承诺书编号", public=True, max_length=100),
    ),
))

PUBLICATION_EXPIRED = CATALOGUE.register(EventType(
    name="PenaltyPublicationExpired", version=1, aggregate_type="SanctionCase", title_zh="公示期届满",
    description="Recorded by the scheduler when the maximum period has passed.",
    fields=(INSTITUTION, date_field("expired_on", "届满日期")),
))


# --- the case's lifecycle -----------------------------------------------------------------------------

FILED, NOTICED, HEARING_REQUESTED_, HEARING_SCHEDULED_, HEARING_HELD_ = (
    "filed", "noticed", "hearing_requested", "hearing_scheduled", "hearing_held",
)
DECIDED, SERVED, EXECUTED, CLOSED = "decided", "served", "executed", "closed"
DECISION_STATES = (DECIDED, SERVED, EXECUTED, CLOSED)
PUBLICATION_STATES = {"published": "公示中", "withdrawn": "已撤回", "ended_early": "已信用修复", "expired": "公示期届满"}


def _publication(state_name: str):
    return lambda s, e: {"publication": dict(s["publication"], state=state_name)}


def _imported_decision(_: State, entry: Entry) -> State:
    """A penalty decided before the ledger, imported from the register: the case starts decided."""
    p = payload(entry)
    return {"institution_id": p["institution_id"], "region_code": p["region_code"], "ground": p["ground"],
            "department": entry["actor"]["department"], "filed_on": p.get("filed_on") or p["decided_on"], "decide_by": None,
            "notice": None, "hearing_on": None, "review": None, "publication": None,
            "decision": {"decided_on": p["decided_on"], "decision_no": p["decision_no"], "penalties": p["penalties"]}}


def _published(state: State, entry: Entry) -> State:
    p = payload(entry)
    return {"publication": {"state": "published", "published_on": p["published_on"], "class": p["publication_class"],
                            "earliest_repair_on": p["earliest_repair_on"], "publish_until": p["publish_until"]}}


def _reviewed(state: State, entry: Entry) -> State:
    p = payload(entry)
    out = {"review": {"outcome": p["outcome"], "decided_on": p["decided_on"]}}
    if p["outcome"] == "changed":
        out["decision"] = dict(state["decision"], penalties=p["penalties"])
    return out


def _publication_expires(state: State) -> str | None:
    publication = state.get("publication")
    return publication["publish_until"] if publication and publication["state"] == "published" else None


SANCTION_CASE = declare(RecordKind(
    name="SanctionCase", title_zh="处罚案件", refusal_code="CASE_STATE_INVALID",
    states={FILED: "已立案", NOTICED: "已告知", HEARING_REQUESTED_: "已申请听证", HEARING_SCHEDULED_: "已通知听证",
            HEARING_HELD_: "已举行听证", DECIDED: "已作出处罚决定", SERVED: "决定书已送达", EXECUTED: "已执行完毕", CLOSED: "已结案"},
    fields=(
        INSTITUTION,
        Field("region_code", "string", "机构所在地行政区划", public=True),
        CASE_FILED.field_named("ground"),
        Field("department", "string", "立案部门", public=True),
        CASE_FILED.field_named("filed_on"),
        CASE_FILED.field_named("decide_by"),
        Field("notice", "object", "告知", required=False, fields=NOTICE_SERVED.fields),
        HEARING_SCHEDULED.field_named("hearing_on"),
        Field("decision", "object", "处罚决定", public=True, required=False, fields=(
            date_field("decided_on", "决定日期"), Field("decision_no", "string", "决定书文号", public=True), _penalties("处罚内容"))),
        Field("review", "object", "复议或诉讼结果", public=True, required=False, fields=(
            DECISION_REVIEWED.field_named("outcome"), date_field("decided_on", "作出日期"))),
        Field("publication", "object", "公示", public=True, required=False, fields=(
            Field("state", "enum", "公示状态", public=True, enum=PUBLICATION_STATES), date_field("published_on", "公示日期"),
            Field("class", "enum", "失信程度", public=True, enum=PUBLICATION_CLASS_NAMES), date_field("earliest_repair_on", "最短公示期届满日"),
            date_field("publish_until", "最长公示期届满日"))),
    ),
    steps=(
        Step(CASE_FILED, "立案", to=FILED, computed=("region_code", "decide_by"),
             sets=lambda s, e: {"institution_id": payload(e)["institution_id"], "region_code": payload(e)["region_code"],
                                "ground": payload(e)["ground"], "department": e["actor"]["department"],
                                "filed_on": payload(e)["filed_on"], "decide_by": payload(e)["decide_by"],
                                "notice": None, "hearing_on": None, "decision": None, "review": None, "publication": None}),
        Step(NOTICE_SERVED, "送达告知书", after=(FILED,), to=NOTICED,
             computed=("institution_id", "hearing_eligible", "statement_deadline", "hearing_request_deadline"),
             sets=lambda s, e: {"notice": dict(payload(e))}),
        Step(HEARING_REQUESTED, "登记听证申请", after=(NOTICED,), to=HEARING_REQUESTED_, computed=("institution_id",)),
        Step(HEARING_SCHEDULED, "通知听证", after=(HEARING_REQUESTED_,), to=HEARING_SCHEDULED_, computed=("institution_id",),
             sets=lambda s, e: {"hearing_on": payload(e)["hearing_on"]}),
        Step(HEARING_HELD, "登记听证", after=(HEARING_SCHEDULED_,), to=HEARING_HELD_, computed=("institution_id",)),
        Step(PENALTY_DECIDED, "作出处罚决定（本系统启用前，导入）", to=DECIDED, computed=("region_code",), sets=_imported_decision,
             imported=True),
        Step(PENALTY_DECIDED, "作出处罚决定", after=(NOTICED, HEARING_HELD_), to=DECIDED, computed=("institution_id", *IMPORTED_ONLY),
             sets=lambda s, e: {"decision": {"decided_on": payload(e)["decided_on"], "decision_no": payload(e)["decision_no"],
                                             "penalties": payload(e)["penalties"]}}),
        Step(DECISION_SERVED, "登记送达", after=(DECIDED,), to=SERVED, computed=("institution_id", "late_days")),
        Step(PENALTY_EXECUTED, "登记执行", after=(SERVED,), to=EXECUTED, computed=("institution_id",)),
        Step(CASE_CLOSED, "结案", after=(FILED, NOTICED, HEARING_HELD_, *DECISION_STATES), to=CLOSED, computed=("institution_id",)),
        Step(DECISION_REVIEWED, "登记复议或诉讼结果", after=DECISION_STATES, sets=_reviewed, computed=("institution_id",)),
        Step(PENALTY_PUBLISHED, "公示处罚信息", after=DECISION_STATES, sets=_published,
             computed=("institution_id", "earliest_repair_on", "publish_until")),
        Step(PUBLICATION_WITHDRAWN, "撤回公示", after=DECISION_STATES, sets=_publication("withdrawn"),
             computed=("institution_id", "late_days")),
        Step(PUBLICATION_ENDED_EARLY, "信用修复", after=DECISION_STATES, sets=_publication("ended_early"), computed=("institution_id",)),
        Step(PUBLICATION_EXPIRED, "公示期届满", after=DECISION_STATES, sets=_publication("expired"),
             computed=("institution_id", "expired_on"), falls_due=_publication_expires),
    ),
))
