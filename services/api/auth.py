"""Bearer JWTs naming the acting department, level, region and role.

Embedded profile: HS256 with a dev secret (``eldercare token`` issues tokens). The claims are
``sub`` (the user), ``department``, ``level``, ``region``, ``role``, ``iss``, ``iat``, ``exp``.
"""

from __future__ import annotations

import time
from typing import Any

import jwt

from services.domain.actors import Actor
from services.domain.errors import DomainError

ALGORITHM = "HS256"
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


def actor_from_authorization(header: str | None, secret: str, issuer: str) -> Actor:
    if not header:
        raise AuthError("TOKEN_MISSING", "缺少身份令牌（Authorization: Bearer …）", "missing bearer token")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("TOKEN_MISSING", "身份令牌格式应为 Authorization: Bearer <令牌>", "expected 'Authorization: Bearer <token>'")
    try:
        claims: dict[str, Any] = jwt.decode(
            token.strip(), secret, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("TOKEN_EXPIRED", "身份令牌已过期，请重新获取", "the token has expired") from None
    except jwt.PyJWTError:
        raise AuthError("TOKEN_INVALID", "身份令牌无效（签名或内容校验失败）", "the token is invalid (signature or claims)") from None
    if str(claims["sub"]).startswith("system:"):
        raise AuthError("TOKEN_INVALID", "身份令牌不能冒用系统账户", "a token may not name a system account")
    try:
        return Actor(
            department=str(claims.get("department", "")), level=str(claims.get("level", "")),
            region=str(claims.get("region", "")), user=str(claims["sub"]), role=str(claims.get("role", "")),
        )
    except DomainError as error:
        raise AuthError("TOKEN_INVALID", f"身份令牌声明无效：{error.message_zh}", f"token claims invalid: {error.message_en}") from None
