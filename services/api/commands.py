"""Command endpoints, generated from one route table over services/domain/operations.py.

Each route's body model comes from the event catalogue (minus the fields the ledger computes),
so the OpenAPI document shows exactly what the event will hold, with Chinese titles.
"""

import functools
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
from fastapi import APIRouter, Path, Query, Request, Response

from services.api.dependencies import ActorDep, KeyDep, RuntimeDep
from services.api.examples import EXAMPLES
from services.api.models import ERRORS, CommandResponse, command_model, payload_of
from services.bootstrap import Runtime
from services.domain.operations import OPERATIONS
from services.ledger.application import Basis, Command, CommandResult


@dataclass(frozen=True)
class Route:
    operation: str
    path: str
    summary: str
    description: str
    tag: str


REGISTRATION = "登记备案 registration"
HAZARDS = "隐患台账 hazards"
INSPECTIONS = "监督检查 inspections"
SANCTIONS = "行政处罚 sanctions"
CREDIT = "失信名单 credit lists"
GRADING = "等级评定 grading"
COMPLIANCE = "标准符合性与工作目标 compliance"
CORRECTIONS = "更正与撤销 corrections"

# Where each kind of record can be read back (the Location of a created or changed record).
RESOURCE_PATHS = {
    "Institution": "/v1/institutions/", "Hazard": "/v1/hazards/", "Inspection": "/v1/inspections/",
    "InspectionPlan": "/v1/inspection-plans/", "SanctionCase": "/v1/sanction-cases/",
    "CreditListing": "/v1/credit-listings/", "GradingApplication": "/v1/grading-applications/",
    "ComplianceAssessment": "/v1/compliance-assessments/", "CampaignTarget": "/v1/campaign-targets/",
}

