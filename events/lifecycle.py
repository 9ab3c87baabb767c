"""Institution lifecycle events after registration: change filing (变更备案), suspension for
rectification (停业整顿) and resumption, 关停并转 (close, suspend service, merge, convert) with its
resettlement plan, rural legal-person registration (法人登记), 公建民营 contracts, and the handling
of a known-unfiled institution.

Sources: 66号令 (changes, 停业整顿); 山东/浙江 养老服务条例 (the resettlement plan 60 days ahead);
the Anshan and Jilin seeds (法人登记 or reason, measures, deadline, responsible person); the
Sanming seed (公建民营 contracts and exit; 关停并转 of failing rural homes).
"""

from __future__ import annotations

from dataclasses import replace

from events.catalogue import CATALOGUE, CREDIT_CODE_PATTERN, EventType, Field, date_field
from events.registration import HANDLING, NATURES, OWNERSHIP_TYPES, PREMISES_OWNERSHIP

CLOSURE_KINDS = ("close", "suspend_service", "merge", "convert")



CHANGES = Field(
    "changes", "object", "变更事项", public=True,
    fields=(
        Field("name", "string", "机构名称", public=True, required=False, max_length=100),
        Field("address", "string", "地址", public=True, required=False, max_length=200),
        Field("operator", "string", "运营方", public=True, required=False, max_length=100),
        Field("legal_representative", "string", "法定代表人（主要负责人）", public=True, required=False, max_length=50),
        Field("legal_representative_id_no", "string", "法定代表人身份证件号码", required=False, max_length=18),
        Field("nature", "enum", "营利性质", public=True, required=False, enum=NATURES),
        Field("ownership_type", "enum", "运营模式", public=True, required=False, enum=OWNERSHIP_TYPES),
        Field("beds", "integer", "养老床位数", public=True, required=False, minimum=0),
        Field("nursing_beds", "integer", "护理型床位数", public=True, required=False, minimum=0),
        Field("floor_area_m2", "decimal", "服务设施面积（平方米）", public=True, required=False),
        Field("premises_ownership", "enum", "服务场所权属", public=True, required=False, enum=PREMISES_OWNERSHIP),
        Field("contact_person", "string", "联系人", required=False, max_length=50),
        Field("contact_phone", "string", "联系电话", public=True, required=False, max_length=30),
    ),
)

CHANGE_FILED = CATALOGUE.register(EventType(
    name="InstitutionChangeFiled", version=1, aggregate_type="Institution", title_zh="变更备案",
    description="A filed institution's particulars changed; only the fields named change.",
    fields=(CHANGES, date_field("changed_on", "变更备案日期")),
))

SUSPENSION_ORDERED = CATALOGUE.register(EventType(
    name="InstitutionSuspensionOrdered", version=1, aggregate_type="Institution", title_zh="责令停业整顿",
    description="Civil affairs orders the institution to suspend service and rectify (66号令), often on an overdue major hazard.",
    fields=(
        date_field("ordered_on", "责令日期"),
        Field("reason", "text", "理由", public=True, max_length=1000),
        Field("hazard_id", "string", "依据的隐患编号", public=True, required=False, max_length=36),
        date_field("rectify_by", "整顿期限"),
    ),
))

SERVICE_RESUMED = CATALOGUE.register(EventType(
    name="InstitutionServiceResumed", version=1, aggregate_type="Institution", title_zh="整顿验收合格，恢复服务",
    description="The suspension ends after rectification is checked.",
    fields=(date_field("resumed_on", "恢复日期"), Field("verification", "text", "验收意见", public=True, max_length=1000)),
))

CLOSURE_PLANNED = CATALOGUE.register(EventType(
    name="InstitutionClosurePlanned", version=1, aggregate_type="Institution", title_zh="关停并转及老年人安置方案",
    description="Suspending or ending service needs a resettlement plan submitted 60 days ahead (param).",
    fields=(
        Field("kind", "enum", "类型（关闭、暂停服务、合并、转型）", public=True, enum=CLOSURE_KINDS),
        date_field("plan_submitted_on", "安置方案报送日期"),
        date_field("effective_on", "拟实施日期"),
        Field("residents", "integer", "在住老年人数", public=True, minimum=0),
        Field("plan_summary", "text", "安置方案", max_length=4000),
        Field("merge_into", "string", "合并至机构编号", public=True, required=False, max_length=36),
        Field("convert_to", "string", "转型方向", public=True, required=False, max_length=200),
    ),
))

RESIDENTS_RESETTLED = CATALOGUE.register(EventType(
    name="InstitutionResidentsResettled", version=1, aggregate_type="Institution", title_zh="老年人安置完毕",
    description="Every resident was resettled (《老年人权益保障法》第46条: 妥善安置).",
    fields=(date_field("resettled_on", "安置完毕日期"), Field("residents", "integer", "安置人数", public=True, minimum=0),
            Field("summary", "text", "安置情况", max_length=2000)),
))

INSTITUTION_CLOSED = CATALOGUE.register(EventType(
    name="InstitutionClosed", version=1, aggregate_type="Institution", title_zh="关停并转完成",
    description="Closed, service suspended, merged or converted — only after its residents were resettled.",
    fields=(Field("kind", "enum", "类型", public=True, enum=CLOSURE_KINDS), date_field("closed_on", "完成日期")),
))

LEGAL_PERSON_REGISTERED = CATALOGUE.register(EventType(
    name="InstitutionLegalPersonRegistered", version=1, aggregate_type="Institution", title_zh="法人登记",
    description="A rural 特困供养设施 (敬老院) registered as a legal person, with its code.",
    fields=(date_field("registered_on", "登记日期"),
            Field("legal_person_code", "string", "法人统一社会信用代码", public=True, pattern=CREDIT_CODE_PATTERN)),
))

LEGAL_PERSON_PENDING = CATALOGUE.register(EventType(
    name="InstitutionLegalPersonRegistrationPending", version=1, aggregate_type="Institution", title_zh="法人登记未办理情况",
    description="Why a rural facility is not yet registered, and the measures, deadline and responsible person.",
    fields=(
        Field("reason", "text", "未登记原因", public=True, max_length=1000),
        Field("measures", "text", "措施", public=True, max_length=1000),
        date_field("deadline", "办结时限"),
        Field("responsible_person", "string", "责任人", public=True, max_length=50),
        date_field("recorded_on", "登记日期"),
    ),
))

CONTRACT_RECORDED = CATALOGUE.register(EventType(
    name="InstitutionOperatingContractRecorded", version=1, aggregate_type="Institution", title_zh="公建民营合同",
    description="The contract under which a publicly built institution is privately run, with its term and exit.",
    fields=(
        Field("operator", "string", "运营方", public=True, max_length=100),
        Field("operator_credit_code", "string", "运营方统一社会信用代码", public=True, pattern=CREDIT_CODE_PATTERN),
        date_field("contract_start", "合同起始日期"),
        date_field("contract_end", "合同终止日期"),
        Field("exit_terms", "text", "退出机制", public=True, max_length=2000),
        Field("annual_fee", "decimal", "年度运营费用（元）", required=False),
        date_field("recorded_on", "登记日期"),
    ),
))

HANDLING_UPDATED = CATALOGUE.register(EventType(
    name="UnfiledHandlingUpdated", version=1, aggregate_type="Institution", title_zh="未备案机构处置情况更新",
    description="Referral of a known-unfiled institution to the departments concerned, with reason, measures, deadline and responsible person.",
    fields=(replace(HANDLING, required=True), date_field("updated_on", "更新日期")),
))
