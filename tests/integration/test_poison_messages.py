"""Poison on the ledger topic — unreadable bytes, an altered envelope, a forged second version of
a seq already projected, a self-consistent envelope out of chain — goes to the dead-letter topic
with its reason and an alert, and the projector goes on: decisions recorded after the poison
are searchable on the real Elasticsearch, and the index agrees with the ledger."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from events.canonical import canonical_json, loads
from events.envelope import event_hash
from services.bootstrap import build_search_index
from services.ledger.application import open_ledger
from services.settings import Settings
from tests.conftest import TODAY, command, county_officer, discovery_request
from tests.processes import ELDERCARE, REPO, Process, run, wait_until

pytestmark = pytest.mark.servers


def discover(env, names: list[str]) -> None:
    app, sealer = open_ledger(env["ELDERCARE_EVENT_STORE_URL"], clock=lambda: TODAY)
    for name in names:
        app.discover(command(discovery_request(name=name), county_officer()))
    sealer.seal_pending()
    app.close()


def topic_records(env, topic: str) -> list:
    consumer = KafkaConsumer(bootstrap_servers=env["ELDERCARE_KAFKA_BOOTSTRAP"], enable_auto_commit=False, group_id=None)
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    end = consumer.end_offsets([partition])[partition]
    records = []
    while consumer.position(partition) < end:
        records += consumer.poll(timeout_ms=1000).get(partition, [])
    consumer.close()
    return records


def index_position(env) -> int:
    index = build_search_index(Settings.from_env(env))
    try:
        return index.position()["seq"]
    finally:
        index.close()


def test_poison_goes_to_the_dead_letter_topic_and_projection_continues(cluster_env, tmp_path):
    env = cluster_env
    topic = env["ELDERCARE_KAFKA_TOPIC"]
    discover(env, [f"投毒前托老所{i}" for i in range(5)])
    run(["relay", "--once"], env)
    genuine = [loads(r.value) for r in topic_records(env, topic)]
    assert [e["seq"] for e in genuine] == [1, 2, 3, 4, 5]

    producer = KafkaProducer(bootstrap_servers=env["ELDERCARE_KAFKA_BOOTSTRAP"])
    altered = dict(genuine[1], payload={**genuine[1]["payload"], "residents": 999})
    forged_copy = dict(genuine[4], basis={"document_no": "伪造〔2026〕1号", "legal_basis": "无"})
    forged_copy["hash"] = event_hash(forged_copy)
    far = dict(genuine[0], seq=500)
    far["hash"] = event_hash(far)
    poison = [b"\xff not json at all", canonical_json(altered), canonical_json(forged_copy), canonical_json(far), b'{"hello": "world"}']
    for value in poison:
        producer.send(topic, value=value, key=b"poison", partition=0).get(timeout=30)
    producer.close()

    projector = Process(["project"], env, tmp_path / "project.log")
    try:
        wait_until(lambda: index_position(env) == 5, 120, f"the projector past the poison\n{projector.output()}", interval=0.5)
        discover(env, ["投毒后托老所"])  # recorded after the poison: projection must reach it
        run(["relay", "--once"], env)
        wait_until(lambda: index_position(env) == 6, 120, f"the projector to continue\n{projector.output()}", interval=0.5)
        time.sleep(1)
        assert projector.popen.poll() is None, projector.output()
    finally:
        projector.stop()

    dead = topic_records(env, f"{topic}.dead-letter")
    reasons = [dict(r.headers)["reason"].decode() for r in dead]
    assert [r.value for r in dead] == poison
    assert reasons[0].startswith("unreadable") and reasons[1].startswith("altered") and reasons[4].startswith("unreadable")
    assert reasons[2] == "a second, different event for seq 5" and reasons[3].startswith("out of chain: seq 500")
    poison_offsets = [r.offset for r in topic_records(env, topic) if r.key == b"poison"]
    assert [int(dict(r.headers)["source-offset"]) for r in dead] == poison_offsets
    alerts = [json.loads(line.split(" ERROR eldercare.alerts ", 1)[1]) for line in projector.output().splitlines()
              if " ERROR eldercare.alerts " in line]
    assert [a["offset"] for a in alerts] == poison_offsets, projector.output()

    done = subprocess.run([*ELDERCARE, "audit", "reconcile"], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout)
    assert done.returncode == 1, done.stderr
    assert {d["part"] for d in report["disagreements"]} == {"kafka"}  # the topic is poisoned; the index is not
    assert report["summaries"]["index"]["position_seq"] == 6
