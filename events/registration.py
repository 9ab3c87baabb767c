"""Registration events: an institution becomes known to the supervisors (discovered, unfiled) or
is filed (备案) with the civil affairs department.

Sources: 《养老机构管理办法》(民政部令第66号) on filing and its materials; the seeds on the
known-unfiled list and its handling (reason, measures, deadline, responsible person).
"""

from __future__ import annotations

from events.catalogue import CATALOGUE, CREDIT_CODE_PATTERN, REGION_CODE_PATTERN, EventType, Field, date_field
from events.record_kinds import RecordKind, Step, declare, payload

# Every enum's values with their Chinese names: the names are what messages, views and pages show.
DEPARTMENT_NAMES = {
    "civil_affairs": "民政部门", "fire_rescue": "消防救援机构", "market_regulation": "市场监管部门", "health": "卫生健康部门",
    "housing": "住房城乡建设部门", "emergency": "应急管理部门", "tcm": "中医药管理部门", "hr": "人力资源社会保障部门",
}
DEPARTMENTS = tuple(DEPARTMENT_NAMES)
LEVEL_NAMES = {"county": "县级", "city": "市级", "province": "省级"}
LEVELS = tuple(LEVEL_NAMES)
OWNERSHIP_TYPE_NAMES = {name: name for name in ("公建公营", "公建民营", "民办", "特困供养设施")}
OWNERSHIP_TYPES = tuple(OWNERSHIP_TYPE_NAMES)
NATURE_NAMES = {"for_profit": "营利性", "non_profit": "非营利性"}
NATURES = tuple(NATURE_NAMES)
PREMISES_OWNERSHIP_NAMES = {"owned": "自有", "leased": "租赁", "allocated": "划拨或无偿使用", "other": "其他"}
PREMISES_OWNERSHIP = tuple(PREMISES_OWNERSHIP_NAMES)
DISCOVERY_SOURCE_NAMES = {
    "inspection": "监督检查发现", "complaint": "投诉举报", "referral": "部门移交", "survey": "摸底排查",
    "self_report": "自行报告", "media": "媒体报道", "other": "其他",
}
DISCOVERY_SOURCES = tuple(DISCOVERY_SOURCE_NAMES)
AUTHORITY_KIND_NAMES = {"market_regulation": "市场监管部门", "civil_affairs": "民政部门", "establishment_office": "机构编制部门"}
IDENTIFIER_KIND_NAMES = {"credit_code": "统一社会信用代码", "receipt_no": "备案回执编号", "decision_no": "行政处罚决定书文号"}



IDENTITY_FIELDS = (
    Field("name", "string", "机构名称", public=True, max_length=100),
    Field("address", "string", "地址", public=True, max_length=200),
    Field("region_code", "string", "所在地行政区划代码", public=True, pattern=REGION_CODE_PATTERN),
)

PROFILE_FIELDS = (
    *IDENTITY_FIELDS,
    Field("credit_code", "string", "统一社会信用代码", public=True, pattern=CREDIT_CODE_PATTERN),
    Field("nature", "enum", "营利性质", public=True, enum=NATURE_NAMES),
    Field("ownership_type", "enum", "运营模式", public=True, enum=OWNERSHIP_TYPE_NAMES),
    Field("operator", "string", "运营方", public=True, max_length=100),
    Field("legal_representative", "string", "法定代表人（主要负责人）", public=True, max_length=50),
    Field(
        "legal_representative_id_no",
        "string",
        "法定代表人身份证件号码",
        required=False,
        max_length=18,
    ),
    Field("beds", "integer", "养老床位数", public=True, minimum=0),
    Field("nursing_beds", "integer", "护理型床位数", public=True, minimum=0),
    Field("floor_area_m2", "decimal", "服务设施面积（平方米）", public=True),
    Field("premises_ownership", "enum", "服务场所权属", public=True, enum=PREMISES_OWNERSHIP_NAMES),
    Field("contact_person", "string", "联系人", max_length=50),
    Field("contact_phone", "string", "联系电话", public=True, max_length=30),
)

REGISTRATION_AUTHORITY = Field(
    "registration_authority",
    "object",
    "登记管理机关",
    public=True,
    fields=(
        Field("kind", "enum", "登记机关类别", public=True, enum=AUTHORITY_KIND_NAMES),
        Field("level", "enum", "登记机关层级", public=True, enum=LEVEL_NAMES),
        Field("region_code", "string", "登记机关行政区划", public=True, pattern=REGION_CODE_PATTERN),
    ),
)

FILING_MATERIALS = Field(
    "materials",
    "object",
    "备案材料",
    fields=(
        Field("application_form", "boolean", "备案申请书"),
        Field("registration_certificate", "boolean", "登记证书"),
        Field("compliance_commitment", "boolean", "符合相关法律法规和强制性标准的承诺书"),
    ),
)

