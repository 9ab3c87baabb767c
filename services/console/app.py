"""Mounting the console on the API application: its pages, its stylesheet, its sessions."""

from __future__ import annotations

import hashlib
import secrets

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.api.errors import SEARCH_UNAVAILABLE
from services.bootstrap import Runtime
from services.console import campaign, imports, pages
from services.console.oidc import OidcClient
from services.console.session import Sessions
from services.console.visits import Visits

# Console pages load only what the app serves (deny everything else), are never framed, and — since
# they carry restricted data — are not kept in caches.
CONSOLE_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
                                 b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
NO_STORE = (b"cache-control", b"no-store")


class ConsoleHeaders:
    """ASGI middleware adding the console's security headers to its responses (and nothing to the
    API's, which stay as they are)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/console"):
            await self.app(scope, receive, send)
            return
        extra = CONSOLE_HEADERS + ([] if path.startswith("/console/static/") else [NO_STORE])

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *((n, v) for n, v in extra if n not in names)]
            await send(message)

        await self.app(scope, receive, with_headers)


def add_console(app: FastAPI, runtime: Runtime) -> None:
    settings = runtime.settings
    # Sessions are signed with a key derived from the ledger's own secret: in the embedded profile
    # the development token secret; in the cluster profile the checkpoint signing key file, which
    # every API process of one deployment shares.
    if settings.jwt_secret:
        secret = settings.jwt_secret.encode()
    elif settings.signing_key_file.exists():
        secret = hashlib.sha256(settings.signing_key_file.read_bytes()).digest()
    else:
        secret = secrets.token_bytes(32)  # sessions then last as long as this process
    app.state.console_sessions = Sessions(secret)
    # Officers sign in through the identity provider wherever the API trusts one (the cluster profile).
    app.state.console_oidc = OidcClient(settings.jwt_issuer, settings.oidc_client_id, settings.oidc_client_secret,
                                        settings.jwt_jwks_url, secret) if settings.jwt_jwks_url else None
    app.state.console_visits = Visits(runtime.sealer.log.db)
    app.mount("/console/static", StaticFiles(directory=pages.HERE / "static"), name="console-static")
    app.include_router(pages.router)
    app.include_router(campaign.router)
    app.include_router(imports.router)
    app.add_exception_handler(pages.SignedOut, pages.signed_out)
    for unavailable in SEARCH_UNAVAILABLE:  # the API's handlers are registered first (services/api/errors.py)
        app.add_exception_handler(unavailable, pages.search_unavailable(app.exception_handlers[unavailable]))
    app.add_middleware(ConsoleHeaders)