ROUTES = [
    Route("institution.discover", "/v1/institutions", "登记已掌握未备案养老机构",
          "记录已掌握但未登记备案的养老机构（进入公开的未备案名单），自动计算首次现场检查时限（20个工作日）。", REGISTRATION),
    Route("institution.file_new", "/v1/filings", "养老机构备案（新机构）",
          "对此前未掌握的养老机构办理备案并出具备案回执。", REGISTRATION),
    Route("institution.file", "/v1/institutions/{target_id}/filing", "已掌握未备案机构办理备案",
          "对未备案名单上的机构办理备案，机构随即从未备案名单移入备案名单。", REGISTRATION),
    Route("institution.change", "/v1/institutions/{target_id}/change-filing", "变更备案",
          "已备案机构信息变更，向其备案机关办理；变更后仍须满足床位等条件。", REGISTRATION),
    Route("institution.suspend", "/v1/institutions/{target_id}/suspension", "责令停业整顿", "民政部门责令停业整顿，可引用依据的隐患。", REGISTRATION),
    Route("institution.resume", "/v1/institutions/{target_id}/resumption", "整顿验收，恢复服务", "停业整顿验收合格后恢复服务。", REGISTRATION),
    Route("institution.plan_closure", "/v1/institutions/{target_id}/closure-plan", "关停并转及安置方案",
          "暂停或终止服务应提前60日（参数）报送老年人安置方案；合并须载明并入机构，转型须载明方向。", REGISTRATION),
    Route("institution.resettle", "/v1/institutions/{target_id}/resettlement", "老年人安置完毕", "登记老年人安置完成情况。", REGISTRATION),
    Route("institution.close", "/v1/institutions/{target_id}/closure", "完成关停并转", "老年人妥善安置后，方可关停、合并或转型。", REGISTRATION),
    Route("institution.register_legal_person", "/v1/institutions/{target_id}/legal-person", "敬老院法人登记",
          "农村特困人员供养服务设施办理法人登记，记录法人代码。", REGISTRATION),
    Route("institution.legal_person_pending", "/v1/institutions/{target_id}/legal-person-pending", "敬老院法人登记未办理情况",
          "记录未办理原因、措施、时限和责任人。", REGISTRATION),
    Route("institution.record_contract", "/v1/institutions/{target_id}/operating-contract", "公建民营合同",
          "记录公建民营机构的运营方、合同期限和退出机制。", REGISTRATION),
    Route("institution.update_handling", "/v1/institutions/{target_id}/handling", "未备案机构处置情况",
          "更新已掌握未备案机构的抄送部门、原因、措施、时限和责任人。", REGISTRATION),
    Route("hazard.identify", "/v1/hazards", "登记安全隐患",
          "任一监管部门在辖区内发现养老机构安全隐患后登记入账；属于重大事故隐患判定标准情形的须定为重大隐患。", HAZARDS),
    Route("hazard.order", "/v1/hazards/{target_id}/rectification-order", "责令限期整改",
          "对隐患作出责令限期改正，载明整改措施和期限；逾期未销账的由台账自动判定逾期。", HAZARDS),
    Route("hazard.rectify", "/v1/hazards/{target_id}/rectification", "登记整改完成",
          "登记机构报告的整改情况和证据，待验收。", HAZARDS),
    Route("hazard.verify", "/v1/hazards/{target_id}/verification", "整改验收（销账）",
          "对整改情况验收：合格销账，或认定未整改到位。", HAZARDS),
    Route("hazard.escalate", "/v1/hazards/{target_id}/escalation", "逾期重大隐患升级处置",
          "重大隐患逾期不改：先责令停业整顿；仍不改正且老年人已妥善安置的，依法取缔或关停。仅民政部门。", HAZARDS),
    Route("inspection_plan.plan", "/v1/inspection-plans", "制定检查计划",
          "按地区、年度制定检查计划，载明参与部门、各信用风险类别抽查比例和每组检查人员数。", INSPECTIONS),
    Route("inspection_plan.draw", "/v1/inspection-plans/{target_id}/draw", "双随机抽取",
          "台账以本地区全部养老机构（按信用风险分类）为检查对象库、以请求提供的执法检查人员名录为人员库，"
          "生成随机种子并抽取；种子、两个库的快照和比例均记入事件，任何人可据此复现抽取结果。", INSPECTIONS),
    Route("inspection.schedule", "/v1/inspections", "安排检查",
          "日常检查须为抽中机构并由抽中检查组实施；日常、专项、联合检查提前3个工作日通知，个案检查不得事先通知；检查人员不少于2人。", INSPECTIONS),
    Route("inspection.conduct", "/v1/inspections/{target_id}/conduct", "登记现场检查",
          "登记检查实施情况和检查发现，每项发现须引用检查项目条目（GB 38600 条款、重大事故隐患判定标准等）。", INSPECTIONS),
    Route("inspection.publish", "/v1/inspections/{target_id}/publication", "公开检查结果",
          "检查结果应于检查后20个工作日内公开；逾期公开须说明原因。", INSPECTIONS),
    Route("sanction.file", "/v1/sanction-cases", "行政处罚立案",
          "由对该违法情形有管辖权的部门立案（谁主管谁监管），立案后90日内作出决定。", SANCTIONS),
    Route("sanction.notify", "/v1/sanction-cases/{target_id}/notice", "送达行政处罚告知书",
          "告知拟作出的处罚及事实、理由、依据，以及陈述、申辩权；较大数额罚款、责令停产停业等告知听证权（5日内申请）。", SANCTIONS),
    Route("sanction.request_hearing", "/v1/sanction-cases/{target_id}/hearing-request", "登记听证申请",
          "当事人应在告知后5日内申请听证。", SANCTIONS),
    Route("sanction.schedule_hearing", "/v1/sanction-cases/{target_id}/hearing-notice", "通知听证",
          "应在举行听证的7日前通知当事人。", SANCTIONS),
    Route("sanction.hold_hearing", "/v1/sanction-cases/{target_id}/hearing", "登记听证", "登记听证举行情况。", SANCTIONS),
    Route("sanction.decide", "/v1/sanction-cases/{target_id}/decision", "作出行政处罚决定",
          "陈述申辩（听证）期满后作出；不得重于告知的处罚；立案后90日内，延期须经批准。决定书文号唯一。", SANCTIONS),
    Route("sanction.serve", "/v1/sanction-cases/{target_id}/decision-service", "登记处罚决定书送达",
          "当事人不在场的，7日内送达。", SANCTIONS),
    Route("sanction.execute", "/v1/sanction-cases/{target_id}/execution", "登记处罚执行完毕", "登记履行情况。", SANCTIONS),
    Route("sanction.close", "/v1/sanction-cases/{target_id}/closure", "结案", "执行完毕、不予处罚或决定被撤销后结案。", SANCTIONS),
    Route("sanction.review", "/v1/sanction-cases/{target_id}/review", "登记复议或诉讼结果",
          "复议或诉讼变更、撤销处罚决定，或确认违法、无效；已公示的应在3日内撤回。", SANCTIONS),
    Route("sanction.publish", "/v1/sanction-cases/{target_id}/publication", "公示行政处罚信息",
          "决定后20个工作日内公示；仅警告的不公示；按决定日期适用的规则确定最短、最长公示期。", SANCTIONS),
    Route("sanction.withdraw_publication", "/v1/sanction-cases/{target_id}/publication-withdrawal", "撤回公示",
          "处罚决定被变更、撤销后3日内撤回并公开理由。", SANCTIONS),
    Route("sanction.end_publication_early", "/v1/sanction-cases/{target_id}/publication-early-stop", "信用修复（提前停止公示）",
          "最短公示期满、义务履行完毕并作出信用承诺后可提前停止公示；责令停产停业、吊销许可等严重处罚不得提前停止。", SANCTIONS),
    Route("listing.propose", "/v1/credit-listings", "拟列入失信名单",
          "由负责监管的民政部门依9类情形或人民法院失信被执行人认定提出，须引用依据文书（处罚案件、逾期重大火灾隐患或法院文书）。", CREDIT),
    Route("listing.notify", "/v1/credit-listings/{target_id}/notice", "送达拟列入告知书",
          "陈述申辩期限按工作日计算（参数：5个工作日）。", CREDIT),
    Route("listing.receive_defence", "/v1/credit-listings/{target_id}/defence", "登记陈述申辩", "期限内收到的陈述申辩。", CREDIT),
    Route("listing.decide", "/v1/credit-listings/{target_id}/decision", "作出列入决定",
          "陈述申辩期满后决定是否列入；列入的有效期3年（参数），满2年可申请提前移出。失信被执行人依法列入。", CREDIT),
    Route("listing.publish", "/v1/credit-listings/{target_id}/publication", "公布失信名单", "公布已决定列入的记录。", CREDIT),
    Route("listing.remove_early", "/v1/credit-listings/{target_id}/early-removal", "提前移出失信名单",
          "列入满2年且无新的严重违法行为，或整改完毕，经申请提前移出。", CREDIT),
    Route("grading.apply", "/v1/grading-applications", "等级评定申请",
          "由本省规则表规定的有权评定的民政部门受理（镇江：一至三级县、市级，四级市级，五级省级）。", GRADING),
    Route("grading.recommend", "/v1/grading-applications/{target_id}/recommendation", "推荐参评（四、五级）",
          "四级候选由评定三级的民政部门从现有三级机构中推荐，五级候选由市级从四级机构中推荐。", GRADING),
    Route("grading.review_eligibility", "/v1/grading-applications/{target_id}/eligibility-review", "资格审查",
          "台账依机构记录判定：已备案、运营满1年、未列入联合惩戒名单、2年内无行政处罚、无未销账重大隐患、符合GB 38600、"
          "首次申请不超过三级、降级1年内不得升级、取消等级3年内不得申请。", GRADING),
    Route("grading.score", "/v1/grading-applications/{target_id}/assessment", "现场评定打分",
          "按1000分制各部分得分，台账按规则表计算总分和对应等级。", GRADING),
    Route("grading.committee", "/v1/grading-applications/{target_id}/committee-decision", "评定委员会审定",
          "审定等级不高于申请等级和得分对应等级；0表示不予评定。", GRADING),
    Route("grading.start_publicity", "/v1/grading-applications/{target_id}/publicity", "评定结果公示",
          "公示期按工作日计算（参数）；载明异议受理方式（未载明的，台账按评定机关生成）。公示在公开网站和公开检索中可见。", GRADING),
    Route("grading.receive_objection", "/v1/grading-applications/{target_id}/objections", "受理公示异议",
          "公示期内受理的异议：异议内容和异议人不公开，异议的受理和处理结果公开。", GRADING),
    Route("grading.handle_objection", "/v1/grading-applications/{target_id}/objection-handling", "处理公示异议",
          "对一项异议（受理事件编号）作出是否成立的处理意见。", GRADING),
    Route("grading.close_publicity", "/v1/grading-applications/{target_id}/publicity-closure", "结束公示",
          "公示期满且异议全部处理后结束公示；有异议成立的，不予授予等级。", GRADING),
    Route("grading.award", "/v1/grading-applications/{target_id}/award", "授予等级", "授予审定的等级，有效期3年（参数）。", GRADING),
    Route("grading.downgrade", "/v1/grading-applications/{target_id}/downgrade", "降低等级", "发生重大事故、隐患或不再符合等级条件时降级；1年内不得升级。", GRADING),
    Route("grading.revoke", "/v1/grading-applications/{target_id}/revocation", "取消等级", "取消后3年内不得申请评定。", GRADING),
    Route("compliance.assess", "/v1/compliance-assessments", "标准符合性评估",
          "登记GB 38600（强制性）或GB/T 35796 符合性评估结论及不符合条款。", COMPLIANCE),
    Route("campaign.set_target", "/v1/campaign-targets", "设定工作目标", "设定地区年度目标（备案率、达标率、评定率等）。", COMPLIANCE),
    Route("record.correct", "/v1/records/{target_id}/correction", "更正决定",
          "由原决定部门更正任一记录上某项决定的字段（不含系统计算字段和标识），须载明理由和批准人；原记录保留。", CORRECTIONS),
    Route("record.retract", "/v1/records/{target_id}/retraction", "撤销决定",
          "由原决定部门撤销任一记录上最近一项有效决定，记录回到该决定之前的状态；撤销首项决定即撤销该记录。", CORRECTIONS),
]


