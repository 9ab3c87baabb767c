"""Auditors on the real servers: replaying the lists from the event store and from the Kafka topic
gives the same state; store, Kafka, Elasticsearch and the site snapshot reconcile; and a message
duplicated or forged in the topic is named by its seq."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from events.canonical import canonical_json, loads
from events.envelope import event_hash
from tests.processes import ELDERCARE, REPO, run, start_api

pytestmark = pytest.mark.servers


def audit(env, *args: str) -> tuple[int, dict, str]:
    """Exit status, the JSON report on stdout, and the Chinese summary on stderr."""
    done = subprocess.run([*ELDERCARE, "audit", *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


def reconcile(env) -> dict:
    status, report, _ = audit(env, "reconcile")
    assert status == (0 if report["agree"] else 1)
    return report


def topic_message(env, seq: int) -> bytes:
    consumer = KafkaConsumer(bootstrap_servers=env["ELDERCARE_KAFKA_BOOTSTRAP"], enable_auto_commit=False, group_id=None,
                             isolation_level="read_committed")
    partition = TopicPartition(env["ELDERCARE_KAFKA_TOPIC"], 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    try:
        while True:
            records = consumer.poll(timeout_ms=2000).get(partition, [])
            assert records, f"seq {seq} not found in the topic"
            for record in records:
                if loads(record.value)["seq"] == seq:
                    return record.value
    finally:
        consumer.close()


def produce(env, value: bytes, key: bytes) -> None:
    producer = KafkaProducer(bootstrap_servers=env["ELDERCARE_KAFKA_BOOTSTRAP"])
    producer.send(env["ELDERCARE_KAFKA_TOPIC"], value=value, key=key, partition=0).get(timeout=30)
    producer.close()


def test_store_kafka_index_and_site_agree_then_topic_tampering_is_named(cluster_env, identity_provider, tmp_path):
    env = cluster_env
    run(["demo"], env)

    api, base = start_api(env, tmp_path)  # the auditors' API compares the same sources
    try:
        auditor = {"Authorization": f"Bearer {identity_provider.token(level='province', region='320000', role='auditor')}"}
        # The service's scheduler has just recorded the day's time-driven transitions; no relay
        # has copied them yet: the topic is behind, which the replay says (it is not corruption).
        behind = httpx.get(f"{base}/v1/audit/replay", headers=auditor, timeout=120).json()
        assert not behind["agree"] and behind["broken"] == {} and behind["behind"]["kafka"]["last_seq"] < behind["as_of_seq"]
        run(["relay", "--once"], env)
        over_http = httpx.get(f"{base}/v1/audit/replay", headers=auditor, timeout=120).json()
        assert set(over_http["digests"]) == {"store", "kafka"} and over_http["agree"], over_http
        reconciled = httpx.get(f"{base}/v1/audit/reconciliation", headers=auditor, timeout=120).json()
        assert reconciled["agree"] and reconciled["summaries"]["kafka"]["lag"] == 0, reconciled
    finally:
        api.stop()
    run(["project", "--once"], env)
    run(["site", "build"], env)

    _, replay, _ = audit(env, "replay")
    assert set(replay["digests"]) == {"store", "kafka"}
    assert replay["agree"] and replay["digests"]["store"] == replay["digests"]["kafka"]

    agreed = reconcile(env)
    assert agreed["agree"], agreed["disagreements"]
    head = agreed["summaries"]["store"]["last_seq"]
    assert head > 300
    assert agreed["summaries"]["kafka"]["count"] == head
    assert agreed["summaries"]["kafka"]["last_seq"] == head and agreed["summaries"]["kafka"]["lag"] == 0
    assert agreed["summaries"]["index"]["position_seq"] == head and agreed["summaries"]["index"]["lag"] == 0
    assert agreed["summaries"]["index"]["institutions"] > 0 and agreed["summaries"]["index"]["records"] > 0
    assert agreed["summaries"]["site"]["cut_seq"] == head

    # Someone with write access to the topic appends a second copy of seq 7 …
    original = topic_message(env, 7)
    envelope = loads(original)
    produce(env, original, envelope["institution_id"].encode())
    duplicated = reconcile(env)
    assert not duplicated["agree"]
    assert [(d["part"], d["seq"]) for d in duplicated["disagreements"]] == [("kafka", 7)]
    assert "more than once" in duplicated["disagreements"][0]["problem"]
    status, replay, summary = audit(env, "replay", "--source", "kafka")
    assert status == 1 and not replay["agree"]
    assert replay["broken"]["kafka"]["seq"] == 7 and "appears again" in replay["broken"]["kafka"]["problem"]
    assert "第 7 号事件" in summary

    # … then a forged seq 9, re-hashed so that it is self-consistent, and one altered in place.
    forged = loads(topic_message(env, 9))
    forged["basis"]["document_no"] = "伪造〔2026〕1号"
    forged["hash"] = event_hash(forged)
    produce(env, canonical_json(forged), forged["institution_id"].encode())
    found = reconcile(env)
    assert [(d["part"], d["seq"]) for d in found["disagreements"]] == [("kafka", 7), ("kafka", 9)]
    assert "differs from the ledger's" in found["disagreements"][1]["problem"]

    altered = loads(topic_message(env, 11))
    altered["payload"] = {**altered["payload"], "forged": True}
    produce(env, canonical_json(altered), altered["institution_id"].encode())
    broken = reconcile(env)
    assert any(d["seq"] == 11 and "altered in the topic" in d["problem"] for d in broken["disagreements"])
