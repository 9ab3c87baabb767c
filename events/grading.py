"""Grading events (等级评定, GB/T 37276-2018) and standards-compliance assessments (GB 38600,
GB/T 35796): application → recommendation (levels 4 and 5) → eligibility review → on-site
scores → committee → publicity (公示) → award; then downgrade, revocation or lapse.

Sources: the Zhenjiang seed (levels 1–3 by county/city, 4 by the city, 5 by the province, with
recommendation from the level below); provincial rules summarised in shared/research (3-year
validity, lapse, 1-year and 3-year lock-outs, first application at most level 3).
"""

from __future__ import annotations

from events.catalogue import CATALOGUE, EventType, Field, date_field
from events.record_kinds import Entry, RecordKind, State, Step, declare, payload

STANDARD_NAMES = {"GB 38600": "《养老机构服务安全基本规范》（GB 38600）", "GB/T 35796": "《养老机构服务质量基本规范》（GB/T 35796）"}
STANDARDS = tuple(STANDARD_NAMES)
SCORE_SECTIONS = ("environment", "facilities", "operations", "service")
INELIGIBILITY_REASON_NAMES = {
    "not_filed": "未办理备案", "operating_under_one_year": "开办运营不满规定年限",
    "on_joint_punishment_list": "被列入养老服务市场失信联合惩戒对象名单", "penalty_within_two_years": "近两年内受到行政处罚",
    "open_major_hazard": "存在未整改销账的重大安全隐患", "not_gb38600_compliant": "未达到《养老机构服务安全基本规范》（GB 38600）",
    "first_application_above_level_3": "首次申请评定等级高于三级", "upgrade_locked": "等级被降低后未满规定期限，不得申请升级",
    "application_locked": "等级被取消后未满规定期限，不得申请评定", "upgrade_more_than_one_level": "每次只能申请提升一个等级",
    "upgrade_too_soon": "距上次评定未满规定年限，不得申请升级",
}
INELIGIBILITY_REASONS = tuple(INELIGIBILITY_REASON_NAMES)
METRIC_NAMES = {"filed": "备案率", "gb38600_compliant": "GB 38600 达标率", "gbt35796_compliant": "GB/T 35796 达标率", "graded": "等级评定率"}



INSTITUTION = Field("institution_id", "string", "机构编号", public=True, max_length=36)
LEVEL = Field("level", "integer", "等级", public=True, minimum=1)

GRADING_APPLIED = CATALOGUE.register(EventType(
    name="GradingApplied", version=1, aggregate_type="GradingApplication", title_zh="等级评定申请",
    description="An institution applies for a level; the authority for that level (per province) records it.",
    fields=(
        INSTITUTION,
        Field("requested_level", "integer", "申请等级", public=True, minimum=1),
        date_field("applied_on", "申请日期"),
        Field("region_code", "string", "机构所在地行政区划", public=True, pattern=r"^\d{6}$"),
        Field("authority_levels", "array", "有权评定的民政部门层级", public=True, items=Field("level", "string", "层级", public=True)),
    ),
))

GRADING_RECOMMENDED = CATALOGUE.register(EventType(
    name="GradingRecommended", version=1, aggregate_type="GradingApplication", title_zh="推荐参评",
    description="Candidates for levels 4 and 5 are recommended by the authority of the level below.",
    fields=(INSTITUTION, date_field("recommended_on", "推荐日期"), Field("remarks", "text", "推荐意见", public=True, max_length=1000)),
))

ELIGIBILITY_REVIEWED = CATALOGUE.register(EventType(
    name="GradingEligibilityReviewed", version=1, aggregate_type="GradingApplication", title_zh="资格审查",
    description="The ledger judges eligibility from the institution's standing; the reasons are recorded.",
    fields=(
        INSTITUTION,
        date_field("reviewed_on", "审查日期"),
        Field("eligible", "boolean", "是否符合参评资格", public=True),
        Field("reasons", "array", "不符合的情形", public=True, items=Field("reason", "enum", "情形", public=True, enum=INELIGIBILITY_REASON_NAMES)),
    ),
))

