"""Inspection events: plans, reproducible double-random draws (双随机、一公开), and inspections of
one institution from scheduling to the published result.

Sources: 66号令 (on-site inspection within 20 working days of filing or discovery; at least one a
year; 双随机、一公开), 《行政处罚法》第42条 (at least two officers), the seeds (routine, special,
case, joint and third-party inspections).
"""

from __future__ import annotations

from dataclasses import replace

from events.catalogue import CATALOGUE, REGION_CODE_PATTERN, EventType, Field, date_field
from events.record_kinds import RecordKind, Step, declare, payload
from events.registration import DEPARTMENT_NAMES

KIND_NAMES = {"routine": "日常检查（双随机）", "special": "专项检查", "case": "个案检查", "joint": "联合检查", "third_party": "第三方评估"}
KINDS = tuple(KIND_NAMES)
PLAN_KIND_NAMES = {k: v for k, v in KIND_NAMES.items() if k != "case"}
RISK_CLASS_NAMES = {"A": "A类（低风险）", "B": "B类（一般风险）", "C": "C类（较高风险）", "D": "D类（高风险）"}  # 信用风险分类
RISK_CLASSES = tuple(RISK_CLASS_NAMES)
RESULT_NAMES = {"compliant": "符合", "non_compliant": "不符合", "not_applicable": "不适用"}
RESULTS = tuple(RESULT_NAMES)



def _ratio(cls: str) -> Field:
    return Field(cls, "decimal", f"{cls}类抽查比例（%）", public=True)


DEPARTMENT = Field("department", "enum", "部门", public=True, enum=DEPARTMENT_NAMES)

INSPECTION_PLANNED = CATALOGUE.register(EventType(
    name="InspectionPlanned", version=1, aggregate_type="InspectionPlan", title_zh="制定检查计划",
    description="A plan of inspections for a region and year; routine plans are sampled by a double-random draw.",
    institution_scoped=False,
    fields=(
        Field("title", "string", "计划名称", public=True, max_length=200),
        Field("kind", "enum", "检查类型", public=True, enum=PLAN_KIND_NAMES),
        Field("region_code", "string", "计划地区", public=True, pattern=REGION_CODE_PATTERN),
        Field("year", "integer", "年度", public=True, minimum=2019),
        Field("departments", "array", "参与部门", public=True, items=DEPARTMENT),
        Field("ratios", "object", "各风险类别抽查比例", public=True, fields=tuple(_ratio(c) for c in RISK_CLASSES)),
        Field("inspectors_per_team", "integer", "每组检查人员数", public=True, minimum=2),
        date_field("planned_on", "计划制定日期"),
        Field("replan_reason", "text", "同一地区、年度、类型再次制定计划的理由", public=True, required=False, max_length=1000),
        Field("earlier_plans", "array", "同一范围此前的计划", public=True, required=False,
              items=Field("plan_id", "string", "计划编号", public=True)),
        Field("seed_nonce", "string", "随机种子派生值", public=True, required=False, max_length=64),
        Field("seed_commitment", "string", "随机种子承诺值（SHA-256）", public=True, required=False, max_length=64),
    ),
))

POOL_INSTITUTION = Field(
    "entry", "object", "检查对象", public=True,
    fields=(
        Field("institution_id", "string", "机构编号", public=True),
        Field("risk_class", "enum", "风险类别", public=True, enum=RISK_CLASS_NAMES),
    ),
)
POOL_INSPECTOR = Field(
    "inspector", "object", "检查人员",
    fields=(
        Field("inspector_id", "string", "执法人员编号"),
        DEPARTMENT,
        Field("conflicts", "array", "需回避的机构编号", required=False, items=Field("institution_id", "string", "机构编号")),
    ),
)
SAMPLE_ENTRY = Field(
    "entry", "object", "抽取结果", public=True,
    fields=(
        Field("institution_id", "string", "机构编号", public=True),
        Field("risk_class", "enum", "风险类别", public=True, enum=RISK_CLASS_NAMES),
        Field("inspectors", "array", "检查人员编号", items=Field("inspector_id", "string", "执法人员编号")),
    ),
)

