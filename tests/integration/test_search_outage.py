"""Elasticsearch is a projection: with it unreachable the cluster API still starts and records
decisions; an institution is still read from the ledger; searches and timelines answer 503
SEARCH_UNAVAILABLE (never a 500), /readyz says why; and the
decisions recorded meanwhile reach the index once the projector can write again. (A fault round
found the API crash-looping while Elasticsearch restarted: it created the indices at start.)"""

from __future__ import annotations

import httpx
import pytest

from services.api.examples import DISCOVERY_EXAMPLE
from tests.processes import free_port, run, start_api

pytestmark = pytest.mark.servers


def test_the_api_records_decisions_while_elasticsearch_is_unreachable(cluster_env, identity_provider, tmp_path):
    headers = {"Authorization": f"Bearer {identity_provider.token(region='321111')}"}
    down = cluster_env | {"ELDERCARE_ES_URL": f"http://127.0.0.1:{free_port()}"}  # nothing listens there
    api, base = start_api(down, tmp_path)
    try:
        body = dict(DISCOVERY_EXAMPLE, name="检索停机期间发现的托老所")
        recorded = httpx.post(f"{base}/v1/institutions", json=body, headers=headers | {"Idempotency-Key": "es-down-1"}, timeout=60)
        assert recorded.status_code == 201, recorded.text
        institution = recorded.json()["institution_id"]
        answers = {path: httpx.get(f"{base}{path}", headers=headers, timeout=60)
                   for path in ("/v1/search?q=托老所", "/v1/records?q=托老所", f"/v1/institutions/{institution}",
                                f"/v1/institutions/{institution}/timeline")}
        for path, answer in answers.items():
            if "/timeline" in path or "?q=" in path:  # read from the index
                assert answer.status_code == 503, (path, answer.text)
                assert answer.json()["error"]["code"] == "SEARCH_UNAVAILABLE" and answer.headers["Retry-After"]
            else:  # the institution itself is read from the ledger
                assert answer.status_code == 200 and answer.json()["id"] == institution, answer.text
        ready = httpx.get(f"{base}/readyz", timeout=60)
        assert ready.status_code == 503 and not ready.json()["checks"]["search_index"]["ok"]
        assert ready.json()["checks"]["event_store"]["ok"]
    finally:
        api.stop()

    # Elasticsearch reachable, but the projector has not made the indices yet: still a 503.
    api, base = start_api(cluster_env, tmp_path)
    try:
        early = httpx.get(f"{base}/v1/search", params={"q": "托老所"}, headers=headers, timeout=60)
        assert early.status_code == 503 and early.json()["error"]["code"] == "SEARCH_UNAVAILABLE", early.text
        run(["relay", "--once"], cluster_env)
        run(["project", "--once"], cluster_env)
        found = httpx.get(f"{base}/v1/search", params={"q": "检索停机期间"}, headers=headers, timeout=60)
        assert found.status_code == 200, found.text
        assert [hit["id"] for hit in found.json()["hits"]] == [institution]
    finally:
        api.stop()


def test_refused_search_credentials_are_an_outage_to_users_and_an_alert_to_operators(cluster_env, identity_provider, tmp_path):
    """Elasticsearch answering 401 to the service's own account (its password changed under it) is
    the users' 503 SEARCH_UNAVAILABLE, never a 500, and a counter the operators' alert watches. (The
    node-loss test found it as a 500 while a restarted node replaced the user.)"""
    headers = {"Authorization": f"Bearer {identity_provider.token(region='321111')}"}
    run(["relay", "--once"], cluster_env)
    run(["project", "--once"], cluster_env)  # the indices exist: only the credentials are wrong
    refused = cluster_env | {"ELDERCARE_ES_PASSWORD": "not-the-password"}
    api, base = start_api(refused, tmp_path)
    try:
        for path in ("/v1/search?q=托老所", "/v1/records?q=托老所"):
            answer = httpx.get(f"{base}{path}", headers=headers, timeout=60)
            assert answer.status_code == 503, (path, answer.text)
            assert answer.json()["error"]["code"] == "SEARCH_UNAVAILABLE" and answer.headers["Retry-After"]
        scrape = httpx.get(f"{base}/metrics", timeout=60).text
        counted = [line for line in scrape.splitlines() if line.startswith('eldercare_search_refused_total{status="401"}')]
        assert counted and float(counted[0].split()[-1]) >= 2, scrape
    finally:
        api.stop()
    api, base = start_api(cluster_env, tmp_path)  # the right password: no refusal counted
    try:
        assert httpx.get(f"{base}/v1/search", params={"q": "托老所"}, headers=headers, timeout=60).status_code == 200
        scrape = httpx.get(f"{base}/metrics", timeout=60).text
        assert 'eldercare_search_refused_total{status="401"} 0.0' in scrape, scrape
    finally:
        api.stop()