HANDLING = Field(
    "handling",
    "object",
    "处置情况",
    public=True,
    required=False,
    fields=(
        Field(
            "referred_to",
            "array",
            "抄送/移交部门",
            public=True,
            items=Field("department", "enum", "部门", public=True, enum=DEPARTMENT_NAMES),
        ),
        Field("reason", "text", "未登记备案原因", public=True, max_length=500),
        Field("measures", "text", "处置措施", public=True, max_length=1000),
        date_field("deadline", "办结时限", public=True),
        Field("responsible_person", "string", "责任人", public=True, max_length=50),
        Field("internal_note", "text", "内部备注", required=False, max_length=2000),
    ),
)

INSTITUTION_DISCOVERED = CATALOGUE.register(
    EventType(
        name="InstitutionDiscovered",
        version=1,
        aggregate_type="Institution",
        title_zh="发现未登记备案养老机构",
        description=(
            "A facility taking in elders is known to the supervisors but has not filed "
            "(已掌握未经登记备案). It joins the published known-unfiled list; the mandatory "
            "on-site inspection falls due 20 working days after discovery."
        ),
        fields=(
            *IDENTITY_FIELDS,
            Field("credit_code", "string", "统一社会信用代码", public=True, required=False, pattern=CREDIT_CODE_PATTERN),
            Field("operator", "string", "举办者/运营方", public=True, required=False, max_length=100),
            date_field("discovered_on", "发现日期", public=True),
            Field("source", "enum", "线索来源", enum=DISCOVERY_SOURCE_NAMES),
            Field("source_detail", "text", "线索详情（可能含举报人信息）", required=False, max_length=2000),
            Field("residents", "integer", "已收住老年人数", minimum=0),
            HANDLING,
            date_field("inspection_due_by", "首次现场检查截止日", public=False),
            Field("calendar", "string", "工作日历版本", max_length=80),
        ),
    )
)

INSTITUTION_FILED = CATALOGUE.register(
    EventType(
        name="InstitutionFiled",
        version=1,
        aggregate_type="Institution",
        title_zh="养老机构备案",
        description=(
            "Civil affairs issued a filing receipt (备案回执) on complete materials. For-profit "
            "institutions file with the county civil affairs of the site, non-profit ones with "
            "the civil affairs at their registration authority's level, within 10 working days "
            "of admitting the first resident (66号令). The mandatory on-site inspection falls due "
            "20 working days after filing."
        ),
        fields=(
            Field("receipt_no", "string", "备案回执编号", public=True, max_length=60),
            *PROFILE_FIELDS,
            REGISTRATION_AUTHORITY,
            FILING_MATERIALS,
            date_field("first_resident_admitted_on", "首次收住老年人日期", public=False),
            date_field("application_received_on", "备案申请受理日期", public=False),
            date_field("filed_on", "备案日期", public=True),
            date_field("filing_due_by", "备案截止日（收住后第10个工作日）", public=False),
            Field("late_working_days", "integer", "逾期备案工作日数", minimum=0),
            Field("late_filing_reason", "text", "逾期备案情况说明", required=False, max_length=1000),
            date_field("inspection_due_by", "首次现场检查截止日", public=False),
            Field("calendar", "string", "工作日历版本", max_length=80),
        ),
    )
)

IDENTIFIER_CLAIMED = CATALOGUE.register(
    EventType(
        name="IdentifierClaimed",
        version=1,
        aggregate_type="IdentifierClaim",
        title_zh="标识码登记占用",
        description=(
            "An identifier that must name one record only (an institution's unified social credit "
            "code or filing receipt number, a penalty decision's number) was bound to it. Recorded in "
            "the same transaction as the decision that uses it, so two records never share one."
        ),
        fields=(
            Field("kind", "enum", "标识类型", public=True, enum=IDENTIFIER_KIND_NAMES),
            Field("value", "string", "标识值", public=True, max_length=60),
            Field("institution_id", "string", "机构编号", public=True),
            Field("holder_id", "string", "持有该标识的对象编号（机构、处罚案件）", public=True),
        ),
    )
)


# Identifier claims are bookkeeping, not supervision records: one per identifier, never shown.
IDENTIFIER_CLAIM = declare(RecordKind(
    name="IdentifierClaim", title_zh="标识码", refusal_code="IDENTIFIER_CLAIM_STATE_INVALID", bookkeeping=True,
    states={"claimed": "已登记"},
    institution_of=lambda record: record["state"].get("institution"),
    region_of=lambda state: None,
    fields=(),
    steps=(Step(IDENTIFIER_CLAIMED, "登记标识码", to="claimed",
                sets=lambda s, e: {"institution": payload(e)["institution_id"], "holder": payload(e)["holder_id"],
                                   "identifier_kind": payload(e)["kind"], "value": payload(e)["value"]}),),
))
