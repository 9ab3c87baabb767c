"""The FastAPI application: departments' commands and queries, the OpenAPI document at /docs, and
the built disclosure site at /site/."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import JSONResponse

from events.registration import INSTITUTION_DISCOVERED, INSTITUTION_FILED
from projections.search.index import SearchQuery
from services.api import errors
from services.api.auth import actor_from_authorization
from services.api.examples import DISCOVERY_EXAMPLE, FILING_EXAMPLE
from services.api.models import (
    CommandResponse,
    ErrorResponse,
    InstitutionResponse,
    SearchResponse,
    command_model,
    payload_of,
)
from services.bootstrap import Runtime
from services.domain.actors import Actor
from services.domain.errors import RuleViolation
from services.domain.registration import COMPUTED_DISCOVERY_FIELDS, COMPUTED_FILING_FIELDS
from services.ledger.application import Basis, Command, CommandResult

MAX_BODY_BYTES = 1_000_000
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")

DiscoveryRequest = command_model("DiscoveryRequest", INSTITUTION_DISCOVERED, COMPUTED_DISCOVERY_FIELDS, DISCOVERY_EXAMPLE)
FilingRequest = command_model("FilingRequest", INSTITUTION_FILED, COMPUTED_FILING_FIELDS, FILING_EXAMPLE)

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "未认证：缺少、无效或过期的令牌"},
    403: {"model": ErrorResponse, "description": "无权：部门、层级、辖区或角色不符"},
    409: {"model": ErrorResponse, "description": "冲突：重复登记、状态不允许、幂等键被其他请求使用"},
    422: {"model": ErrorResponse, "description": "不符合规定或请求格式错误（含稳定的错误代码）"},
}


class BodyLimit(BaseHTTPMiddleware):
    """Refuse bodies over 1 MB before reading them (declared length) or while reading (chunked)."""

    async def dispatch(self, request: Request, call_next):
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            return errors.error_response(413, "BODY_TOO_LARGE", "请求体超过 1 MB", "request body exceeds 1 MB")
        return await call_next(request)


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _actor(request: Request, authorization: Annotated[str | None, Header(description="Bearer 令牌")] = None) -> Actor:
    settings = request.app.state.runtime.settings
    return actor_from_authorization(authorization, settings.jwt_secret, settings.jwt_issuer)


def _idempotency_key(
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", description="幂等键：同一键的重复请求只记录一次，返回原结果")
    ] = None,
) -> str | None:
    if idempotency_key is not None and not IDEMPOTENCY_KEY.match(idempotency_key):
        raise RuleViolation(
            "IDEMPOTENCY_KEY_INVALID",
            "Idempotency-Key 应为1至128个可见 ASCII 字符",
            "Idempotency-Key must be 1-128 visible ASCII characters",
        )
    return idempotency_key


ActorDep = Annotated[Actor, Depends(_actor)]
KeyDep = Annotated[str | None, Depends(_idempotency_key)]
RuntimeDep = Annotated[Runtime, Depends(_runtime)]


def _respond(runtime: Runtime, result: CommandResult, response: Response) -> CommandResponse:
    response.status_code = 200 if result.replayed else 201
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/institutions/{result.institution_id}"
    return CommandResponse(
        institution_id=str(result.institution_id),
        aggregate_version=result.version,
        status=result.status,
        replayed=result.replayed,
        seq=runtime.sealer.log.seq_of(str(result.institution_id), result.version),
    )


def _command(actor: Actor, body: Any, key: str | None) -> Command:
    return Command(actor, Basis(**body.basis.model_dump()), payload_of(body), key)


registration = APIRouter(prefix="/v1", tags=["登记备案 registration"], responses=ERRORS)


@registration.post(
    "/institutions", status_code=201, response_model=CommandResponse,
    summary="登记已掌握未备案养老机构", description="记录已掌握但未登记备案的养老机构（进入公开的未备案名单），自动计算首次现场检查时限（20个工作日）。",
)
def discover_institution(body: DiscoveryRequest, actor: ActorDep, key: KeyDep, runtime: RuntimeDep, response: Response):  # type: ignore[valid-type]
    return _respond(runtime, runtime.ledger.discover(_command(actor, body, key)), response)


@registration.post(
    "/filings", status_code=201, response_model=CommandResponse,
    summary="养老机构备案（新机构）", description="对此前未掌握的养老机构办理备案并出具备案回执。",
)
def file_new_institution(body: FilingRequest, actor: ActorDep, key: KeyDep, runtime: RuntimeDep, response: Response):  # type: ignore[valid-type]
    return _respond(runtime, runtime.ledger.file_new(_command(actor, body, key)), response)


@registration.post(
    "/institutions/{institution_id}/filing", status_code=201, response_model=CommandResponse,
    summary="已掌握未备案机构办理备案", description="对未备案名单上的机构办理备案，机构随即从未备案名单移入备案名单。",
)
def file_institution(
    institution_id: Annotated[UUID, Path(title="机构编号")], body: FilingRequest,  # type: ignore[valid-type]
    actor: ActorDep, key: KeyDep, runtime: RuntimeDep, response: Response,
):
    return _respond(runtime, runtime.ledger.file(institution_id, _command(actor, body, key)), response)


@registration.get("/institutions/{institution_id}", response_model=InstitutionResponse, summary="查询机构当前登记信息")
def get_institution(institution_id: Annotated[UUID, Path(title="机构编号")], actor: ActorDep, runtime: RuntimeDep):
    institution = runtime.ledger.institution(institution_id)
    return InstitutionResponse(
        id=str(institution.id), status=institution.status, aggregate_version=institution.version,
        profile=institution.profile,
    )


lookup = APIRouter(prefix="/v1", tags=["联合检索 lookup"], responses=ERRORS)


@lookup.get("/search", response_model=SearchResponse, summary="检索养老机构（各部门共享）")
def search(
    actor: ActorDep,
    runtime: RuntimeDep,
    q: Annotated[str | None, Query(description="名称或地址中的任意连续文字；18位统一社会信用代码精确匹配；备案回执编号精确匹配")] = None,
    region: Annotated[str | None, Query(description="省、市或县级行政区划代码")] = None,
    status: Annotated[str | None, Query(description="discovered（未备案）或 filed（已备案）")] = None,
    size: Annotated[int, Query(ge=1, le=200)] = 20,
    cursor: Annotated[str | None, Query(description="上一页返回的 next_cursor")] = None,
):
    result = runtime.search.search(SearchQuery(q=q, region=region, status=status, size=size, cursor=cursor))
    return SearchResponse(
        total=result.total,
        hits=result.hits,
        next_cursor=result.next_cursor,
        indexed_seq=runtime.search.position()["seq"],
    )


def create_app(runtime: Runtime, *, follow_in_background: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI):
        if follow_in_background:
            runtime.start_background()
        yield

    app = FastAPI(
        title="养老机构综合监管台账 API",
        version="0.1.0",
        description=(
            "民政、消防救援、市场监管、卫生健康、住房城乡建设、应急管理、中医药等部门共用的养老机构监管台账。"
            "每项决定都是不可篡改的事件，记录决定主体、时间、法律依据和文书编号。\n\n"
            "错误统一返回 `{\"error\": {\"code\", \"message_zh\", \"message_en\", \"details\"}}`，`code` 稳定可供程序判断。"
        ),
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.add_middleware(BodyLimit)
    errors.register(app)
    app.include_router(registration)
    app.include_router(lookup)

    @app.get("/healthz", tags=["运维 operations"], summary="存活检查")
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "profile": runtime.settings.profile, "sealed_seq": runtime.sealer.log.head().seq})

    site_dir = runtime.settings.site_dir
    site_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/site", StaticFiles(directory=site_dir, html=True, check_dir=False), name="site")
    return app
