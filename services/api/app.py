"""The FastAPI application: departments' commands and queries, the OpenAPI document at /docs, and
the built disclosure site at /site/."""

from __future__ import annotations

from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api import audit, errors, health, imports, lookup, queries
from services.api.auth import VerifiedTokens, token_verifier
from services.api.commands import command_router
from services.api.docs import add_docs
from services.api.metrics import Metrics
from services.api.rate_limit import Limits, RateLimited, RateLimitMiddleware, rate_limited
from services.api.request_log import RequestLog, RequestLogMiddleware
from services.bootstrap import Runtime
from services.console.app import add_console

MAX_BODY_BYTES = 1_000_000
MAX_IMPORT_BYTES = 32_000_000  # a register file (POST /v1/imports/…): up to some 100,000 rows


class BodyTooLarge(StarletteHTTPException):
    """Raised while the body streams in; FastAPI passes HTTP exceptions through body parsing to
    the error handlers (services/api/errors.py answers 413 BODY_TOO_LARGE)."""

    def __init__(self) -> None:
        super().__init__(413)


def _limit(scope: Scope) -> int:
    return MAX_IMPORT_BYTES if scope.get("path", "").startswith("/v1/imports/") else MAX_BODY_BYTES


class BodyLimit:
    """Refuse bodies over 1 MB (a register file to import: 32 MB): by their declared length before
    reading them, and by counting when they stream in without one. Pure ASGI, so the refusal is our
    JSON error either way."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
        limit = _limit(scope) // 1_000_000
        await errors.error_response(413, "BODY_TOO_LARGE", f"请求体超过 {limit} MB", f"request body exceeds {limit} MB")(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        limit = _limit(scope)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send)
            return
        received, started = 0, False

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, sending)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)


def create_app(runtime: Runtime, *, follow_in_background: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI):
        # Synchronous endpoints run in a thread pool; in the embedded profile they are CPU-bound
        # (SQLite, folding), and fewer threads contend less for the GIL (bench/load.py: 10 clients
        # 221 -> 298 requests/s with 4 instead of 40).
        anyio.to_thread.current_default_thread_limiter().total_tokens = runtime.settings.api_threads
        if follow_in_background:
            runtime.start_background()
        yield
        app.state.request_log.close()

    app = FastAPI(
        title="养老机构综合监管台账 API",
        version="0.2.0",
        description=(
            "民政、消防救援、市场监管、卫生健康、住房城乡建设、应急管理、中医药等部门共用的养老机构监管台账。"
            "每项决定都是不可篡改的事件，记录决定主体、时间、法律依据和文书编号。\n\n"
            "错误统一返回 `{\"error\": {\"code\", \"message_zh\", \"message_en\", \"details\"}}`，`code` 稳定可供程序判断。"
        ),
        lifespan=lifespan,
        docs_url=None, redoc_url=None,  # served from local assets below (services/api/docs.py)
    )
    settings = runtime.settings
    app.state.runtime = runtime
    app.state.token_verifier = token_verifier(settings)
    app.state.verified_tokens = VerifiedTokens()
    app.state.command_threads = anyio.CapacityLimiter(settings.command_threads)  # the decisions' threads (commands.py)
    app.state.metrics = Metrics(runtime)
    request_log = app.state.request_log = RequestLog(settings.data_dir / "logs" / "requests.jsonl", max_bytes=settings.request_log_max_bytes,
                                                      keep=settings.request_log_keep)
    # Outermost last: the request log (which also counts the metrics) sees everything, also 413 and 429.
    app.add_middleware(BodyLimit)
    app.state.limits = None
    if settings.rate_limit_per_minute:
        app.state.limits = Limits(settings.rate_limit_per_minute, settings.rate_limit_burst, settings.rate_limit_address_factor)
        app.add_middleware(RateLimitMiddleware, limits=app.state.limits)
        app.add_exception_handler(RateLimited, rate_limited)
    app.add_middleware(RequestLogMiddleware, request_log=request_log, metrics=app.state.metrics)
    errors.register(app)
    app.include_router(command_router())
    app.include_router(lookup.router)
    app.include_router(lookup.public)
    app.include_router(queries.router)
    app.include_router(imports.router)
    app.include_router(audit.transparency)
    app.include_router(audit.audit)

    app.include_router(health.router)
    add_docs(app)
    add_console(app, runtime)

    site_dir = runtime.settings.site_dir
    site_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/site", StaticFiles(directory=site_dir, html=True, check_dir=False), name="site")
    return app
