"""Operations: every request in the structured audit log (who, what, outcome; never a token or a
query value), per-caller rate limits answered with 429, Prometheus metrics, and readiness that
fails when a part the API needs fails."""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import time

import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.api.examples import FILING_EXAMPLE
from services.api.rate_limit import TokenBuckets
from services.bootstrap import build_runtime
from services.settings import Settings
from tests.identity_provider import IdentityProvider
from tests.unit.test_api import assert_refused, bearer

SECRET = "operations-test-secret-0123456789abcdefghij"


@pytest.fixture
def ops(tmp_path):
    def make(**env: str):
        settings = Settings.from_env({"ELDERCARE_DATA_DIR": str(tmp_path), "ELDERCARE_JWT_SECRET": SECRET, **env})
        runtime = build_runtime(settings)
        made.append(runtime)
        return TestClient(create_app(runtime, follow_in_background=False)), runtime

    made: list = []
    yield make
    for runtime in made:
        runtime.close()


def log_lines(runtime) -> list[dict]:
    path = runtime.settings.data_dir / "logs" / "requests.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_request_is_logged_with_who_what_and_outcome_but_no_secrets(ops):
    client, runtime = ops()
    with client:
        headers = bearer(runtime) | {"Idempotency-Key": "ops-log-1", "X-Request-Id": "req-0000000001"}
        filed = client.post("/v1/filings", json=FILING_EXAMPLE, headers=headers)
        assert filed.status_code == 201 and filed.headers["X-Request-Id"] == "req-0000000001"
        client.get(f"/v1/institutions/{filed.json()['institution_id']}", headers=bearer(runtime, "health", "city", "321100", "viewer"))
        refused = client.get("/v1/search", headers={"Authorization": "Bearer not.a.token"})
        client.get("/v1/public/search", params={"q": "身份证110101199003076512"})
    lines = log_lines(runtime)
    assert [(e["method"], e["route"], e["status"]) for e in lines] == [
        ("POST", "/v1/filings", 201), ("GET", "/v1/institutions/{institution_id}", 200),
        ("GET", "/v1/search", 401), ("GET", "/v1/public/search", 200)]
    first = lines[0]
    assert first["request_id"] == "req-0000000001" and first["idempotency_key"] == "ops-log-1"
    assert first["actor"] == {"user": "张三", "department": "civil_affairs", "level": "county", "region": "321111", "role": "officer"}
    assert lines[1]["actor"]["department"] == "health" and lines[1]["path"].endswith(filed.json()["institution_id"])
    assert lines[2]["actor"] is None and lines[2]["error_code"] == "TOKEN_INVALID"
    assert refused.headers["X-Request-Id"] == lines[2]["request_id"] and re.fullmatch(r"[0-9a-f]{32}", lines[2]["request_id"])
    assert lines[3]["query_keys"] == ["q"] and all(e["duration_ms"] >= 0 for e in lines)
    text = (runtime.settings.data_dir / "logs" / "requests.jsonl").read_text(encoding="utf-8")
    token = bearer(runtime)["Authorization"].split()[1]
    for secret in (token[:40], token.split(".")[2], SECRET, "not.a.token", "110101199003076512", FILING_EXAMPLE["credit_code"]):
        assert secret not in text


def test_a_caller_over_its_rate_is_told_to_wait_and_nothing_is_recorded(ops):
    client, runtime = ops(ELDERCARE_RATE_LIMIT_PER_MINUTE="1", ELDERCARE_RATE_LIMIT_BURST="5")  # no refill within the test
    headers = bearer(runtime, "fire_rescue", "county", "321111", "viewer")
    statuses = [client.get("/v1/search", headers=headers).status_code for _ in range(5)]
    assert statuses == [200] * 5
    limited = client.get("/v1/search", headers=headers)
    error = assert_refused(limited, 429, "RATE_LIMITED")
    assert 50 <= int(limited.headers["Retry-After"]) <= 60 and "秒后重试" in error["message_zh"]
    before = runtime.ledger.recorder.max_notification_id()
    assert_refused(client.post("/v1/filings", json=FILING_EXAMPLE, headers=headers), 429, "RATE_LIMITED")
    assert runtime.ledger.recorder.max_notification_id() == before
    assert client.get("/v1/search", headers=bearer(runtime, "health", "county", "321111", "viewer")).status_code == 200  # own bucket
    assert all(client.get(path).status_code in (200, 503) for path in ["/healthz", "/readyz", "/metrics"] * 3)  # never limited


