"""Hazard ledger (隐患台账) events: each hazard from identification through the order to rectify,
rectification and verification (销账), with overdue detection and escalation.

Sources: the seeds (Anshan's 台账 with task, responsible person, deadline; Jilin's 问题/整改/责任
清单 "照单销账"; Hebei district's escalation 责令停业整顿 → 取缔/关停/撤并 after resettlement).
"""

from __future__ import annotations

from events.catalogue import CATALOGUE, EventType, Field, date_field
from events.record_kinds import Entry, RecordKind, State, Step, declare, department, payload

SEVERITY_NAMES = {"general": "一般隐患", "major": "重大隐患"}
SEVERITIES = tuple(SEVERITY_NAMES)
CATEGORY_NAMES = {
    "fire_safety": "消防安全", "building": "建筑安全", "special_equipment": "特种设备", "food": "食品安全", "medical": "医疗卫生",
    "service_safety": "服务安全", "management": "运营管理", "other": "其他",
}
CATEGORIES = tuple(CATEGORY_NAMES)
ESCALATION_STEP_NAMES = {"suspension_ordered": "责令停业整顿", "closure_ordered": "依法取缔、关停"}
ESCALATION_STEPS = tuple(ESCALATION_STEP_NAMES)



INSTITUTION_REF = Field("institution_id", "string", "机构编号", public=True, max_length=36)

HAZARD_IDENTIFIED = CATALOGUE.register(EventType(
    name="HazardIdentified", version=1, aggregate_type="Hazard", title_zh="发现安全隐患",
    description="A department found a hazard at an institution: severity, the criterion it breaks, who answers for it.",
    fields=(
        INSTITUTION_REF,
        Field("severity", "enum", "隐患等级（一般/重大）", public=True, enum=SEVERITY_NAMES),
        Field("category", "enum", "隐患类别", public=True, enum=CATEGORY_NAMES),
        Field("criterion_ref", "string", "判定依据条目", public=True, max_length=40),
        Field("description", "text", "隐患描述", public=True, max_length=1000),
        Field("location_detail", "text", "具体位置", required=False, max_length=300),
        Field("evidence", "array", "证据材料编号", required=False, items=Field("ref", "string", "证据", max_length=200)),
        Field("responsible_person", "string", "整改责任人", public=True, max_length=50),
        date_field("identified_on", "发现日期"),
        Field("inspection_id", "string", "来源检查编号", public=True, required=False, max_length=36),
        Field("region_code", "string", "机构所在地行政区划", public=True, pattern=r"^\d{6}$"),
    ),
))

RECTIFICATION_ORDERED = CATALOGUE.register(EventType(
    name="HazardRectificationOrdered", version=1, aggregate_type="Hazard", title_zh="责令限期整改",
    description="责令限期改正: the measures required and the deadline.",
    fields=(
        INSTITUTION_REF,
        Field("measures", "text", "整改措施要求", public=True, max_length=1000),
        date_field("ordered_on", "责令日期"),
        date_field("deadline", "整改期限"),
    ),
))

HAZARD_RECTIFIED = CATALOGUE.register(EventType(
    name="HazardRectified", version=1, aggregate_type="Hazard", title_zh="隐患整改完成（待验收）",
    description="The institution reports the hazard rectified, with evidence; it stays open until verified.",
    fields=(
        INSTITUTION_REF,
        date_field("rectified_on", "整改完成日期"),
        Field("measures_taken", "text", "已采取措施", public=True, max_length=1000),
        Field("evidence", "array", "整改证据编号", required=False, items=Field("ref", "string", "证据", max_length=200)),
    ),
))

HAZARD_VERIFIED = CATALOGUE.register(EventType(
    name="HazardVerified", version=1, aggregate_type="Hazard", title_zh="整改验收",
    description="A department checked the rectification: closed (销账) or not rectified (back to the order).",
    fields=(
        INSTITUTION_REF,
        date_field("verified_on", "验收日期"),
        Field("outcome", "enum", "验收结论", public=True, enum={"closed": "验收合格，销账", "not_rectified": "验收不合格，继续整改"}),
        Field("remarks", "text", "验收意见", public=True, required=False, max_length=1000),
    ),
))

HAZARD_OVERDUE = CATALOGUE.register(EventType(
    name="HazardOverdue", version=1, aggregate_type="Hazard", title_zh="隐患逾期未整改",
    description="Recorded by the ledger's scheduler when the deadline passed without the hazard being closed.",
    fields=(
        INSTITUTION_REF,
        date_field("deadline", "整改期限"),
        date_field("detected_on", "判定日期"),
    ),
))