SAMPLE_DRAWN = CATALOGUE.register(EventType(
    name="InspectionSampleDrawn", version=1, aggregate_type="InspectionPlan", title_zh="双随机抽取",
    description=(
        "The draw, with everything needed to re-run it: the seed, both pools as they stood, the ratio "
        "per risk class and the algorithm (events/draw.py). Re-running gives the same sample."
    ),
    institution_scoped=False,
    # Before its inspections, the draw is read only by the plan's departments (and auditors): the
    # seed and pools would let anyone re-run it. The site publishes it once the inspections are done.
    readers=lambda p: p.get("departments"),
    fields=(
        Field("seed", "string", "随机种子", max_length=64),
        Field("seed_commitment", "string", "计划承诺的种子哈希", public=True, required=False, max_length=64),
        Field("departments", "array", "计划参与部门", public=True, required=False, items=DEPARTMENT),
        Field("algorithm", "string", "抽取算法", public=True, max_length=40),
        Field("institution_pool", "array", "检查对象库（抽取时快照）", items=POOL_INSTITUTION),
        Field("inspector_pool", "array", "执法检查人员库（抽取时快照）", items=POOL_INSPECTOR),
        Field("ratios", "object", "各风险类别抽查比例", public=True, fields=tuple(_ratio(c) for c in RISK_CLASSES)),
        Field("inspectors_per_team", "integer", "每组检查人员数", public=True, minimum=2),
        Field("sample", "array", "抽取结果", items=SAMPLE_ENTRY),
        date_field("drawn_on", "抽取日期"),
    ),
))

# What the site publishes of a draw once every sampled institution was inspected: all that
# events/draw.py needs to re-run it — the inspector pool's ids, departments and conflicts (which
# institutions an inspector had to avoid; no reasons) included — and nothing else.
DRAW_PUBLICATION = (
    Field("plan_id", "string", "计划编号", public=True),
    Field("algorithm", "string", "抽取算法", public=True),
    Field("seed_commitment", "string", "种子承诺值", public=True),
    Field("seed", "string", "随机种子", public=True),
    Field("ratios", "object", "各风险类别抽查比例", public=True, fields=tuple(_ratio(c) for c in RISK_CLASSES)),
    Field("inspectors_per_team", "integer", "每组检查人员数", public=True),
    Field("institution_pool", "array", "检查对象库", public=True, items=POOL_INSTITUTION),
    Field("inspector_pool", "array", "执法检查人员库", public=True, items=Field("inspector", "object", "检查人员", public=True, fields=(
        Field("inspector_id", "string", "执法人员编号", public=True), replace(DEPARTMENT, public=True),
        Field("conflicts", "array", "需回避的机构编号", public=True, required=False,
              items=Field("institution_id", "string", "机构编号", public=True))))),
    Field("sample", "array", "抽取结果", public=True, items=Field("entry", "object", "抽取结果", public=True, fields=(
        Field("institution_id", "string", "机构编号", public=True), Field("risk_class", "enum", "风险类别", public=True, enum=RISK_CLASS_NAMES),
        Field("inspectors", "array", "检查人员编号", public=True, items=Field("inspector_id", "string", "执法人员编号", public=True))))),
)

FINDING = Field(
    "finding", "object", "检查发现", public=True,
    fields=(
        Field("checklist_ref", "string", "检查项目条目", public=True, max_length=40),
        Field("result", "enum", "结论", public=True, enum=RESULT_NAMES),
        Field("note", "text", "说明", public=True, required=False, max_length=1000),
        Field("internal_note", "text", "内部备注", required=False, max_length=2000),
    ),
)

INSPECTION_SCHEDULED = CATALOGUE.register(EventType(
    name="InspectionScheduled", version=1, aggregate_type="Inspection", title_zh="安排检查",
    description=(
        "An inspection of one institution: routine ones come from a draw and use the drawn team; "
        "routine, special and joint ones are notified 3 working days ahead; case inspections never are. "
        "Only the inspecting departments (and auditors) see it: it tells whom the inspectors will visit, and when."
    ),
    readers=lambda p: p.get("departments"),
    confidential=True,
    fields=(
        Field("institution_id", "string", "机构编号", public=True, max_length=36),
        Field("kind", "enum", "检查类型", public=True, enum=KIND_NAMES),
        Field("plan_id", "string", "检查计划编号", public=True, required=False, max_length=36),
        Field("trigger", "text", "立案/线索来源（个案检查）", required=False, max_length=1000),
        Field("departments", "array", "检查部门", public=True, items=DEPARTMENT),
        Field("inspectors", "array", "检查人员编号", items=Field("inspector_id", "string", "执法人员编号")),
        Field("third_party", "string", "第三方评估机构", public=True, required=False, max_length=200),
        date_field("scheduled_on", "检查日期"),
        date_field("notice_given_on", "通知日期", required=False),
        Field("region_code", "string", "机构所在地行政区划", public=True, pattern=REGION_CODE_PATTERN),
    ),
))

INSPECTION_CONDUCTED = CATALOGUE.register(EventType(
    name="InspectionConducted", version=1, aggregate_type="Inspection", title_zh="实施现场检查",
    description="The on-site inspection took place; each finding cites a checklist item.",
    fields=(
        Field("institution_id", "string", "机构编号", public=True, max_length=36),
        date_field("conducted_on", "检查日期"),
        Field("inspectors_present", "array", "到场检查人员编号", items=Field("inspector_id", "string", "执法人员编号")),
        Field("findings", "array", "检查发现", public=True, items=FINDING),
        Field("summary", "text", "检查结论", public=True, max_length=2000),
    ),
))

