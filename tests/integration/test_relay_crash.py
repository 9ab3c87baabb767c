"""Kill -9 the relay in the middle of a Kafka transaction, restart it: the topic holds every ledger
event exactly once, in seq order, byte-identical to the sealed log."""

from __future__ import annotations

import random
import subprocess

import pytest
from kafka import KafkaConsumer, TopicPartition

from events.canonical import loads
from services.ledger.application import open_ledger
from services.ledger.database import open_database
from services.ledger.sealed_log import SealedLog
from tests.conftest import TODAY, command, county_officer, discovery_request
from tests.processes import ELDERCARE, REPO, Process, run, wait_until

pytestmark = pytest.mark.servers

EVENTS = 90
BATCH = 20


def consumer(env, isolation: str) -> tuple[KafkaConsumer, TopicPartition]:
    c = KafkaConsumer(
        bootstrap_servers=env["ELDERCARE_KAFKA_BOOTSTRAP"], isolation_level=isolation, enable_auto_commit=False, group_id=None
    )
    partition = TopicPartition(env["ELDERCARE_KAFKA_TOPIC"], 0)
    c.assign([partition])
    c.seek_to_beginning(partition)
    return c, partition


def drain(c: KafkaConsumer, partition: TopicPartition, idle_polls: int = 4) -> list:
    records, idle = [], 0
    while idle < idle_polls:
        batch = c.poll(timeout_ms=500).get(partition, [])
        idle = 0 if batch else idle + 1
        records += batch
    return records


def test_a_relay_killed_mid_batch_leaves_each_event_once(cluster_env, tmp_path):
    env = cluster_env
    store = env["ELDERCARE_EVENT_STORE_URL"]
    app, sealer = open_ledger(store, clock=lambda: TODAY)
    for i in range(EVENTS):
        app.discover(command(discovery_request(name=f"待备案托老所{i:03d}"), county_officer()))
    app.close()
    assert sealer.log.head().seq == EVENTS

    watcher, partition = None, None
    kills = 0
    rng = random.Random()
    uncommitted_seen = 0
    for round_ in range(2):
        relay = Process(
            ["relay", "--batch-size", str(BATCH), "--send-delay-ms", "40"], env, tmp_path / f"relay-{round_}.log"
        )
        if watcher is None:
            wait_until(lambda: _topic_exists(env), 60, f"the topic\n{relay.output()}")
            watcher, partition = consumer(env, "read_uncommitted")
        # Kill once the relay has sent part of a batch: the uncommitted view is mid-batch.
        target = uncommitted_seen + rng.randint(BATCH + 3, 2 * BATCH - 3)

        def sent_enough() -> bool:
            nonlocal uncommitted_seen
            uncommitted_seen += len(watcher.poll(timeout_ms=200).get(partition, []))
            return uncommitted_seen >= target

        wait_until(sent_enough, 120, f"the relay to send {target} messages\n{relay.output()}", interval=0)
        relay.kill()
        kills += 1

    run(["relay", "--once"], env, timeout=300)

    committed_consumer, partition = consumer(env, "read_committed")
    committed = drain(committed_consumer, partition)
    committed_consumer.close()
    uncommitted_seen += len(drain(watcher, partition))
    watcher.close()

    seqs = [loads(r.value)["seq"] for r in committed]
    assert seqs == list(range(1, EVENTS + 1)), "an event is missing, duplicated or out of order"
    sealed = {r.seq: r.envelope_bytes for r in SealedLog(store).read(0, EVENTS + 10)}
    assert all(r.value == sealed[loads(r.value)["seq"]] for r in committed)
    assert all(r.key.decode() == loads(r.value)["institution_id"] for r in committed)
    # The kills really hit open transactions: more was written than committed, and aborted.
    assert kills == 2 and uncommitted_seen > EVENTS


def _topic_exists(env) -> bool:
    c = KafkaConsumer(bootstrap_servers=env["ELDERCARE_KAFKA_BOOTSTRAP"], group_id=None)
    try:
        return env["ELDERCARE_KAFKA_TOPIC"] in c.topics()
    finally:
        c.close()


def discover_and_close(event_store: str, names: list[str]) -> None:
    app, sealer = open_ledger(event_store, clock=lambda: TODAY)
    for name in names:
        app.discover(command(discovery_request(name=name), county_officer()))
    sealer.seal_pending()
    app.close()
    sealer.log.close()


def test_a_sealed_log_restored_from_an_older_copy_stops_the_relay(cluster_env, local_servers):
    """The topic holds events the restored sealed log does not: the relay must not publish
    different events under the same seqs, but stop and say so."""
    env = cluster_env
    live = env["ELDERCARE_EVENT_STORE_URL"]
    discover_and_close(live, [f"备份前托老所{i}" for i in range(3)])
    server = open_database(local_servers["ELDERCARE_EVENT_STORE_URL"])
    backup_name = f"{live.rsplit('/', 1)[1]}_backup"
    server.rows(f"CREATE DATABASE {backup_name} TEMPLATE {live.rsplit('/', 1)[1]}")  # the backup, taken here
    try:
        discover_and_close(live, [f"备份后托老所{i}" for i in range(2)])
        run(["relay", "--once"], env)

        restored = env | {"ELDERCARE_EVENT_STORE_URL": live.rsplit("/", 1)[0] + "/" + backup_name}  # the operator restores it
        restarted = subprocess.run([*ELDERCARE, "relay", "--once"], env=restored, cwd=REPO, capture_output=True, text=True,
                                   timeout=300)
    finally:
        server.rows(f"DROP DATABASE IF EXISTS {backup_name} WITH (FORCE)")
        server.close()
    assert restarted.returncode != 0
    assert "RelayDiverged" in restarted.stderr and "seq 4, chained to the sealed log's head (seq 3)" in restarted.stderr
