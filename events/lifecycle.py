"""Institution lifecycle events after registration: change filing (变更备案), suspension for
rectification (停业整顿) and resumption, 关停并转 (close, suspend service, merge, convert) with its
resettlement plan, rural legal-person registration (法人登记), 公建民营 contracts, and the handling
of a known-unfiled institution.

Sources: 66号令 (changes, 停业整顿); 山东/浙江 养老服务条例 (the resettlement plan 60 days ahead);
the Anshan and Jilin seeds (法人登记 or reason, measures, deadline, responsible person); the
Sanming seed (公建民营 contracts and exit; 关停并转 of failing rural homes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

from events.catalogue import CATALOGUE, CREDIT_CODE_PATTERN, EventType, Field, date_field
from events.record_kinds import Entry, RecordKind, State, Step, declare, payload
from events.registration import (
    HANDLING,
    INSTITUTION_DISCOVERED,
    INSTITUTION_FILED,
    NATURE_NAMES,
    OWNERSHIP_TYPE_NAMES,
    PREMISES_OWNERSHIP_NAMES,
)

CLOSURE_KIND_NAMES = {"close": "关闭", "suspend_service": "暂停服务", "merge": "合并", "convert": "转型"}  # 关停并转
CLOSURE_KINDS = tuple(CLOSURE_KIND_NAMES)



CHANGES = Field(
    "changes", "object", "变更事项", public=True,
    fields=(
        Field("name", "string", "机构名称", public=True, required=False, max_length=100),
        Field("address", "string", "地址", public=True, required=False, max_length=200),
        Field("operator", "string", "运营方", public=True, required=False, max_length=100),
        Field("legal_representative", "string", "法定代表人（主要负责人）", public=True, required=False, max_length=50),
        Field("legal_representative_id_no", "string", "法定代表人身份证件号码", required=False, max_length=18),
        Field("nature", "enum", "营利性质", public=True, required=False, enum=NATURE_NAMES),
        Field("ownership_type", "enum", "运营模式", public=True, required=False, enum=OWNERSHIP_TYPE_NAMES),
        Field("beds", "integer", "养老床位数", public=True, required=False, minimum=0),
        Field("nursing_beds", "integer", "护理型床位数", public=True, required=False, minimum=0),
        Field("floor_area_m2", "decimal", "服务设施面积（平方米）", public=True, required=False),
        Field("premises_ownership", "enum", "服务场所权属", public=True, required=False, enum=PREMISES_OWNERSHIP_NAMES),
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
        Field("kind", "enum", "类型（关闭、暂停服务、合并、转型）", public=True, enum=CLOSURE_KIND_NAMES),
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
    fields=(Field("kind", "enum", "类型", public=True, enum=CLOSURE_KIND_NAMES), date_field("closed_on", "完成日期")),
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

HANDLING_OVERDUE = CATALOGUE.register(EventType(
    name="UnfiledHandlingOverdue", version=1, aggregate_type="Institution", title_zh="未备案机构处置逾期",
    description="Recorded by the ledger's scheduler, dated the day after the handling deadline, when a known-unfiled "
                "institution was neither filed nor given a new deadline by then.",
    fields=(date_field("deadline", "办结时限"), date_field("overdue_on", "逾期起始日")),
))


# --- the institution's lifecycle ------------------------------------------------------------------

DISCOVERED, FILED, SUSPENDED, CLOSING = "discovered", "filed", "suspended", "closing"
ENDED = {"close": "closed", "suspend_service": "service_suspended", "merge": "merged", "convert": "converted"}
OPERATING = (FILED, SUSPENDED, CLOSING)

# Every particular an institution's profile can hold (from its discovery, filing and later
# decisions), with the catalogue's public marks.
PROFILE = Field("profile", "object", "登记信息", public=True, fields=tuple(
    replace(f, required=False) for f in {
        f.name: f for f in (*INSTITUTION_DISCOVERED.fields, *INSTITUTION_FILED.fields, LEGAL_PERSON_REGISTERED.field_named("legal_person_code"))
    }.values()
))


def _registered(state: State, entry: Entry) -> State:
    p = payload(entry)
    out = {"profile": {**state.get("profile", {}), **p}, "region_code": p["region_code"]}
    if not state:  # the creating decision
        out.update(residents_resettled=False, closure=None, contract=None, discovered_on=None, filed_on=None, handling_overdue_since=None)
    out["filed_on" if entry["event_type"] == INSTITUTION_FILED.name else "discovered_on"] = p.get("filed_on") or p.get("discovered_on")
    return out


def handling_deadline(state: State) -> str | None:
    """The deadline by which a known-unfiled institution's handling is to be done, if one was set."""
    return (state.get("profile", {}).get("handling") or {}).get("deadline")


