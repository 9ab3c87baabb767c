"""Mounting the console on the API application: its pages, its stylesheet, its sessions."""

from __future__ import annotations

import hashlib
import secrets

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.bootstrap import Runtime
from services.console import campaign, imports, pages
from services.console.oidc import OidcClient
from services.console.session import Sessions
from services.console.visits import Visits


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
