"""Rate limiting in two places, each keyed on something the caller cannot choose freely:

- before authentication, per client address (the socket peer, or the address a trusted reverse
  proxy forwarded — ``eldercare serve --forwarded-allow-ips``), so that a flood of requests with
  fresh random tokens costs little and is cut off; an office behind one NAT shares this bucket, so
  it is ``ELDERCARE_RATE_LIMIT_ADDRESS_FACTOR`` (default 10) times the per-person rate;
- after the token is verified, per verified subject (department, region, user), so one person's
  script cannot starve a colleague at the same address.

Defaults: 600 requests a minute with bursts of 120 per subject (``ELDERCARE_RATE_LIMIT_PER_MINUTE``,
``ELDERCARE_RATE_LIMIT_BURST``; 0 turns limiting off). Over the limit: 429 ``RATE_LIMITED`` with
``Retry-After``; nothing is recorded. Only ``/v1/…`` is limited — health, readiness and metrics
must answer the platform whatever the load. One process keeps its own buckets; behind several
API processes the platform's gateway limits the total.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

from starlette.responses import JSONResponse
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


class RateLimited(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(f"retry in {wait:.1f} s")
        self.wait = wait


def refusal(wait: float) -> JSONResponse:
    seconds = math.ceil(wait)
    return error_response(
        429, "RATE_LIMITED", f"请求过于频繁，请 {seconds} 秒后重试（本次请求未被记录）",
        f"too many requests; retry in {seconds} s (nothing was recorded)", headers={"Retry-After": str(seconds)},
    )


async def rate_limited(_, error: RateLimited) -> JSONResponse:
    """The exception handler for a subject over its rate."""
    return refusal(error.wait)


class Limits:
    """The two sets of buckets: per client address (before authentication) and per verified subject."""

    def __init__(self, per_minute: int, burst: int, address_factor: int = 10, *, clock=time.monotonic) -> None:
        self.addresses = TokenBuckets(per_minute * address_factor, burst * address_factor, clock=clock)
        self.subjects = TokenBuckets(per_minute, burst, clock=clock)

    def admit(self, subject: str) -> None:
        """Called once the token is verified; raises ``RateLimited`` over the subject's rate."""
        wait = self.subjects.take(subject)
        if wait > 0:
            raise RateLimited(wait)


def client_address(scope: Scope) -> str:
    return (scope.get("client") or ("unknown", 0))[0]


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith("/v1/"):
            wait = self.limits.addresses.take(client_address(scope))
            if wait > 0:
                await refusal(wait)(scope, receive, send)
                return
        await self.app(scope, receive, send)