SCORES = Field(
    "scores", "object", "各部分得分", public=True,
    fields=tuple(Field(s, "integer", f"{s}得分", public=True, minimum=0) for s in SCORE_SECTIONS),
)

ASSESSMENT_SCORED = CATALOGUE.register(EventType(
    name="GradingAssessmentScored", version=1, aggregate_type="GradingApplication", title_zh="现场评定打分",
    description="On-site assessment on the 1000-point scale; the section maxima and level thresholds are a rule table.",
    fields=(
        INSTITUTION,
        date_field("assessed_on", "评定日期"),
        SCORES,
        Field("total", "integer", "总分", public=True, minimum=0),
        Field("level_reached", "integer", "得分对应等级（0为未达一级）", public=True, minimum=0),
    ),
))

COMMITTEE_DECIDED = CATALOGUE.register(EventType(
    name="GradingCommitteeDecided", version=1, aggregate_type="GradingApplication", title_zh="评定委员会审定",
    description="The committee approves a level no higher than requested or reached, or rejects (level 0).",
    fields=(INSTITUTION, date_field("decided_on", "审定日期"), Field("approved_level", "integer", "审定等级（0为不予评定）", public=True, minimum=0)),
))

PUBLICITY_STARTED = CATALOGUE.register(EventType(
    name="GradingPublicityStarted", version=1, aggregate_type="GradingApplication", title_zh="评定结果公示",
    description="公示 for the publicity period (param, working days).",
    fields=(INSTITUTION, date_field("started_on", "公示开始日期"), date_field("ends_on", "公示截止日期"),
            Field("objection_channel", "text", "异议受理方式", public=True, required=False, max_length=500)),
))

OBJECTION_RECEIVED = CATALOGUE.register(EventType(
    name="GradingObjectionReceived", version=1, aggregate_type="GradingApplication", title_zh="受理公示异议",
    description="An objection to a grading under publicity, received within the publicity period by the grading authority. "
                "What it says and who raised it are restricted; that there is one, and when, is public.",
    fields=(
        INSTITUTION,
        date_field("received_on", "受理日期"),
        Field("summary", "text", "异议内容摘要", max_length=2000),
        Field("objector", "string", "异议人", required=False, max_length=100),
    ),
))

OBJECTION_HANDLED = CATALOGUE.register(EventType(
    name="GradingObjectionHandled", version=1, aggregate_type="GradingApplication", title_zh="处理公示异议",
    description="The grading authority's finding on one objection (the event id of its receipt): upheld or not, and why.",
    fields=(
        INSTITUTION,
        Field("objection_event_id", "string", "所处理的异议", public=True, max_length=36),
        date_field("handled_on", "处理日期"),
        Field("upheld", "boolean", "异议是否成立", public=True),
        Field("reasons", "text", "处理意见", public=True, max_length=2000),
    ),
))

PUBLICITY_CLOSED = CATALOGUE.register(EventType(
    name="GradingPublicityClosed", version=1, aggregate_type="GradingApplication", title_zh="公示结束",
    description="No objection, or an objection upheld (the level is then not awarded).",
    fields=(
        INSTITUTION,
        date_field("closed_on", "公示结束日期"),
        Field("objection_upheld", "boolean", "异议是否成立", public=True),
        Field("objection_summary", "text", "异议处理情况", required=False, max_length=2000),
    ),
))

GRADE_AWARDED = CATALOGUE.register(EventType(
    name="GradeAwarded", version=1, aggregate_type="GradingApplication", title_zh="授予等级",
    description="The level is awarded, valid 3 years (param); it replaces any earlier grade.",
    fields=(INSTITUTION, LEVEL, date_field("awarded_on", "授予日期"), date_field("valid_until", "有效期至"),
            Field("certificate_no", "string", "证书编号", public=True, max_length=100),
            # an award made before the ledger, imported from the register: it creates its record
            Field("region_code", "string", "机构所在地行政区划", public=True, required=False, pattern=r"^\d{6}$")),
))