def test_fresh_random_tokens_per_request_do_not_escape_the_limit(ops):
    # Before authentication the bucket is the client's address: an unverified token buys nothing.
    client, runtime = ops(ELDERCARE_RATE_LIMIT_PER_MINUTE="1", ELDERCARE_RATE_LIMIT_BURST="2", ELDERCARE_RATE_LIMIT_ADDRESS_FACTOR="3")
    statuses = [client.get("/v1/search", headers={"Authorization": f"Bearer {secrets.token_hex(16)}"}).status_code for _ in range(7)]
    assert statuses == [401] * 6 + [429]
    assert_refused(client.get("/v1/public/search", params={"q": "颐和"}), 429, "RATE_LIMITED")  # the address, whatever the route


def test_the_limit_after_authentication_is_per_verified_subject(ops):
    client, runtime = ops(ELDERCARE_RATE_LIMIT_PER_MINUTE="1", ELDERCARE_RATE_LIMIT_BURST="2")
    one, colleague = bearer(runtime, "health", "county", "321111", "viewer"), bearer(runtime, "fire_rescue", "county", "321111", "viewer")
    assert [client.get("/v1/search", headers=one).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/v1/search", headers=colleague).status_code == 200  # same address, own bucket


def test_token_buckets_refill_at_their_rate():
    now = [0.0]
    buckets = TokenBuckets(per_minute=120, burst=2, clock=lambda: now[0])
    assert [buckets.take("a"), buckets.take("a")] == [0, 0]
    assert buckets.take("a") == pytest.approx(0.5)
    now[0] += 0.5
    assert buckets.take("a") == 0
    assert buckets.take("b") == 0


def test_metrics_count_requests_errors_events_and_lag(ops):
    client, runtime = ops()
    with client:
        client.post("/v1/filings", json=FILING_EXAMPLE, headers=bearer(runtime))
        client.get("/v1/search", headers={"Authorization": "Bearer nope"})
        text = client.get("/metrics").text
    assert 'eldercare_http_requests_total{method="POST",route="/v1/filings",status="201"} 1.0' in text
    assert 'eldercare_http_errors_total{code="TOKEN_INVALID",route="/v1/search"} 1.0' in text
    assert 'eldercare_http_request_duration_seconds_count{method="POST",route="/v1/filings"} 1.0' in text
    head = runtime.sealer.log.head().seq
    assert f"eldercare_ledger_events_total {float(head)}" in text and head >= 1
    lag = float(re.search(r"^eldercare_projection_lag_events (\S+)$", text, re.M)[1])
    position = float(re.search(r"^eldercare_projection_position_seq (\S+)$", text, re.M)[1])
    assert lag == head - position
    assert re.search(r"^eldercare_checkpoint_tree_size \S+$", text, re.M)


def test_readiness_fails_when_a_part_the_api_needs_fails(ops, tmp_path):
    client, runtime = ops()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["checks"]["event_store"]["ok"] and ready.json()["checks"]["search_index"]["ok"]
    def failing_pass():
        raise sqlite3.OperationalError("database is locked")

    runtime.projector.run_once = failing_pass  # the embedded projector's thread keeps failing
    runtime.start_background()
    deadline = time.monotonic() + 10
    while runtime.follow_error is None and time.monotonic() < deadline:
        time.sleep(0.05)
    check = client.get("/readyz").json()["checks"]["embedded_projector"]
    assert check == {"ok": False, "error": "OperationalError: database is locked"}
    runtime.search.close()
    broken = client.get("/readyz")
    assert broken.status_code == 503 and broken.json()["status"] == "not_ready"
    assert not broken.json()["checks"]["search_index"]["ok"] and broken.json()["checks"]["search_index"]["error"]
    assert client.get("/healthz").status_code == 200  # alive, just not ready

    def unreadable():
        raise sqlite3.OperationalError("disk I/O error")

    runtime.sealer.log.head = unreadable  # the event store itself fails: still an answer, not a 500
    store_down = client.get("/readyz")
    assert store_down.status_code == 503 and store_down.json()["checks"]["event_store"]["error"].endswith("disk I/O error")

    gone = IdentityProvider()
    gone.stop()
    settings = Settings.from_env({"ELDERCARE_DATA_DIR": str(tmp_path / "other"), **gone.env()})
    other = build_runtime(settings)
    try:
        checks = TestClient(create_app(other, follow_in_background=False)).get("/readyz").json()["checks"]
        assert checks["identity_provider"]["ok"] is False
    finally:
        other.close()


@pytest.mark.parametrize("flag, env, trusted", [
    ([], {}, None),
    (["--forwarded-allow-ips", "10.0.0.1,10.0.0.2"], {}, "10.0.0.1,10.0.0.2"),
    ([], {"ELDERCARE_FORWARDED_ALLOW_IPS": "10.0.0.9"}, "10.0.0.9"),
])
def test_serve_trusts_forwarded_addresses_only_from_the_proxies_named(tmp_path, monkeypatch, flag, env, trusted):
    import uvicorn

    from services import cli

    for k, v in {"ELDERCARE_DATA_DIR": str(tmp_path), "ELDERCARE_JWT_SECRET": SECRET, **env}.items():
        monkeypatch.setenv(k, v)
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(kwargs))
    assert cli.main(["serve", *flag]) == 0
    assert (seen["proxy_headers"], seen["forwarded_allow_ips"]) == (trusted is not None, trusted)


