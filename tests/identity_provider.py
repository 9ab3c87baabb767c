"""A local OIDC-style identity provider for tests: it signs tokens with its own ES256 keys and
publishes them as a JWKS (and an openid-configuration) over real HTTP on 127.0.0.1, as the
government identity provider would. Keys can be rotated; the server can be stopped.

It also runs OpenID Connect's authorization code flow with PKCE for the console: ``/authorize``
signs in whoever ``officer`` names (the officer who would type a password there) and sends the
browser back with a one-time code; ``/token`` exchanges the code, once, for an ID token (audience
the client, with the flow's nonce) and an access token for the API — only with the code verifier
whose S256 challenge was presented, and the same client and redirect URI."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import secrets
import threading
import time
import urllib.parse
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from services.api.auth import AUDIENCE


class IdentityProvider:
    def __init__(self) -> None:
        self.keys: dict[str, ec.EllipticCurvePrivateKey] = {}
        self.current = self.rotate()
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802  (http.server's naming)
                provider.requests += 1
                path, _, query = self.path.partition("?")
                if path == "/jwks.json":
                    self.reply(200, provider.jwks())
                elif path == "/.well-known/openid-configuration":
                    self.reply(200, {"issuer": provider.issuer, "jwks_uri": provider.jwks_url,
                                     "authorization_endpoint": f"{provider.issuer}/authorize", "token_endpoint": f"{provider.issuer}/token",
                                     "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"]})
                elif path == "/authorize":
                    status, location = provider.authorize(dict(urllib.parse.parse_qsl(query)))
                    self.send_response(status)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self.send_error(404)

            def do_POST(self) -> None:  # noqa: N802
                provider.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if self.path != "/token":
                    self.send_error(404)
                    return
                self.reply(*provider.exchange(form))

            def reply(self, status: int, document: dict) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.requests = 0
        self.officer: dict[str, str] = {"department": "civil_affairs", "level": "county", "region": "321111", "user": "oidc-officer",
                                        "role": "officer"}
        self.codes: dict[str, dict] = {}
        self.exchanges: list[dict] = []  # every token request, as received
        self.nonce_override: str | None = None  # a provider gone wrong: the ID token carries this nonce
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.jwks_url = f"{self.issuer}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def rotate(self) -> str:
        """A new signing key (the old ones stay published); returns its kid."""
        kid = uuid.uuid4().hex[:12]
        self.keys[kid] = ec.generate_private_key(ec.SECP256R1())
        self.current = kid
        return kid

    def jwks(self) -> dict:
        keys = []
        for kid, key in self.keys.items():
            jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
            keys.append(jwk | {"kid": kid, "use": "sig", "alg": "ES256"})
        return {"keys": keys}

    def token(self, *, department: str = "civil_affairs", level: str = "county", region: str = "321111", user: str = "test-user",
              role: str = "officer", ttl_s: int = 600, now: float | None = None, kid: str | None = None, **extra) -> str:
        issued = int(now if now is not None else time.time())
        claims = {"sub": user, "department": department, "level": level, "region": region, "role": role,
                  "iss": self.issuer, "aud": AUDIENCE, "iat": issued, "exp": issued + ttl_s} | extra
        kid = kid or self.current
        return jwt.encode(claims, self.keys[kid], algorithm="ES256", headers={"kid": kid})

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """The officer in ``officer`` signs in; back to the client with a code (or an error)."""
        redirect = query.get("redirect_uri", "")
        if query.get("response_type") != "code" or not redirect.startswith("http") or query.get("code_challenge_method") != "S256" \
                or not query.get("code_challenge") or not query.get("client_id"):
            return 302, f"{redirect}?{urllib.parse.urlencode({'error': 'invalid_request', 'state': query.get('state', '')})}"
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"client_id": query["client_id"], "redirect_uri": redirect, "challenge": query["code_challenge"],
                            "nonce": query.get("nonce"), "officer": dict(self.officer)}
        return 302, f"{redirect}?{urllib.parse.urlencode({'code': code, 'state': query.get('state', '')})}"

    def exchange(self, form: dict[str, str]) -> tuple[int, dict]:
        """The token endpoint: a code once, for its client and redirect URI, with the right verifier."""
        self.exchanges.append(form)
        grant = self.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if grant is None or form.get("grant_type") != "authorization_code" or grant["client_id"] != form.get("client_id") \
                or grant["redirect_uri"] != form.get("redirect_uri") or challenge != grant["challenge"]:
            return 400, {"error": "invalid_grant"}
        officer = grant["officer"]
        claims = {k: officer[k] for k in ("department", "level", "region", "role")}
        access = self.token(user=officer["user"], **claims)
        now = int(time.time())
        id_token = jwt.encode({"sub": officer["user"], "iss": self.issuer, "aud": grant["client_id"], "iat": now, "exp": now + 600,
                               "nonce": self.nonce_override or grant["nonce"], "name": officer["user"]},
                              self.keys[self.current], algorithm="ES256", headers={"kid": self.current})
        return 200, {"access_token": access, "id_token": id_token, "token_type": "Bearer", "expires_in": 600}

    def env(self) -> dict[str, str]:
        return {"ELDERCARE_JWT_JWKS_URL": self.jwks_url, "ELDERCARE_JWT_ISSUER": self.issuer}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