GRADE_DOWNGRADED = CATALOGUE.register(EventType(
    name="GradeDowngraded", version=1, aggregate_type="GradingApplication", title_zh="降低等级",
    description="On a major accident or hazard, or no longer meeting the level; no upgrade for 1 year (param).",
    fields=(INSTITUTION, Field("new_level", "integer", "降级后等级", public=True, minimum=1), date_field("decided_on", "决定日期"),
            Field("reason", "text", "理由", public=True, max_length=1000), date_field("no_upgrade_until", "不得申请升级至")),
))

GRADE_REVOKED = CATALOGUE.register(EventType(
    name="GradeRevoked", version=1, aggregate_type="GradingApplication", title_zh="取消等级",
    description="The grade is revoked; no grading application for 3 years (param).",
    fields=(INSTITUTION, date_field("decided_on", "决定日期"), Field("reason", "text", "理由", public=True, max_length=1000),
            date_field("no_application_until", "不得申请评定至")),
))

GRADE_LAPSED = CATALOGUE.register(EventType(
    name="GradeLapsed", version=1, aggregate_type="GradingApplication", title_zh="等级到期失效",
    description="Recorded by the scheduler when the validity ends without a new award.",
    fields=(INSTITUTION, date_field("lapsed_on", "失效日期")),
))

COMPLIANCE_ASSESSED = CATALOGUE.register(EventType(
    name="ComplianceAssessed", version=1, aggregate_type="ComplianceAssessment", title_zh="标准符合性评估",
    description="Compliant or not with GB 38600 (mandatory) or GB/T 35796, with the failed clauses.",
    fields=(
        INSTITUTION,
        Field("standard", "enum", "标准", public=True, enum=STANDARD_NAMES),
        Field("compliant", "boolean", "是否符合", public=True),
        Field("failed_clauses", "array", "不符合条款", public=True, items=Field("ref", "string", "条款", public=True, max_length=40)),
        date_field("assessed_on", "评估日期"),
        Field("assessor", "string", "评估主体（部门或第三方机构）", public=True, max_length=200),
        Field("region_code", "string", "机构所在地行政区划", public=True, pattern=r"^\d{6}$"),
    ),
))

CAMPAIGN_TARGET_SET = CATALOGUE.register(EventType(
    name="CampaignTargetSet", version=1, aggregate_type="CampaignTarget", title_zh="设定工作目标",
    description="A region's target for a year: % filed, % compliant with GB 38600 / GB/T 35796, % graded…",
    institution_scoped=False,
    fields=(
        Field("region_code", "string", "地区", public=True, pattern=r"^\d{6}$"),
        Field("year", "integer", "年度", public=True, minimum=2019),
        Field("metric", "enum", "指标", public=True, enum=METRIC_NAMES),
        Field("target_percent", "decimal", "目标（%）", public=True),
        Field("source", "string", "目标来源文件", public=True, max_length=300),
    ),
))


# --- lifecycles: grading applications, assessments, targets ------------------------------------------

APPLIED, RECOMMENDED, ELIGIBLE, INELIGIBLE, ASSESSED = "applied", "recommended", "eligible", "ineligible", "assessed"
APPROVED, REJECTED, IN_PUBLICITY, PUBLICITY_DONE = "approved", "rejected", "in_publicity", "publicity_closed"
AWARDED, DOWNGRADED, REVOKED, LAPSED = "awarded", "downgraded", "revoked", "lapsed"
HOLDING = (AWARDED, DOWNGRADED)


def _applied(_: State, entry: Entry) -> State:
    p = payload(entry)
    return {"institution_id": p["institution_id"], "region_code": p["region_code"], "requested_level": p["requested_level"],
            "authority_levels": p["authority_levels"], "applied_on": p["applied_on"], "reasons": [], "level_reached": None,
            "approved_level": None, "publicity_started_on": None, "publicity_ends_on": None, "level": None, "awarded_on": None,
            "valid_until": None, "certificate_no": None, "awarded_by": None, "no_upgrade_until": None,
            "no_application_until": None, "ended_on": None, "objection_channel": None, "objections": []}


