"""Rate limiting per caller: a token bucket per bearer token (or per client address when there is
none), in front of authentication so that a flood of bad tokens costs little.

Defaults: 600 requests a minute with bursts of 120 (``ELDERCARE_RATE_LIMIT_PER_MINUTE``,
``ELDERCARE_RATE_LIMIT_BURST``; 0 turns limiting off). Over the limit: 429 ``RATE_LIMITED`` with
``Retry-After``; nothing is recorded. Only ``/v1/…`` is limited — health, readiness and metrics
must answer the platform whatever the load. One process keeps its own buckets; behind several
API processes the platform's gateway limits the total.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict

from starlette.types import ASGIApp, Receive, Scope, Send

from services.api.errors import error_response

MAX_BUCKETS = 100_000


class TokenBuckets:
    def __init__(self, per_minute: int, burst: int, *, clock=time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 if the caller may go on, else the seconds until a token is free."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
            return wait


def caller_key(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization" and value:
            return "token:" + hashlib.sha256(value).hexdigest()[:32]
    return "client:" + (scope.get("client") or ("unknown", 0))[0]


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, buckets: TokenBuckets) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith("/v1/"):
            wait = self.buckets.take(caller_key(scope))
            if wait > 0:
                response = error_response(
                    429, "RATE_LIMITED", f"请求过于频繁，请 {math.ceil(wait)} 秒后重试（本次请求未被记录）",
                    f"too many requests; retry in {math.ceil(wait)} s (nothing was recorded)",
                    headers={"Retry-After": str(math.ceil(wait))},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