def day_after(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _overdue_since(state: State, entry: Entry) -> str | None:
    """The mark's day: the day after the deadline it judged — or none, if that deadline was since
    corrected (the scheduler judges the corrected one when it passes)."""
    judged = entry["payload"].get("deadline") or handling_deadline(state)  # as-of views pass no payload
    return day_after(judged) if judged and judged == handling_deadline(state) else None


def _handling_falls_due(state: State) -> str | None:
    """A handling deadline not yet marked overdue falls due the day after it."""
    return handling_deadline(state) if state.get("handling_overdue_since") is None else None


def _closure_planned(state: State, entry: Entry) -> State:
    p = payload(entry)
    return {"status_before_closure": state["status"], "closure": dict(p), "residents_resettled": p["residents"] == 0}


def _profile_with(**fields) -> Callable[[State, Entry], State]:
    """A step that writes into the profile: each profile field from a payload field."""
    return lambda state, entry: {"profile": {**state["profile"], **{k: payload(entry)[v] for k, v in fields.items()}}}


INSTITUTION = declare(RecordKind(
    name="Institution", title_zh="机构", refusal_code="INSTITUTION_STATE_INVALID",
    states={DISCOVERED: "已掌握未登记备案", FILED: "已备案", SUSPENDED: "停业整顿", CLOSING: "关停并转办理中",
            "closed": "已关闭", "service_suspended": "已暂停服务", "merged": "已合并", "converted": "已转型"},
    institution_of=lambda record: record["id"],
    fields=(
        PROFILE,
        Field("region_code", "string", "所在地行政区划代码", public=True),
        date_field("discovered_on", "发现日期", required=False),
        date_field("filed_on", "备案日期", required=False),
        Field("residents_resettled", "boolean", "老年人已安置", public=True),
        date_field("handling_overdue_since", "处置逾期起始日", required=False),
        Field("closure", "object", "关停并转方案", public=True, required=False, fields=CLOSURE_PLANNED.fields),
        Field("contract", "object", "公建民营合同", public=True, required=False, fields=CONTRACT_RECORDED.fields),
    ),
    steps=(
        Step(INSTITUTION_DISCOVERED, "登记已掌握未备案机构", to=DISCOVERED, sets=_registered,
             computed=("inspection_due_by", "calendar")),
        Step(INSTITUTION_FILED, "备案", to=FILED, sets=_registered,
             computed=("filing_due_by", "late_working_days", "inspection_due_by", "calendar")),
        Step(INSTITUTION_FILED, "备案", after=(DISCOVERED,), to=FILED, sets=_registered,
             computed=("filing_due_by", "late_working_days", "inspection_due_by", "calendar")),
        Step(CHANGE_FILED, "变更备案", after=(FILED, SUSPENDED),
             sets=lambda s, e: {"profile": {**s["profile"], **payload(e)["changes"]}}),
        Step(SUSPENSION_ORDERED, "责令停业整顿", after=(FILED,), to=SUSPENDED),
        Step(SERVICE_RESUMED, "恢复服务", after=(SUSPENDED,), to=FILED),
        Step(CLOSURE_PLANNED, "报送关停并转及安置方案", after=(FILED, SUSPENDED), to=CLOSING, sets=_closure_planned),
        Step(RESIDENTS_RESETTLED, "登记老年人安置", after=(CLOSING,), sets=lambda s, e: {"residents_resettled": True}),
        Step(INSTITUTION_CLOSED, "完成关停并转", after=(CLOSING,), sets=lambda s, e: {"status": ENDED[payload(e)["kind"]]}),
        Step(LEGAL_PERSON_REGISTERED, "登记法人", after=OPERATING, sets=_profile_with(legal_person_code="legal_person_code"),
             external_date=True),
        Step(LEGAL_PERSON_PENDING, "登记未办理法人登记情况", after=OPERATING),
        Step(CONTRACT_RECORDED, "登记公建民营合同", after=OPERATING, sets=lambda s, e: {"contract": dict(payload(e))}),
        Step(HANDLING_UPDATED, "更新未备案处置情况", after=(DISCOVERED,),
             sets=lambda s, e: {"profile": {**s["profile"], "handling": payload(e)["handling"]}, "handling_overdue_since": None}),
        Step(HANDLING_OVERDUE, "判定处置逾期", after=(DISCOVERED,), computed=("deadline", "overdue_on"),
             sets=lambda s, e: {"handling_overdue_since": _overdue_since(s, e)}, falls_due=_handling_falls_due),
    ),
))
