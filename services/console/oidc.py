"""Signing officers in through the government identity provider: OpenID Connect's authorization
code flow with PKCE (RFC 7636, S256), as a public client or, with a secret, a confidential one.

1. ``start``: a fresh ``state``, ``nonce`` and code verifier, kept in a short-lived signed cookie
   (HttpOnly; SameSite=Lax, because the provider's redirect back is a cross-site navigation); the
   browser is sent to the provider's authorization endpoint with the verifier's S256 challenge.
2. ``finish``: the provider sends the browser back with ``code`` and ``state``. The state must be
   the cookie's (else the request was not ours: refused, nothing signed in); the code is exchanged
   at the token endpoint with the verifier; the ID token is verified against the provider's keys
   (signature, issuer, audience = this client, expiry) and must carry the cookie's nonce. The
   access token — the one the API verifies, audience ``eldercare-ledger`` — becomes the session's.

The provider's endpoints come from its discovery document (``<issuer>/.well-known/openid-
configuration``), fetched on first use and cached.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import jwt

from services.api.auth import PROVIDER_ALGORITHMS
from services.console.session import SignedCookie

FLOW_COOKIE = "eldercare_console_oidc"
FLOW_SECONDS = 10 * 60
TIMEOUT_S = 10


class SignInRefused(Exception):
    """The sign-in cannot go on; ``message_zh`` says why in the officer's words."""

    def __init__(self, code: str, message_zh: str) -> None:
        super().__init__(code)
        self.code, self.message_zh = code, message_zh


@dataclass(frozen=True)
class Flow:
    """One sign-in under way: what the callback must match."""

    state: str
    nonce: str
    verifier: str
    next: str
    started: int

    @property
    def challenge(self) -> str:
        return _b64(hashlib.sha256(self.verifier.encode()).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class OidcClient:
    def __init__(self, issuer: str, client_id: str, client_secret: str | None, jwks_url: str, key: bytes, *, clock=time.time) -> None:
        self.issuer, self.client_id, self.client_secret = issuer.rstrip("/"), client_id, client_secret
        self.cookie = SignedCookie(key, b"eldercare console oidc flow")
        self.keys = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=TIMEOUT_S)
        self.clock = clock
        self._discovery: dict[str, Any] | None = None
        self._lock = threading.Lock()

    # --- the provider's endpoints ---------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        with self._lock:
            if self._discovery is None:
                document = _get_json(f"{self.issuer}/.well-known/openid-configuration")
                if document.get("issuer", "").rstrip("/") != self.issuer:
                    raise SignInRefused("OIDC_DISCOVERY_INVALID", "统一身份认证服务的配置与本系统登记的不一致，请联系系统管理员")
                for endpoint in ("authorization_endpoint", "token_endpoint"):
                    if not str(document.get(endpoint, "")).startswith(("https://", "http://")):
                        raise SignInRefused("OIDC_DISCOVERY_INVALID", "统一身份认证服务未提供授权或令牌地址，请联系系统管理员")
                self._discovery = document
            return self._discovery

    # --- the flow -----------------------------------------------------------------------------

    def start(self, redirect_uri: str, next_path: str) -> tuple[str, str]:
        """The provider's authorization URL for a new flow, and the flow's cookie value."""
        flow = Flow(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48), next_path, int(self.clock()))
        query = {"response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri, "scope": "openid profile",
                 "state": flow.state, "nonce": flow.nonce, "code_challenge": flow.challenge, "code_challenge_method": "S256"}
        endpoint = self.discovery()["authorization_endpoint"]
        separator = "&" if "?" in endpoint else "?"
        return f"{endpoint}{separator}{urllib.parse.urlencode(query)}", self.dump(flow)

    def dump(self, flow: Flow) -> str:
        return self.cookie.sign([flow.state, flow.nonce, flow.verifier, flow.next, flow.started])

    def load(self, cookie: str | None) -> Flow | None:
        values = self.cookie.unsign(cookie)
        if values is None or len(values) != 5 or not all(isinstance(v, str) for v in values[:4]) or not isinstance(values[4], int):
            return None
        flow = Flow(*values)
        return flow if self.clock() - flow.started <= FLOW_SECONDS else None

    def finish(self, flow: Flow | None, *, code: str, state: str, redirect_uri: str) -> str:
        """Check the callback against the flow, exchange the code, verify the ID token; the access
        token the session will hold."""
        if flow is None:
            raise SignInRefused("OIDC_FLOW_MISSING", "登录请求已过期或不是从本系统发起的，请重新登录")
        if not state or not hmac.compare_digest(flow.state, state):
            raise SignInRefused("OIDC_STATE_MISMATCH", "登录请求校验未通过（状态参数不符），未登录。请重新登录")
        if not code:
            raise SignInRefused("OIDC_CODE_MISSING", "统一身份认证服务未返回授权码，未登录。请重新登录")
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "client_id": self.client_id,
                "code_verifier": flow.verifier}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        tokens = _post_form(self.discovery()["token_endpoint"], form)
        id_token, access_token = tokens.get("id_token"), tokens.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise SignInRefused("OIDC_TOKENS_MISSING", "统一身份认证服务未返回身份令牌，未登录。请重新登录")
        try:
            key = self.keys.get_signing_key_from_jwt(id_token)
            claims = jwt.decode(id_token, key.key, algorithms=PROVIDER_ALGORITHMS, audience=self.client_id, issuer=self.issuer,
                                options={"require": ["exp", "iat", "sub", "iss", "aud", "nonce"]})
        except jwt.PyJWKClientConnectionError:
            raise SignInRefused("OIDC_UNAVAILABLE", "暂时无法连接统一身份认证服务，请稍后再试") from None
        except jwt.PyJWTError:
            raise SignInRefused("OIDC_ID_TOKEN_INVALID", "身份令牌校验未通过（签名、签发方、受众或有效期不符），未登录") from None
        if not hmac.compare_digest(str(claims["nonce"]), flow.nonce):
            raise SignInRefused("OIDC_NONCE_MISMATCH", "身份令牌校验未通过（一次性随机数不符），未登录。请重新登录")
        return access_token


def _get_json(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 (the configured provider)
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        raise SignInRefused("OIDC_UNAVAILABLE", "暂时无法连接统一身份认证服务，请稍后再试") from None


def _post_form(url: str, form: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 (the configured provider)
            document = json.loads(response.read())
    except urllib.error.HTTPError:
        raise SignInRefused("OIDC_CODE_REFUSED", "统一身份认证服务不接受该授权码（可能已使用或已过期），未登录。请重新登录") from None
    except (urllib.error.URLError, OSError, ValueError):
        raise SignInRefused("OIDC_UNAVAILABLE", "暂时无法连接统一身份认证服务，请稍后再试") from None
    if not isinstance(document, dict):
        raise SignInRefused("OIDC_TOKENS_MISSING", "统一身份认证服务未返回身份令牌，未登录。请重新登录")
    return document
