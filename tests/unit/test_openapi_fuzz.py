"""Schemathesis against the OpenAPI document: generated requests for every operation — valid ones
and ones that break the schema — as a county civil-affairs officer. No request may produce a 5xx,
and every refusal carries a stable code with Chinese and English messages.

Bounded for the test run (FUZZ_EXAMPLES per operation, default 12); bench/fuzz_api.py runs the
same against a live server for longer and prints the figures."""

from __future__ import annotations

import os
from pathlib import Path
from tempfile import mkdtemp

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from services.api.app import create_app
from services.api.auth import issue_token
from services.bootstrap import build_runtime
from services.settings import Settings
from tests.conftest import english_codes_in

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
_settings = Settings.from_env({"ELDERCARE_DATA_DIR": mkdtemp(prefix="fuzz-"), "ELDERCARE_JWT_SECRET": "fuzz-secret-0123456789abcdefghijklmnop",
                               "ELDERCARE_RATE_LIMIT_PER_MINUTE": "0"})
_runtime = build_runtime(_settings)
app = create_app(_runtime, follow_in_background=False)
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
TOKEN = issue_token(_settings.jwt_secret, _settings.jwt_issuer, department="civil_affairs", level="county", region="321111", user="模糊测试")
seen: dict[int, int] = {}


@pytest.fixture(scope="module", autouse=True)
def _close_runtime():
    yield
    _runtime.close()
    print(f"\nfuzzed responses by status: {dict(sorted(seen.items()))}")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_generated_request_produces_a_server_error(case):
    response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
    seen[response.status_code] = seen.get(response.status_code, 0) + 1
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:500]}"
    content_type = (response.headers.get("content-type") or [""])[0]
    if response.status_code >= 400 and content_type.startswith("application/json"):
        error = response.json()["error"]
        assert error["code"] and error["message_zh"] and error["message_en"], response.text
        details = error.get("details") or {}
        named = {details.get("field") or ""} | {str(p.get("path", "")).split(".")[-1] for p in details.get("problems", [])}
        assert not english_codes_in(error["message_zh"], named), error["message_zh"]


def test_the_fuzz_reached_every_operation():
    assert sum(seen.values()) >= len(list(schema.get_all_operations())), seen
    assert Path(_settings.data_dir).exists()
