"""Kill -9 the Kafka broker while the relay has a transaction open and keep it down past the
producer's delivery timeout: the relay must not commit what did arrive without what did not.

kafka-python fails an expired batch without aborting its transaction, and committed the rest: seq
26 was missing from the topic for good while the relay went on (before services/relay/
kafka_clients.acknowledged_or_raise). Now the relay exits on it, and the next one fences it and
sends the open transaction's events again."""

from __future__ import annotations

import time

import pytest

from events.canonical import loads
from services.ledger.application import open_ledger
from services.relay.kafka_clients import PRODUCER
from tests.conftest import TODAY, command, county_officer, discovery_request
from tests.fault_round import servers
from tests.integration.test_relay_crash import _topic_exists, consumer, drain
from tests.processes import Process, run, wait_until

pytestmark = pytest.mark.servers

EVENTS = 60
BATCH = 20


def test_a_broker_down_past_the_delivery_timeout_mid_transaction_loses_and_duplicates_nothing(cluster_env, tmp_path):
    env = cluster_env
    app, _ = open_ledger(env["ELDERCARE_EVENT_STORE_URL"], clock=lambda: TODAY)
    for i in range(EVENTS):
        app.discover(command(discovery_request(name=f"待备案托老所{i:03d}"), county_officer()))
    app.close()
    relay = Process(["relay", "--batch-size", str(BATCH), "--send-delay-ms", "300"], env, tmp_path / "relay-0.log")
    wait_until(lambda: _topic_exists(env), 60, f"the topic\n{relay.output()}")
    watcher, partition = consumer(env, "read_uncommitted")
    seen = 0

    def mid_second_batch() -> bool:
        nonlocal seen
        seen += len(watcher.poll(timeout_ms=200).get(partition, []))
        return seen >= BATCH + 5

    wait_until(mid_second_batch, 120, f"the relay to send\n{relay.output()}", interval=0)
    watcher.close()
    servers("crash", "kafka")
    time.sleep(PRODUCER["delivery_timeout_ms"] / 1000 + 5)
    servers("start", "kafka")
    wait_until(lambda: relay.popen.poll() is not None, 120, f"the relay to give up its transaction\n{relay.output()[-3000:]}")
    output = relay.output()
    relay.kill()
    assert "Expiring 1 record(s)" in output, "the outage did not outlast a batch of the open transaction"
    assert "not committing it" in output

    run(["relay", "--once"], env, timeout=300)
    committed_consumer, partition = consumer(env, "read_committed")
    committed = drain(committed_consumer, partition, idle_polls=8)
    committed_consumer.close()
    assert [loads(r.value)["seq"] for r in committed] == list(range(1, EVENTS + 1))
