"""A local OIDC-style identity provider for tests: it signs tokens with its own ES256 keys and
publishes them as a JWKS (and an openid-configuration) over real HTTP on 127.0.0.1, as the
government identity provider would. Keys can be rotated; the server can be stopped."""

from __future__ import annotations

import http.server
import json
import threading
import time
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
                if self.path == "/jwks.json":
                    body = json.dumps(provider.jwks()).encode()
                elif self.path == "/.well-known/openid-configuration":
                    body = json.dumps({"issuer": provider.issuer, "jwks_uri": provider.jwks_url}).encode()
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.requests = 0
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

    def env(self) -> dict[str, str]:
        return {"ELDERCARE_JWT_JWKS_URL": self.jwks_url, "ELDERCARE_JWT_ISSUER": self.issuer}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