def _objection_received(state: State, entry: Entry) -> State:
    received = {"event_id": entry["event_id"], "received_on": payload(entry)["received_on"], "handled_on": None, "upheld": None}
    return {"objections": [*state.get("objections", []), received]}


def _objection_handled(state: State, entry: Entry) -> State:
    p = payload(entry)
    return {"objections": [dict(o, handled_on=p["handled_on"], upheld=p["upheld"]) if o["event_id"] == p["objection_event_id"] else o
                           for o in state.get("objections", [])]}


def _committee(_: State, entry: Entry) -> State:
    level = payload(entry)["approved_level"]
    return {"approved_level": level, "status": APPROVED if level else REJECTED}


def _imported_award(state: State, entry: Entry) -> State:
    """An award made before the ledger, imported from the register: the record starts awarded."""
    p = payload(entry)
    return {**_applied(state, {"payload": {**p, "requested_level": p["level"], "authority_levels": [], "applied_on": p["awarded_on"]}}),
            "approved_level": p["level"], **_awarded(state, entry), "status": AWARDED}


def _awarded(_: State, entry: Entry) -> State:
    p = payload(entry)
    return {"level": p["level"], "awarded_on": p["awarded_on"], "valid_until": p["valid_until"], "certificate_no": p["certificate_no"],
            "awarded_by": {k: entry["actor"][k] for k in ("department", "level", "region")}}


