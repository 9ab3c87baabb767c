"""One decision through every real part: filed over HTTP → the event on the Kafka topic (read by a
plain kafka-python consumer) → found by GET /v1/search from Elasticsearch → listed on the built
site. The same journey in the embedded profile, with no servers at all."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition

from events.canonical import loads
from events.envelope import event_hash
from services.api.auth import issue_token
from services.bootstrap import build_search_index
from services.settings import Settings
from tests.conftest import filing_request, unique_credit_code
from tests.e2e.test_console_browser import sign_in_through_the_provider
from tests.processes import Process, environment, run, start_api, wait_until


def dev_tokens(env: dict[str, str]):
    """Tokens signed with the embedded profile's dev secret."""
    return lambda **claims: issue_token(env["ELDERCARE_JWT_SECRET"], env.get("ELDERCARE_JWT_ISSUER", "eldercare-dev"), **claims)


def file_over_http(base: str, tokens) -> tuple[dict, str]:
    token = tokens(department="civil_affairs", level="county", region="321111", user="e2e")
    marker = uuid.uuid4().hex[:6]
    name = f"润州区颐和{marker}养老院"
    body = filing_request(name=name, credit_code=unique_credit_code(), receipt_no=f"321111-2024-{marker}")
    body["basis"] = {"document_no": f"润民养备〔2024〕{marker}号", "legal_basis": "《养老机构管理办法》第九条"}
    response = httpx.post(
        f"{base}/v1/filings", json=body,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"e2e-{marker}"}, timeout=30,
    )
    assert response.status_code == 201, response.text
    return response.json(), name


def search_finds(base: str, tokens, institution_id: str, q: str) -> bool:
    token = tokens(department="fire_rescue", level="city", region="321100", user="e2e-viewer", role="viewer")
    response = httpx.get(f"{base}/v1/search", params={"q": q, "region": "321100"}, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, response.text
    return institution_id in [hit["id"] for hit in response.json()["hits"]]


def search_indices_made(env: dict[str, str]) -> bool:
    index = build_search_index(Settings.from_env(env), create=False)
    try:
        return all(index.es.indices.exists_alias(name=alias) for alias in index.aliases.values())
    finally:
        index.close()


def assert_site_lists(base: str, data_dir: Path, institution_id: str, name: str, seq: int) -> None:
    html = (data_dir / "site" / "lists" / "filed" / "index.html").read_text(encoding="utf-8")
    row = re.search(rf'<tr data-institution-id="{institution_id}">(.*?)</tr>', html, re.S)
    assert row is not None, "the institution is not on the filed list"
    assert name in row.group(1)
    cut = int(re.search(r'data-seq="(\d+)"', html).group(1))
    assert cut >= seq, "the page says it was cut before the filing"
    served = httpx.get(f"{base}/site/institutions/{institution_id}.html", timeout=10)
    assert served.status_code == 200 and name in served.text


def publish_again_from_saved_states(base: str, data_dir: Path, tokens, env: dict[str, str]) -> None:
    """A second filing, then an incremental publication: it folds only the events since the first
    publication's cut (from the record states saved there) and lists the new filing."""
    filed, name = file_over_http(base, tokens)
    wait_until(lambda: search_finds(base, tokens, filed["institution_id"], "颐和"), 60, "search to find the second filing")
    said = run(["site", "build", "--incremental"], env)
    assert "保存的记录状态续算" in said, said
    assert_site_lists(base, data_dir, filed["institution_id"], name, filed["seq"])


def test_embedded_profile_end_to_end(tmp_path):
    data = tmp_path / "data"
    env = environment(
        ELDERCARE_PROFILE="embedded", ELDERCARE_DATA_DIR=str(data),
        ELDERCARE_JWT_SECRET="embedded-e2e-secret-0123456789abcdefghij",
    )
    api, base = start_api(env, tmp_path)
    try:
        filed, name = file_over_http(base, dev_tokens(env))
        institution_id = filed["institution_id"]
        wait_until(lambda: search_finds(base, dev_tokens(env), institution_id, "颐和"), 30, "search to find the filing")
        said = run(["site", "build"], env)
        assert "自台账第 1 号事件起汇总" in said, said
        assert_site_lists(base, data, institution_id, name, filed["seq"])
        publish_again_from_saved_states(base, data, dev_tokens(env), env)
        # the request audit log is on the process's stdout as JSON lines, not only in its file
        printed = [json.loads(line) for line in api.output().splitlines() if line.startswith('{"')]
        assert any(e.get("route") == "/v1/filings" and e.get("status") == 201 for e in printed), api.output()[-2000:]
    finally:
        api.stop()


@pytest.mark.servers
def test_cluster_profile_end_to_end(cluster_env, identity_provider, tmp_path):
    env = cluster_env
    data = Path(env["ELDERCARE_DATA_DIR"])
    api, base = start_api(env, tmp_path)
    relay = Process(["relay"], env, tmp_path / "relay.log")
    projector = Process(["project"], env, tmp_path / "project.log")
    try:
        tokens = identity_provider.token  # the identity provider's ES256 tokens, checked against its JWKS
        filed, name = file_over_http(base, tokens)
        institution_id = filed["institution_id"]

        consumer = KafkaConsumer(
            bootstrap_servers=env["ELDERCARE_KAFKA_BOOTSTRAP"], isolation_level="read_committed",
            enable_auto_commit=False, group_id=None,
        )
        partition = TopicPartition(env["ELDERCARE_KAFKA_TOPIC"], 0)
        wait_until(lambda: partition.topic in (consumer.topics() or set()), 60, "the relay to create the topic")
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        found: list[dict] = []

        def on_topic() -> bool:
            for record in consumer.poll(timeout_ms=500).get(partition, []):
                envelope = loads(record.value)
                if envelope["institution_id"] == institution_id and envelope["event_type"] == "InstitutionFiled":
                    assert record.key.decode() == institution_id
                    found.append(envelope)
            return bool(found)

        wait_until(on_topic, 60, f"the filing on the Kafka topic\nrelay log:\n{relay.output()}")
        consumer.close()
        envelope = found[0]
        assert envelope["seq"] == filed["seq"]
        assert event_hash(envelope) == envelope["hash"]
        assert envelope["payload"]["name"] == name
        assert envelope["basis"]["legal_basis"] == "《养老机构管理办法》第九条"

        # The projector makes the search indices when it starts (the API only reads them, and
        # answers 503 until they exist); then the filing must be found.
        wait_until(lambda: search_indices_made(env), 60, f"the projector to make the search indices\n{projector.output()}")
        wait_until(lambda: search_finds(base, tokens, institution_id, "颐和"), 60, f"Elasticsearch to find the filing\n{projector.output()}")
        sign_in_through_the_provider(base, identity_provider, name)
        run(["site", "build"], env)
        assert_site_lists(base, data, institution_id, name, filed["seq"])
        publish_again_from_saved_states(base, data, tokens, env)  # read again from the saved offset on the Kafka topic
    finally:
        for process in (projector, relay, api):
            process.stop()
