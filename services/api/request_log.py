"""The structured audit log of every request: one JSON line per request, written to
``<data dir>/logs/requests.jsonl`` and to the ``eldercare.requests`` logger (which `eldercare serve`
sends to stdout, services/log_format.py). The file is rotated by size: past ``max_bytes`` it becomes
``requests.jsonl.1`` (the older ones shift up) and the oldest beyond ``keep`` is removed — ship
stdout to the log system for the record kept longer (ELDERCARE_REQUEST_LOG_MAX_MB, _KEEP).

Each line says who (the verified actor, or none), what (method, route template, path, the names
of the query parameters), with which idempotency key, from where, the outcome (status, error
code) and how long it took, under a request id that is also returned in ``X-Request-Id``.

Never logged: the Authorization header or any part of a token, request and response bodies,
query values (they may hold names or identity numbers), cookies.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
log = logging.getLogger("eldercare.requests")


def route_of(scope: Scope) -> str:
    """The matched route's template (``/v1/institutions/{institution_id}``), never the raw path
    with ids in it; unmatched paths are grouped."""
    route = scope.get("route")
    if route is not None and getattr(route, "path", None):
        return route.path
    path = scope.get("path", "")
    return "/site/…" if path.startswith("/site") else "(unmatched)"


class RequestLog:
    """Appends JSON lines to a file, thread-safe, rotating it by size."""

    def __init__(self, path: Path, *, max_bytes: int = 100 * 1024 * 1024, keep: int = 20) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.max_bytes, self.keep = path, max_bytes, keep
        self._file = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115  (kept open for the app's life)
        self._size = path.stat().st_size
        self._lock = threading.Lock()

    def _rotate(self) -> None:
        self._file.close()
        oldest = self.path.with_name(f"{self.path.name}.{self.keep}")
        oldest.unlink(missing_ok=True)
        for n in range(self.keep - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                older.rename(self.path.with_name(f"{self.path.name}.{n + 1}"))
        self.path.rename(self.path.with_name(f"{self.path.name}.1"))
        self._file = open(self.path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        self._size = 0

    def write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        size = len(line.encode()) + 1
        with self._lock:
            if self._file.closed:  # the app was shut down and started again (lifespan per test client)
                self._file = open(self.path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
                self._size = self.path.stat().st_size
            if self._size and self._size + size > self.max_bytes:
                self._rotate()
            self._file.write(line + "\n")
            self._size += size
        log.info(line)

    def close(self) -> None:
        with self._lock:
            self._file.close()


class RequestLogMiddleware:
    """Pure ASGI: times the request, captures the status and the error code of a refusal, and
    after the response is sent (also when the handler fails) writes the entry and counts it in
    the metrics (services/api/metrics.py), so each response is observed once."""

    def __init__(self, app: ASGIApp, request_log: RequestLog, metrics: Any = None) -> None:
        self.app = app
        self.request_log = request_log
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        offered = headers.get("x-request-id", "")
        request_id = offered if REQUEST_ID.match(offered) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        outcome: dict[str, Any] = {"status": 500, "error_code": None}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            elif message["type"] == "http.response.body" and outcome["status"] >= 400 and outcome["error_code"] is None:
                outcome["error_code"] = error_code_of(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            route = route_of(scope)
            if self.metrics is not None:
                self.metrics.observe(scope.get("method", ""), route, outcome["status"], outcome["error_code"], seconds)
            actor = scope.get("state", {}).get("actor")
            query = scope.get("query_string", b"").decode("latin-1")
            self.request_log.write({
                "at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                "request_id": request_id,
                "method": scope.get("method"),
                "route": route,
                "path": scope.get("path"),
                "query_keys": sorted({pair.split("=", 1)[0] for pair in query.split("&") if pair}),
                "status": outcome["status"],
                "error_code": outcome["error_code"],
                "duration_ms": round(seconds * 1000, 2),
                "client": (scope.get("client") or ("", 0))[0],
                "actor": None if actor is None else {
                    "user": actor.user, "department": actor.department, "level": actor.level,
                    "region": actor.region, "role": actor.role,
                },
                "idempotency_key": headers.get("idempotency-key"),
                "user_agent": headers.get("user-agent", "")[:200],
            })


def error_code_of(body: bytes) -> str | None:
    try:
        return json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