LEVEL_STATE = Field("level", "integer", "等级", public=True, required=False)
GRADING_APPLICATION = declare(RecordKind(
    name="GradingApplication", title_zh="等级评定申请", refusal_code="GRADING_STATE_INVALID",
    states={APPLIED: "已申请", RECOMMENDED: "已推荐", ELIGIBLE: "资格审查通过", INELIGIBLE: "资格审查未通过", ASSESSED: "已现场评定",
            APPROVED: "评定委员会已审定", REJECTED: "不予评定", IN_PUBLICITY: "公示中", PUBLICITY_DONE: "公示结束",
            AWARDED: "已授予等级", DOWNGRADED: "已降级", REVOKED: "已取消等级", LAPSED: "已到期失效"},
    fields=(
        INSTITUTION,
        *(GRADING_APPLIED.field_named(n) for n in ("region_code", "requested_level", "authority_levels")),
        date_field("applied_on", "申请日期"),
        ELIGIBILITY_REVIEWED.field_named("reasons"),
        Field("level_reached", "integer", "得分对应等级", public=True, required=False),
        Field("approved_level", "integer", "审定等级", public=True, required=False),
        date_field("publicity_started_on", "公示开始日期", required=False),
        date_field("publicity_ends_on", "公示截止日期", required=False),
        Field("objection_channel", "text", "异议受理方式", public=True, required=False),
        Field("objections", "array", "公示异议", public=True, required=False, items=Field("objection", "object", "异议", public=True, fields=(
            Field("event_id", "string", "受理事件", public=True), date_field("received_on", "受理日期"),
            date_field("handled_on", "处理日期", required=False), Field("upheld", "boolean", "是否成立", public=True, required=False)))),
        LEVEL_STATE,
        date_field("awarded_on", "授予日期", required=False),
        date_field("valid_until", "有效期至", required=False),
        Field("certificate_no", "string", "证书编号", public=True, required=False),
        Field("awarded_by", "object", "授予机关", public=True, required=False, fields=(
            Field("department", "string", "部门", public=True), Field("level", "string", "层级", public=True),
            Field("region", "string", "行政区划", public=True))),
        date_field("no_upgrade_until", "不得申请升级至", required=False),
        date_field("no_application_until", "不得申请评定至", required=False),
        date_field("ended_on", "等级终止日期", required=False),
    ),
    steps=(
        Step(GRADING_APPLIED, "受理等级评定申请", to=APPLIED, sets=_applied, computed=("region_code", "authority_levels")),
        Step(GRADING_RECOMMENDED, "推荐参评", after=(APPLIED,), to=RECOMMENDED, computed=("institution_id",)),
        Step(ELIGIBILITY_REVIEWED, "资格审查", after=(APPLIED, RECOMMENDED), computed=("institution_id", "eligible", "reasons"),
             sets=lambda s, e: {"status": ELIGIBLE if payload(e)["eligible"] else INELIGIBLE, "reasons": payload(e)["reasons"]}),
        Step(ASSESSMENT_SCORED, "现场评定", after=(ELIGIBLE,), to=ASSESSED, computed=("institution_id", "total", "level_reached"),
             sets=lambda s, e: {"level_reached": payload(e)["level_reached"]}),
        Step(COMMITTEE_DECIDED, "评定委员会审定", after=(ASSESSED,), sets=_committee, computed=("institution_id",)),
        Step(PUBLICITY_STARTED, "公示", after=(APPROVED,), to=IN_PUBLICITY, computed=("institution_id", "ends_on"),
             sets=lambda s, e: {"publicity_started_on": payload(e)["started_on"], "publicity_ends_on": payload(e)["ends_on"],
                                "objection_channel": payload(e).get("objection_channel"), "objections": []}),
        Step(OBJECTION_RECEIVED, "受理公示异议", after=(IN_PUBLICITY,), computed=("institution_id",), sets=_objection_received),
        Step(OBJECTION_HANDLED, "处理公示异议", after=(IN_PUBLICITY,), computed=("institution_id",), sets=_objection_handled),
        Step(PUBLICITY_CLOSED, "结束公示", after=(IN_PUBLICITY,), computed=("institution_id",),
             sets=lambda s, e: {"status": REJECTED if payload(e)["objection_upheld"] else PUBLICITY_DONE}),
        Step(GRADE_AWARDED, "授予等级", after=(PUBLICITY_DONE,), to=AWARDED, sets=_awarded,
             computed=("institution_id", "level", "valid_until", "region_code")),
        Step(GRADE_AWARDED, "授予等级（本系统启用前，导入）", sets=_imported_award, computed=("region_code", "valid_until"),
             imported=True),
        Step(GRADE_DOWNGRADED, "降低等级", after=HOLDING, to=DOWNGRADED, computed=("institution_id", "no_upgrade_until"),
             sets=lambda s, e: {"level": payload(e)["new_level"], "no_upgrade_until": payload(e)["no_upgrade_until"]}),
        Step(GRADE_REVOKED, "取消等级", after=HOLDING, to=REVOKED, computed=("institution_id", "no_application_until"),
             sets=lambda s, e: {"no_application_until": payload(e)["no_application_until"], "ended_on": payload(e)["decided_on"]}),
        Step(GRADE_LAPSED, "到期失效", after=HOLDING, to=LAPSED, computed=("institution_id", "lapsed_on"),
             sets=lambda s, e: {"ended_on": s["valid_until"]}, falls_due=lambda s: s["valid_until"]),
    ),
))

COMPLIANCE_ASSESSMENT = declare(RecordKind(
    name="ComplianceAssessment", title_zh="标准符合性评估", refusal_code="ASSESSMENT_STATE_INVALID",
    states={"assessed": "已评估"},
    fields=tuple(f for f in COMPLIANCE_ASSESSED.fields),
    steps=(Step(COMPLIANCE_ASSESSED, "登记标准符合性评估", to="assessed", computed=("region_code",),
                sets=lambda s, e: dict(payload(e))),),
))

CAMPAIGN_TARGET = declare(RecordKind(
    name="CampaignTarget", title_zh="工作目标", refusal_code="TARGET_STATE_INVALID",
    states={"set": "已设定"},
    institution_of=lambda record: None,
    fields=CAMPAIGN_TARGET_SET.fields,
    steps=(Step(CAMPAIGN_TARGET_SET, "设定工作目标", to="set", sets=lambda s, e: dict(payload(e))),),
))