def _respond(runtime: Runtime, result: CommandResult, response: Response, dry_run: bool = False) -> CommandResponse:
    checked_only = dry_run and not result.replayed  # checked, not recorded: no ledger position, nothing to point at
    response.status_code = 200 if result.replayed or dry_run else 201
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    if result.aggregate_type in RESOURCE_PATHS and not checked_only:
        response.headers["Location"] = f"{RESOURCE_PATHS[result.aggregate_type]}{result.aggregate_id}"
    return CommandResponse(
        aggregate_id=str(result.aggregate_id),
        aggregate_type=result.aggregate_type,
        institution_id=result.institution_id,
        aggregate_version=result.version,
        status=result.status,
        replayed=result.replayed,
        seq=None if checked_only else result.seq or runtime.sealer.log.seq_of(str(result.aggregate_id), result.version),
        dry_run=checked_only,
    )


def execute(runtime: Runtime, operation: str, body: Any, actor: Any, key: str | None, target_id: UUID | None = None, *,
            dry_run: bool = False) -> CommandResult:
    """Record one validated request as the API and the console both do: the command pipeline with
    its rules, competence checks and idempotency key. With ``dry_run`` every check runs and nothing
    is recorded."""
    command = Command(actor, Basis(**body.basis.model_dump()), payload_of(body), key)
    return runtime.ledger.execute(operation, command, target_id, dry_run=dry_run)


