"""One error shape for every 4xx/5xx: ``{"error": {"code", "message_zh", "message_en", "details"}}``.

Each domain error kind maps to one status; codes are stable and documented in the OpenAPI text.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError
from eventsourcing import persistence
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from events.canonical import NotCanonical
from projections.read_your_writes import IndexBehind
from projections.search.index import QueryInvalid
from services.api.auth import AuthError, AuthUnavailable
from services.domain.errors import DomainError
from services.ledger.database import StoreUnavailable

log = logging.getLogger("eldercare.api")

STATUS_BY_KIND = {"rejected": 422, "forbidden": 403, "not_found": 404, "conflict": 409}


def error_response(status: int, code: str, zh: str, en: str, details: dict[str, Any] | None = None, headers=None) -> JSONResponse:
    body = {"error": {"code": code, "message_zh": zh, "message_en": en, "details": details or {}}}
    return JSONResponse(body, status_code=status, headers=headers)


# What each kind of shape problem pydantic reports means, in Chinese (the rest: "不符合要求").
PROBLEM_NAMES_ZH = {
    "missing": "必填", "extra_forbidden": "不是该请求的字段", "string_type": "应为字符串", "int_type": "应为整数",
    "int_parsing": "应为整数", "bool_type": "应为布尔值", "list_type": "应为数组", "dict_type": "应为对象",
    "model_type": "应为对象", "string_too_short": "不能为空", "string_too_long": "过长",
    "string_pattern_mismatch": "格式不正确", "literal_error": "取值不在允许范围内", "greater_than_equal": "过小",
    "less_than_equal": "过大", "uuid_parsing": "应为 UUID 编号", "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）", "datetime_parsing": "应为带时区的 ISO 8601 时间",
    "datetime_from_date_parsing": "应为带时区的 ISO 8601 时间", "control_character": "含有不允许的控制字符",
}


def _validation_problems(error: RequestValidationError) -> list[dict[str, Any]]:
    problems = []
    for item in error.errors():
        location = ".".join(str(p) for p in item.get("loc", ()))
        kind = item.get("type")
        problems.append({"path": location, "type": kind, "message_zh": PROBLEM_NAMES_ZH.get(kind, "不符合要求"),
                         "message_en": item.get("msg")})
    return problems


#: What makes a search unanswerable for now: Elasticsearch unreachable (or its indices not made yet),
#: and the embedded index behind an acknowledged decision and unable to catch up for this read
#: (projections/read_your_writes.py) — a wait, never an answer that misses the decision.
SEARCH_UNAVAILABLE = (TransportError, IndexBehind)


def register(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, error: DomainError) -> JSONResponse:
        return error_response(STATUS_BY_KIND[error.kind], error.code, error.message_zh, error.message_en, error.details)

    @app.exception_handler(AuthError)
    async def auth_error(_: Request, error: AuthError) -> JSONResponse:
        return error_response(401, error.code, error.message_zh, error.message_en, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(NotCanonical)
    async def not_canonical(_: Request, error: NotCanonical) -> JSONResponse:
        # The ledger stores canonical JSON only (events/canonical.py): e.g. integers beyond ±(2^53 − 1).
        return error_response(422, "VALUE_NOT_REPRESENTABLE", f"请求中有台账无法精确记录的值：{error}",
                              f"the request holds a value the ledger cannot record exactly: {error}")

    @app.exception_handler(AuthUnavailable)
    async def auth_unavailable(_: Request, error: AuthUnavailable) -> JSONResponse:
        log.warning("identity provider keys unavailable: %s", error)
        return error_response(503, "AUTH_UNAVAILABLE", "暂时无法核验身份令牌（身份认证服务不可达），请稍后重试",
                              "cannot verify tokens now: the identity provider's keys are unreachable", headers={"Retry-After": "5"})

    @app.exception_handler(QueryInvalid)
    async def query_invalid(_: Request, error: QueryInvalid) -> JSONResponse:
        return error_response(422, "QUERY_INVALID", error.message_zh, error.message_en, {"field": error.field_name})

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = _validation_problems(error)
        if any(p["type"] == "json_invalid" for p in problems):
            return error_response(422, "JSON_INVALID", "请求体不是有效的 JSON", "the request body is not valid JSON", {"problems": problems})
        first = problems[0] if problems else {"path": "", "message_zh": "", "message_en": ""}
        if problems and all(p["path"].split(".")[0] in ("query", "path") for p in problems):
            # A query or path parameter out of its declared shape: the same code the hand-written
            # query checks give, naming the parameter.
            field = first["path"].split(".", 1)[-1]
            return error_response(
                422, "QUERY_INVALID", f"查询参数 {field} {first['message_zh']}", f"query parameter {field} invalid: {first['message_en']}",
                {"field": field, "problems": problems},
            )
        return error_response(
            422, "REQUEST_INVALID", f"请求内容不符合要求：{first['path']} {first['message_zh']}", f"request invalid: {first['path']}: {first['message_en']}",
            {"problems": problems},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        codes = {
            400: ("BODY_UNREADABLE", "请求体无法解析，应为 UTF-8 编码的 JSON", "the body could not be parsed; send UTF-8 JSON"),
            404: ("NOT_FOUND", "未找到该地址", "no such resource"),
            405: ("METHOD_NOT_ALLOWED", "不支持该请求方法", "method not allowed"),
            413: ("BODY_TOO_LARGE", "请求体超过 1 MB", "request body exceeds 1 MB"),
            415: ("UNSUPPORTED_MEDIA_TYPE", "请求体应为 application/json", "the body must be application/json"),
        }
        code, zh, en = codes.get(error.status_code, ("HTTP_ERROR", "请求无法处理", str(error.detail)))
        return error_response(error.status_code, code, zh, en, headers=getattr(error, "headers", None))

    async def storage_busy(_: Request, error: Exception) -> JSONResponse:
        log.warning("storage unavailable: %s", error)
        return error_response(
            503, "STORAGE_UNAVAILABLE", "存储暂时不可用，请稍后重试（请求未被记录）",
            "storage temporarily unavailable; nothing was recorded, retry later", headers={"Retry-After": "2"},
        )

    # The event store (eventsourcing wraps sqlite3/psycopg errors) and the ledger's own tables.
    for unavailable in (StoreUnavailable, persistence.OperationalError, persistence.InterfaceError, sqlite3.OperationalError):
        app.add_exception_handler(unavailable, storage_busy)

    # Elasticsearch (cluster lookups): unreachable, timing out, recovering shards, or its indices
    # not made yet by the projector. Recording decisions does not need it.
    async def search_unavailable(_: Request, error: Exception) -> JSONResponse:
        log.warning("search index unavailable: %s", error)
        return error_response(
            503, "SEARCH_UNAVAILABLE", "检索服务暂时不可用，请稍后重试（记录决定不受影响）",
            "the search service is temporarily unavailable; retry later (recording decisions is not affected)",
            headers={"Retry-After": "5"},
        )

    for unavailable in SEARCH_UNAVAILABLE:
        app.add_exception_handler(unavailable, search_unavailable)

    @app.exception_handler(ApiError)
    async def search_refused(request: Request, error: ApiError) -> JSONResponse:
        status = error.meta.status
        if status in (401, 403):
            # Our own credentials refused (the password or role changed under the service): the
            # users wait like for an outage, the operators are alerted (EldercareSearchCredentialsRefused).
            log.error("Elasticsearch refused the service's credentials (%s): %s", status, error)
            request.app.state.metrics.search_refused.labels(str(status)).inc()
            return await search_unavailable(request, error)
        if status >= 500 or status in (404, 429):
            return await search_unavailable(request, error)
        log.error("Elasticsearch refused a query: %s", error)  # a query we built wrongly: our defect
        return error_response(500, "INTERNAL_ERROR", "服务器内部错误", "internal server error")