HAZARD_ESCALATED = CATALOGUE.register(EventType(
    name="HazardEscalated", version=1, aggregate_type="Hazard", title_zh="逾期重大隐患升级处置",
    description=(
        "An overdue major hazard escalates: 责令停业整顿 (suspension_ordered, recorded on the "
        "institution in the same transaction), then 取缔/关停 (closure_ordered) once the residents "
        "are resettled."
    ),
    fields=(
        INSTITUTION_REF,
        Field("step", "enum", "升级措施", public=True, enum=ESCALATION_STEP_NAMES),
        date_field("decided_on", "决定日期"),
        Field("reason", "text", "理由", public=True, max_length=1000),
        date_field("rectify_by", "停业整顿期限", required=False),
    ),
))


# --- the hazard's lifecycle ---------------------------------------------------------------------

IDENTIFIED, ORDERED, OVERDUE, RECTIFIED, CLOSED = "identified", "ordered", "overdue", "rectified", "closed"


def _identified(_: State, entry: Entry) -> State:
    p = payload(entry)
    return {"institution_id": p["institution_id"], "region_code": p["region_code"], "severity": p["severity"],
            "category": p["category"], "criterion_ref": p["criterion_ref"], "description": p["description"],
            "responsible_person": p["responsible_person"], "inspection_id": p.get("inspection_id"), "measures": None,
            "identified_on": p["identified_on"], "identified_by": department(entry), "deadline": None, "ordered_by": None,
            "ordered_on": None, "rectified_on": None, "closed_on": None, "escalations": []}


def _verified(state: State, entry: Entry) -> State:
    p = payload(entry)
    if p["outcome"] == "closed":
        return {"status": CLOSED, "closed_on": p["verified_on"]}
    if state["deadline"] is None:
        return {"status": IDENTIFIED}
    return {"status": OVERDUE if p["verified_on"] > state["deadline"] else ORDERED}


HAZARD = declare(RecordKind(
    name="Hazard", title_zh="隐患", refusal_code="HAZARD_STATE_INVALID", ends=lambda state: state["closed_on"],
    states={IDENTIFIED: "已发现", ORDERED: "限期整改中", OVERDUE: "逾期未整改", RECTIFIED: "已整改待验收", CLOSED: "已销账"},
    fields=(
        INSTITUTION_REF,
        Field("region_code", "string", "机构所在地行政区划", public=True),
        Field("severity", "enum", "隐患等级", public=True, enum=SEVERITY_NAMES),
        Field("category", "enum", "隐患类别", public=True, enum=CATEGORY_NAMES),
        Field("criterion_ref", "string", "判定依据条目", public=True),
        HAZARD_IDENTIFIED.field_named("description"),
        Field("responsible_person", "string", "整改责任人", public=True),
        HAZARD_IDENTIFIED.field_named("inspection_id"),
        Field("measures", "text", "整改措施要求", public=True, required=False),
        date_field("identified_on", "发现日期"),
        Field("identified_by", "string", "发现部门", public=True),
        date_field("deadline", "整改期限", required=False),
        Field("ordered_by", "string", "责令整改部门", public=True, required=False),
        date_field("ordered_on", "责令日期", required=False),
        date_field("rectified_on", "整改完成日期", required=False),
        date_field("closed_on", "销账日期", required=False),
        Field("escalations", "array", "升级措施", public=True, items=Field("step", "enum", "措施", public=True, enum=ESCALATION_STEP_NAMES)),
    ),
    steps=(
        Step(HAZARD_IDENTIFIED, "登记隐患", to=IDENTIFIED, sets=_identified, computed=("region_code",)),
        Step(RECTIFICATION_ORDERED, "责令限期整改", after=(IDENTIFIED, OVERDUE), to=ORDERED, computed=("institution_id",),
             sets=lambda s, e: {"deadline": payload(e)["deadline"], "ordered_by": department(e), "ordered_on": payload(e)["ordered_on"],
                                "measures": payload(e)["measures"]}),
        Step(HAZARD_RECTIFIED, "登记整改完成", after=(IDENTIFIED, ORDERED, OVERDUE), to=RECTIFIED, computed=("institution_id",),
             sets=lambda s, e: {"rectified_on": payload(e)["rectified_on"]}),
        Step(HAZARD_VERIFIED, "验收销账", after=(RECTIFIED,), sets=_verified, computed=("institution_id",)),
        Step(HAZARD_OVERDUE, "判定逾期", after=(ORDERED,), to=OVERDUE, computed=("institution_id", "deadline", "detected_on"),
             falls_due=lambda s: s["deadline"]),
        Step(HAZARD_ESCALATED, "升级处置", after=(OVERDUE,), computed=("institution_id",),
             sets=lambda s, e: {"escalations": [*s["escalations"], payload(e)["step"]]}),
    ),
))
