"""Bearer JWTs naming the acting department, level, region and role.

- Cluster profile: tokens come from the government identity provider (OIDC-compatible) and are
  verified against its published keys (JWKS, ``ELDERCARE_JWT_JWKS_URL``): RS256, ES256 or EdDSA,
  the key chosen by ``kid``, keys cached and re-fetched when an unknown ``kid`` appears (rotation).
- Embedded profile: HS256 with a dev secret (``eldercare token`` issues tokens).

The claims are ``sub`` (the user), ``department``, ``level``, ``region``, ``role``, ``iss``,
``aud`` (``eldercare-ledger``), ``iat``, ``exp``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

import jwt

from services.domain.actors import Actor
from services.domain.errors import DomainError

ALGORITHM = "HS256"
PROVIDER_ALGORITHMS = ["RS256", "ES256", "EdDSA"]
REQUIRED_CLAIMS = {"require": ["exp", "iat", "sub", "iss", "aud"]}
AUDIENCE = "eldercare-ledger"
MAX_TTL_SECONDS = 12 * 3600


class AuthError(Exception):
    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en


def issue_token(
    secret: str, issuer: str, *, department: str, level: str, region: str, user: str, role: str = "officer",
    ttl_seconds: int = 8 * 3600, now: float | None = None,
) -> str:
    Actor(department, level, region, user, role)  # refuse to sign claims that name no valid actor
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": user, "department": department, "level": level, "region": region, "role": role,
        "iss": issuer, "aud": AUDIENCE, "iat": issued, "exp": issued + min(ttl_seconds, MAX_TTL_SECONDS),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class AuthUnavailable(Exception):
    """The identity provider's keys cannot be fetched: no request can be authenticated now."""


class TokenVerifier(Protocol):
    #: Whether checking a token may wait on the network (fetching the provider's keys): such a
    #: verifier is run off the event loop.
    may_block: bool

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims; jwt.PyJWTError if the token is not good."""


class SharedSecretVerifier:
    """HS256 with the embedded profile's dev secret."""

    may_block = False

    def __init__(self, secret: str, issuer: str) -> None:
        self.secret, self.issuer = secret, issuer

    def claims(self, token: str) -> dict[str, Any]:
        return jwt.decode(token, self.secret, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=self.issuer,
                          options=REQUIRED_CLAIMS)


class ProviderKeysVerifier:
    """Asymmetric signatures checked against the identity provider's JWKS. Symmetric algorithms
    are never accepted here, so a public key can never double as an HMAC secret."""

    may_block = True

    def __init__(self, jwks_url: str, issuer: str, *, timeout_s: float = 5.0, cache_s: int = 300, refresh_cooldown_s: float = 30) -> None:
        """Keys are cached for ``cache_s``; a token naming an unknown ``kid`` re-fetches the set at
        most once per ``refresh_cooldown_s`` (so a flood of made-up kids cannot hammer the provider)."""
        self.issuer = issuer
        self.keys = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=cache_s, timeout=timeout_s,
                                    cooldown_duration=refresh_cooldown_s)

    def claims(self, token: str) -> dict[str, Any]:
        try:
            key = self.keys.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as down:
            raise AuthUnavailable(str(down)) from None
        return jwt.decode(token, key.key, algorithms=PROVIDER_ALGORITHMS, audience=AUDIENCE, issuer=self.issuer,
                          options=REQUIRED_CLAIMS)


def token_verifier(settings: Any) -> TokenVerifier:
    """The provider's keys when configured (required in the cluster profile), else the dev secret."""
    from services.settings import SettingsError

    if settings.jwt_jwks_url:
        return ProviderKeysVerifier(settings.jwt_jwks_url, settings.jwt_issuer)
    if settings.profile != "embedded" or not settings.jwt_secret:
        raise SettingsError("the cluster profile's API needs ELDERCARE_JWT_JWKS_URL (the identity provider's JWKS)")
    return SharedSecretVerifier(settings.jwt_secret, settings.jwt_issuer)


class VerifiedTokens:
    """The actors of the tokens verified lately, by the Authorization header's exact text: a token
    checked once is not checked again on each request (the same text carries the same signature and
    claims). Each is held ``keep_s`` at most and never past its own ``exp``: an expired token is
    verified again, and refused. At most ``size`` are held, the least recently used let go first."""

    def __init__(self, *, size: int = 10_000, keep_s: float = 60.0, clock: Callable[[], float] = time.time) -> None:
        self.size, self.keep_s, self.clock = size, keep_s, clock
        self._held: OrderedDict[str, tuple[float, Actor]] = OrderedDict()
        self._lock = threading.Lock()

    def actor(self, header: str | None) -> Actor | None:
        if not header:
            return None
        with self._lock:
            held = self._held.get(header)
            if held is None:
                return None
            if self.clock() >= held[0]:
                del self._held[header]
                return None
            self._held.move_to_end(header)
            return held[1]

    def remember(self, header: str, actor: Actor, expires_at: float) -> None:
        with self._lock:
            self._held[header] = (min(float(expires_at), self.clock() + self.keep_s), actor)
            self._held.move_to_end(header)
            while len(self._held) > self.size:
                self._held.popitem(last=False)


def actor_from_authorization(header: str | None, verifier: TokenVerifier, remembered: VerifiedTokens | None = None) -> Actor:
    """The actor a bearer token names, once its signature and claims are verified (or it was, lately:
    ``remembered``)."""
    if remembered is not None and (known := remembered.actor(header)) is not None:
        return known
    if not header:
        raise AuthError("TOKEN_MISSING", "缺少身份令牌（Authorization: Bearer …）", "missing bearer token")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("TOKEN_MISSING", "身份令牌格式应为 Authorization: Bearer <令牌>", "expected 'Authorization: Bearer <token>'")
    try:
        claims = verifier.claims(token.strip())
    except jwt.ExpiredSignatureError:
        raise AuthError("TOKEN_EXPIRED", "身份令牌已过期，请重新获取", "the token has expired") from None
    except jwt.PyJWTError:
        raise AuthError("TOKEN_INVALID", "身份令牌无效（签名或内容校验失败）", "the token is invalid (signature or claims)") from None
    if str(claims["sub"]).startswith("system:"):
        raise AuthError("TOKEN_INVALID", "身份令牌不能冒用系统账户", "a token may not name a system account")
    try:
        actor = Actor(
            department=str(claims.get("department", "")), level=str(claims.get("level", "")),
            region=str(claims.get("region", "")), user=str(claims["sub"]), role=str(claims.get("role", "")),
        )
    except DomainError as error:
        raise AuthError("TOKEN_INVALID", f"身份令牌声明无效：{error.message_zh}", f"token claims invalid: {error.message_en}") from None
    if remembered is not None:
        remembered.remember(header, actor, claims["exp"])
    return actor