def test_the_request_log_rotates_by_size_and_loses_no_line(tmp_path):
    """Past its size the file becomes requests.jsonl.1 (older ones shift up), at most ``keep``
    rotated files are kept; every line written is in the files kept, in order."""
    from services.api.request_log import RequestLog

    path = tmp_path / "logs" / "requests.jsonl"
    request_log = RequestLog(path, max_bytes=400, keep=3)
    for n in range(40):
        request_log.write({"n": n, "route": "/v1/search", "status": 200})
    request_log.close()
    kept = [path.with_name(f"requests.jsonl.{i}") for i in (3, 2, 1)] + [path]
    assert all(f.exists() for f in kept) and not path.with_name("requests.jsonl.4").exists()
    numbers = [json.loads(line)["n"] for f in kept for line in f.read_text(encoding="utf-8").splitlines()]
    assert numbers == list(range(numbers[0], 40)) and numbers[0] > 0  # the oldest went, nothing in between
    assert all(f.stat().st_size <= 400 for f in kept)
    again = RequestLog(path, max_bytes=400, keep=3)  # reopened: it knows the current file's size
    again.write({"n": 40})
    again.close()
    assert path.stat().st_size <= 400


def test_the_request_log_reaches_stdout_whatever_the_process_log_level():
    """`eldercare serve` logs at WARNING; the request lines (INFO) still reach stdout, as JSON."""
    import io
    import logging

    from services import log_format
    from services.api.request_log import RequestLog

    root, requests = logging.getLogger(), logging.getLogger("eldercare.requests")
    saved = (root.handlers[:], root.level, requests.handlers[:], requests.level, requests.propagate)
    out = io.StringIO()
    try:
        log_format.configure(logging.WARNING, {}, stdout=out)
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as tmp:
            request_log = RequestLog(Path(tmp) / "requests.jsonl")
            request_log.write({"route": "/v1/filings", "status": 201})
            request_log.close()
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        requests.handlers[:], requests.level, requests.propagate = saved[2], saved[3], saved[4]
    assert json.loads(out.getvalue().strip()) == {"route": "/v1/filings", "status": 201}
