"""Tokens from the identity provider are checked against its JWKS, fetched over HTTP: good ones
pass (also after the provider rotates its key); forged, expired, mis-addressed, unsigned and
algorithm-confused ones are refused with 401; an unreachable provider is a 503, never a 500.
Shared secrets are embedded-only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.api.auth import AUDIENCE
from services.bootstrap import build_runtime
from services.settings import Settings, SettingsError
from tests.identity_provider import IdentityProvider
from tests.unit.test_api import assert_refused


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict, claims: dict, sign) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


@pytest.fixture
def provider():
    p = IdentityProvider()
    yield p
    p.stop()


@pytest.fixture
def client(provider, tmp_path):
    settings = Settings.from_env({"ELDERCARE_DATA_DIR": str(tmp_path), **provider.env()})
    runtime = build_runtime(settings)
    with TestClient(create_app(runtime, follow_in_background=False)) as c:
        yield c
    runtime.close()


def search(client, token: str):
    return client.get("/v1/search", params={"region": "321100"}, headers={"Authorization": f"Bearer {token}"})


def claims_of(provider: IdentityProvider, **changes) -> dict:
    now = int(time.time())
    return {"sub": "王五", "department": "civil_affairs", "level": "county", "region": "321111", "role": "officer",
            "iss": provider.issuer, "aud": AUDIENCE, "iat": now, "exp": now + 600} | changes


def test_the_providers_tokens_pass_and_survive_a_key_rotation(client, provider):
    assert search(client, provider.token()).status_code == 200
    fetched = provider.requests
    impostor = ec.generate_private_key(ec.SECP256R1())
    for n in range(20):  # made-up kids: at most one re-fetch per cooldown
        made_up = jwt.encode(claims_of(provider), impostor, algorithm="ES256", headers={"kid": f"made-up-{n}"})
        assert_refused(search(client, made_up), 401, "TOKEN_INVALID")
    assert provider.requests - fetched <= 1
    client.app.state.token_verifier.keys.cooldown_duration = 0  # as if the cooldown (30 s) had passed
    old = provider.current
    provider.rotate()
    assert search(client, provider.token()).status_code == 200  # unknown kid: the JWKS is fetched again
    assert search(client, provider.token(kid=old)).status_code == 200  # the old key is still published


def test_forged_expired_and_misaddressed_tokens_are_refused(client, provider):
    impostor = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(claims_of(provider), impostor, algorithm="ES256", headers={"kid": provider.current})
    assert_refused(search(client, forged), 401, "TOKEN_INVALID")
    assert_refused(search(client, provider.token(now=time.time() - 7200)), 401, "TOKEN_EXPIRED")
    assert_refused(search(client, provider.token(aud="another-system")), 401, "TOKEN_INVALID")
    assert_refused(search(client, provider.token(iss="http://127.0.0.1:1/elsewhere")), 401, "TOKEN_INVALID")
    assert_refused(search(client, provider.token(kid=None) + "x"), 401, "TOKEN_INVALID")
    unknown_kid = jwt.encode(claims_of(provider), impostor, algorithm="ES256", headers={"kid": "not-published"})
    assert_refused(search(client, unknown_kid), 401, "TOKEN_INVALID")
    assert_refused(search(client, provider.token(role="superuser")), 401, "TOKEN_INVALID")
    assert_refused(search(client, provider.token(user="system:scheduler")), 401, "TOKEN_INVALID")


def test_unsigned_and_algorithm_confused_tokens_are_refused(client, provider):
    unsigned = hand_made({"alg": "none", "typ": "JWT", "kid": provider.current}, claims_of(provider), lambda _: b"")
    assert_refused(search(client, unsigned), 401, "TOKEN_INVALID")
    public_pem = provider.keys[provider.current].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    confused = hand_made({"alg": "HS256", "typ": "JWT", "kid": provider.current}, claims_of(provider),
                         lambda data: hmac.new(public_pem, data, hashlib.sha256).digest())
    assert_refused(search(client, confused), 401, "TOKEN_INVALID")


def test_an_unreachable_provider_is_a_503_with_retry_after(tmp_path):
    gone = IdentityProvider()
    token = gone.token()
    gone.stop()
    settings = Settings.from_env({"ELDERCARE_DATA_DIR": str(tmp_path), **gone.env()})
    runtime = build_runtime(settings)
    with TestClient(create_app(runtime, follow_in_background=False)) as c:
        response = search(c, token)
        assert_refused(response, 503, "AUTH_UNAVAILABLE")
        assert response.headers["Retry-After"]
        assert c.get("/v1/public/search", params={"q": "颐和"}).status_code == 200  # the public side needs no token
    runtime.close()


def test_shared_secrets_are_embedded_only(tmp_path, capsys):
    cluster = {"ELDERCARE_PROFILE": "cluster", "ELDERCARE_DATA_DIR": str(tmp_path),
               "ELDERCARE_SIGNING_KEY_FILE": str(tmp_path / "key.pem"),
               "ELDERCARE_EVENT_STORE_URL": "postgresql://eldercare:pw@127.0.0.1:19432/eldercare"}
    from services.ledger.signing_key import generate_key_file

    generate_key_file(tmp_path / "key.pem")
    with pytest.raises(SettingsError, match="embedded-only"):
        Settings.from_env(cluster | {"ELDERCARE_JWT_SECRET": "x" * 40})
    from services.api.auth import token_verifier

    with pytest.raises(SettingsError, match="ELDERCARE_JWT_JWKS_URL"):
        token_verifier(Settings.from_env(cluster))
    from services import cli

    with pytest.MonkeyPatch.context() as mp:
        for k, v in cluster.items():
            mp.setenv(k, v)
        assert cli.main(["token", "--department", "civil_affairs", "--level", "county", "--region", "321111"]) == 2
    assert "embedded" in capsys.readouterr().err


def test_a_token_verified_once_is_remembered_until_its_expiry_and_no_longer(client, provider, monkeypatch):
    """The API does not verify the same token on every request (services/api/auth.VerifiedTokens),
    yet a token is refused once it has expired even if it was good a moment ago, and any other text
    (the token altered by one character) is verified afresh."""
    verifier = client.app.state.token_verifier
    checked = []
    original = verifier.claims
    monkeypatch.setattr(verifier, "claims", lambda token: checked.append(token) or original(token))
    token = provider.token(ttl_s=2)
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    for _ in range(3):
        assert search(client, token).status_code == 200
    assert len(checked) == 1, "verified once, then remembered"
    altered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert_refused(search(client, altered), 401, "TOKEN_INVALID")
    assert len(checked) == 2
    time.sleep(max(0.0, expires - time.time()) + 0.1)
    assert_refused(search(client, token), 401, "TOKEN_EXPIRED")
    assert len(checked) == 3