INSPECTION_RESULT_PUBLISHED = CATALOGUE.register(EventType(
    name="InspectionResultPublished", version=1, aggregate_type="Inspection", title_zh="公开检查结果",
    description="一公开: the result is published within 20 working days (param) of the inspection.",
    fields=(
        Field("institution_id", "string", "机构编号", public=True, max_length=36),
        date_field("published_on", "公开日期"),
        Field("public_summary", "text", "公开的检查结果", public=True, max_length=2000),
        date_field("publish_due_by", "公开截止日", public=False),
        Field("late_working_days", "integer", "逾期公开工作日数", minimum=0),
        Field("late_reason", "text", "逾期公开说明", required=False, max_length=1000),
    ),
))


# --- lifecycles: plans and inspections ---------------------------------------------------------------

PLANNED, DRAWN = "planned", "drawn"
SCHEDULED, CONDUCTED, PUBLISHED = "scheduled", "conducted", "published"

INSPECTION_PLAN = declare(RecordKind(
    name="InspectionPlan", title_zh="检查计划", refusal_code="ALREADY_DRAWN",
    states={PLANNED: "已制定", DRAWN: "已抽取"},
    institution_of=lambda record: None,
    readers=lambda state: state["departments"],  # the sample, before the site publishes it with the results
    fields=(
        *(INSPECTION_PLANNED.field_named(n) for n in ("title", "kind", "region_code", "year", "departments", "ratios", "inspectors_per_team",
                                                      "replan_reason", "seed_commitment")),
        replace(INSPECTION_PLANNED.field_named("seed_nonce"), public=False),
        date_field("planned_on", "计划制定日期"),
        replace(SAMPLE_DRAWN.field_named("sample"), required=False),
        date_field("drawn_on", "抽取日期", required=False),
    ),
    steps=(
        Step(INSPECTION_PLANNED, "制定检查计划", to=PLANNED,
             computed=("earlier_plans", "seed_nonce", "seed_commitment"),
             sets=lambda s, e: {**{k: payload(e)[k] for k in ("title", "kind", "region_code", "year", "departments", "ratios",
                                                              "inspectors_per_team", "planned_on")},
                                **{k: payload(e).get(k) for k in ("replan_reason", "seed_nonce", "seed_commitment")},
                                "sample": [], "drawn_on": None}),
        Step(SAMPLE_DRAWN, "双随机抽取", after=(PLANNED,), to=DRAWN,
             computed=("seed", "seed_commitment", "departments", "algorithm", "institution_pool", "ratios", "inspectors_per_team", "sample"),
             sets=lambda s, e: {"sample": payload(e)["sample"], "drawn_on": payload(e)["drawn_on"]}),
    ),
))

INSPECTION = declare(RecordKind(
    name="Inspection", title_zh="检查", refusal_code="INSPECTION_STATE_INVALID",
    states={SCHEDULED: "已安排", CONDUCTED: "已实施", PUBLISHED: "结果已公开"},
    readers=lambda state: state["departments"],
    # until it took place (or if it was retracted before), only its departments know of it
    confidential=lambda state: state["status"] == SCHEDULED or (state["status"] == "retracted" and not state.get("conducted_on")),
    fields=(
        *(INSPECTION_SCHEDULED.field_named(n) for n in ("institution_id", "kind", "plan_id", "departments", "inspectors",
                                                        "region_code", "scheduled_on")),
        date_field("conducted_on", "检查日期", required=False),
        date_field("published_on", "公开日期", required=False),
    ),
    steps=(
        Step(INSPECTION_SCHEDULED, "安排检查", to=SCHEDULED, computed=("region_code",),
             sets=lambda s, e: {**{k: payload(e).get(k) for k in ("institution_id", "kind", "plan_id", "departments", "inspectors",
                                                                  "region_code", "scheduled_on")},
                                "conducted_on": None, "published_on": None}),
        Step(INSPECTION_CONDUCTED, "登记检查实施", after=(SCHEDULED,), to=CONDUCTED, computed=("institution_id",),
             sets=lambda s, e: {"conducted_on": payload(e)["conducted_on"]}),
        Step(INSPECTION_RESULT_PUBLISHED, "公开检查结果", after=(CONDUCTED,), to=PUBLISHED,
             computed=("institution_id", "publish_due_by", "late_working_days"),
             sets=lambda s, e: {"published_on": payload(e)["published_on"]}),
    ),
))
