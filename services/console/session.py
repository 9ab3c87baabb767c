"""Console sessions: a signed cookie holding the officer's bearer token, a CSRF token and the time
of the last request.

- The token is the same one the API accepts and is verified on every request by the API's own
  verifier, so a console page acts as exactly the actor the API would see.
- The cookie is HttpOnly, SameSite=Strict, Secure when served over TLS, and signed (HMAC-SHA256
  with a key derived from the ledger's secret), so it cannot be altered or forged.
- Idle timeout: a session unused for ``IDLE_SECONDS`` is over; each request renews it.
- Every form carries the session's CSRF token; a POST without the matching token is refused.
Stateless, so signing out clears the cookie in that browser; the token's own expiry bounds a
copied cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

COOKIE = "eldercare_console"
IDLE_SECONDS = 30 * 60


class SignedCookie:
    """A list of JSON values in a cookie, signed with HMAC-SHA256 under a key of its own purpose:
    it cannot be altered or forged; ``unsign`` gives None for anything not made by ``sign``."""

    def __init__(self, key: bytes, purpose: bytes) -> None:
        self.key = hashlib.sha256(purpose + b"\x00" + key).digest()

    def sign(self, values: list) -> str:
        body = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
        return f"{body}.{hmac.new(self.key, body.encode(), hashlib.sha256).hexdigest()}"

    def unsign(self, cookie: str | None) -> list | None:
        if not cookie or "." not in cookie:
            return None
        body, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(signature, hmac.new(self.key, body.encode(), hashlib.sha256).hexdigest()):
            return None
        try:
            values = json.loads(base64.urlsafe_b64decode(body.encode()))
        except (ValueError, TypeError):
            return None
        return values if isinstance(values, list) else None


@dataclass(frozen=True)
class Session:
    token: str
    csrf: str
    seen: float

    def renewed(self, now: float) -> Session:
        return Session(self.token, self.csrf, now)


class Sessions:
    def __init__(self, key: bytes, *, idle_seconds: int = IDLE_SECONDS, clock=time.time) -> None:
        self.cookie = SignedCookie(key, b"eldercare console session")
        self.idle_seconds = idle_seconds
        self.clock = clock

    def new(self, token: str) -> Session:
        return Session(token, secrets.token_urlsafe(24), self.clock())

    def dump(self, session: Session) -> str:
        return self.cookie.sign([session.token, session.csrf, int(session.seen)])

    def load(self, cookie: str | None) -> Session | None:
        """The session the cookie holds, or None (absent, forged, malformed or idle too long)."""
        values = self.cookie.unsign(cookie)
        if values is None or len(values) != 3:
            return None
        token, csrf, seen = values
        if not isinstance(token, str) or not isinstance(csrf, str) or not isinstance(seen, int):
            return None
        if self.clock() - seen > self.idle_seconds:
            return None
        return Session(token, csrf, seen)

    @staticmethod
    def csrf_ok(session: Session, submitted: str | None) -> bool:
        return bool(submitted) and hmac.compare_digest(session.csrf, submitted or "")
