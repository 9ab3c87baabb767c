"""Liveness, readiness and metrics endpoints for the platform (no token, never rate-limited).

- ``/healthz``: the process answers (liveness) — restart it if not.
- ``/readyz``: it can do its work — the event store reads, the search index answers, and in the
  cluster profile the identity provider's keys can be had. 503 with the failing checks otherwise,
  so a load balancer stops sending traffic. Kafka is reported but not required: commands are
  recorded in the event store and the relay catches up later.
- ``/metrics``: Prometheus text format (services/api/metrics.py).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(tags=["运维 operations"])


def _check(action) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = action()
        return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1), **(detail or {})}
    except Exception as failed:  # noqa: BLE001  (any failure makes the check fail; it is reported, not raised)
        return {"ok": False, "ms": round((time.perf_counter() - started) * 1000, 1), "error": f"{type(failed).__name__}: {failed}"[:300]}


@router.get("/healthz", summary="存活检查")
def healthz(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime
    return JSONResponse({"status": "ok", "profile": runtime.settings.profile, "sealed_seq": runtime.sealer.log.head().seq})


@router.get("/readyz", summary="就绪检查（事件库、检索索引、身份认证服务密钥；Kafka 仅报告）")
def readyz(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime
    checks: dict[str, dict[str, Any]] = {"event_store": _check(lambda: {"sealed_seq": runtime.sealer.log.head().seq})}
    head = checks["event_store"].get("sealed_seq")  # None if the event store cannot be read: no lags then

    def search_index() -> dict[str, Any]:
        position = runtime.search.position()["seq"]
        return {} if head is None else {"lag": head - position}

    checks["search_index"] = _check(search_index)
    if runtime.projector is not None:
        checks["embedded_projector"] = {"ok": runtime.follow_error is None, **({"error": runtime.follow_error} if runtime.follow_error else {})}
    verifier = request.app.state.token_verifier
    if hasattr(verifier, "keys"):
        checks["identity_provider"] = _check(lambda: {"keys": len(verifier.keys.get_jwk_set().keys)})
    required = all(c["ok"] for c in checks.values())
    if runtime.settings.profile == "cluster":
        relayed = request.app.state.metrics.collector.relayed_seq()
        checks["kafka"] = {"ok": relayed is not None, "required": False,
                           **({"lag": head - relayed} if relayed is not None and head is not None else {})}
    return JSONResponse({"status": "ready" if required else "not_ready", "checks": checks}, status_code=200 if required else 503)


@router.get("/metrics", summary="Prometheus 指标")
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
