"""The cluster's event store (PostgreSQL) goes down under two API processes: each answers 503
STORAGE_UNAVAILABLE (with Retry-After, never a 500) and /readyz says so; when it is back, the
same requests retried with their Idempotency-Keys are recorded exactly once, whichever process
takes the retry, and the sealed log is one gap-free chain. The database password appears in no
log line and no answer."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from events.envelope import verify_chain
from services.api.examples import DISCOVERY_EXAMPLE
from services.ledger.sealed_log import SealedLog
from tests.cluster_run import SERVERS
from tests.processes import start_api, wait_until

pytestmark = pytest.mark.servers


def servers(action: str) -> None:
    subprocess.run([str(SERVERS), action, "postgres"], check=True, capture_output=True, timeout=300)


def test_two_api_processes_survive_an_event_store_outage(cluster_env, identity_provider, tmp_path):
    headers = {"Authorization": f"Bearer {identity_provider.token(region='321111')}"}
    apis = [start_api(cluster_env, tmp_path) for _ in range(2)]
    (first, a), (second, b) = apis
    try:
        def discover(base: str, n: int) -> httpx.Response:
            body = dict(DISCOVERY_EXAMPLE, name=f"断库演练托老所{n:02d}")
            return httpx.post(f"{base}/v1/institutions", json=body, headers=headers | {"Idempotency-Key": f"outage-{n:02d}"}, timeout=60)

        before = [discover((a, b)[n % 2], n) for n in range(6)]
        assert [r.status_code for r in before] == [201] * 6

        servers("crash")
        try:
            during = [discover((a, b)[n % 2], n) for n in range(6, 8)]
            assert {r.status_code for r in during} == {503}, [r.text for r in during]
            assert {r.json()["error"]["code"] for r in during} == {"STORAGE_UNAVAILABLE"}
            assert all(r.headers["Retry-After"] for r in during)
            ready = httpx.get(f"{a}/readyz", timeout=60)
            assert ready.status_code == 503 and not ready.json()["checks"]["event_store"]["ok"]
        finally:
            servers("start")

        # Retried through the *other* process, with the same keys (the first ones again as well), as
        # a client does: after Retry-After while the processes reconnect.
        def retried(base: str, n: int) -> httpx.Response:
            deadline = time.monotonic() + 120
            while (response := discover(base, n)).status_code == 503 and time.monotonic() < deadline:
                time.sleep(float(response.headers["Retry-After"]))
            return response

        after = [retried((b, a)[n % 2], n) for n in range(8)]
        assert [r.status_code for r in after[:6]] == [200] * 6  # replays: the original answers
        assert [r.json()["institution_id"] for r in after[:6]] == [r.json()["institution_id"] for r in before]
        assert [r.status_code for r in after[6:]] == [201] * 2
        wait_until(lambda: httpx.get(f"{a}/readyz", timeout=10).status_code == 200, 60, "the API to be ready again")
    finally:
        for process, _ in apis:
            process.stop()
    # The database password is in the processes' settings, never in what they write or answer.
    password = urlsplit(cluster_env["ELDERCARE_EVENT_STORE_URL"]).password
    written = [process.output() for process, _ in apis] + [ready.text]
    written += [p.read_text(encoding="utf-8") for p in (Path(cluster_env["ELDERCARE_DATA_DIR"]) / "logs").glob("*")]
    assert password and "STORAGE_UNAVAILABLE" in "".join(written) and not any(password in text for text in written)

    log = SealedLog(cluster_env["ELDERCARE_EVENT_STORE_URL"])
    discovered = [e for e in log.iterate_types(("InstitutionDiscovered",)) if e["payload"]["name"].startswith("断库演练")]
    assert sorted(e["payload"]["name"] for e in discovered) == [f"断库演练托老所{n:02d}" for n in range(8)]
    records = [r.envelope for r in log.iterate()]
    assert [e["seq"] for e in records] == list(range(1, len(records) + 1))
    assert len(list(verify_chain(records))) == len(records)
    log.close()