DryRun = Annotated[bool, Query(description="只检查、不记录：规则、职权和重复请求照常检查，结果不记入台账（dry_run=true）")]


def _endpoint(route: Route, model: Any):
    name = route.operation

    async def run(request, body, actor, key, runtime, response, dry_run, target_id=None):
        # Decisions run on threads of their own (ELDERCARE_COMMAND_THREADS), not the lookups' pool:
        # a decision mostly waits for its commit, and the more decisions wait together the more
        # share one (services/ledger/group_commit.py), while lookups are CPU-bound and contend less
        # for the GIL on fewer threads.
        return await anyio.to_thread.run_sync(
            lambda: _respond(runtime, execute(runtime, name, body, actor, key, target_id, dry_run=dry_run), response, dry_run),
            limiter=request.app.state.command_threads,
        )

    if "{target_id}" in route.path:

        async def on_target(
            target_id: Annotated[UUID, Path(title="对象编号")], body: model, actor: ActorDep, key: KeyDep,
            runtime: RuntimeDep, request: Request, response: Response, dry_run: DryRun = False,
        ) -> CommandResponse:
            return await run(request, body, actor, key, runtime, response, dry_run, target_id)

        return on_target

    async def create(body: model, actor: ActorDep, key: KeyDep, runtime: RuntimeDep, request: Request, response: Response,
                     dry_run: DryRun = False) -> CommandResponse:
        return await run(request, body, actor, key, runtime, response, dry_run)

    return create


@functools.cache
def request_models() -> dict[str, Any]:
    """Each route's request model, built once: the API validates bodies with it and the console
    generates its forms from it (services/console/forms.py)."""
    models = {}
    for route in ROUTES:
        op = OPERATIONS[route.operation]
        model_name = "".join(part.title() for part in route.operation.replace(".", "_").split("_")) + "Request"
        models[route.operation] = command_model(model_name, op.event_type, op.computed, EXAMPLES.get(route.operation), op.defaults)
    return models


def command_router() -> APIRouter:
    router = APIRouter(responses=ERRORS)
    for route in ROUTES:
        model = request_models()[route.operation]
        router.add_api_route(
            route.path, _endpoint(route, model), methods=["POST"], status_code=201, response_model=CommandResponse,
            summary=route.summary, description=route.description, tags=[route.tag], name=route.operation,
        )
    return router
