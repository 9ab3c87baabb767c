"""The relay on PostgreSQL does not poll: a save's commit announces the append (NOTIFY) and wakes it.
With a minute's idle wait, a decision still reaches the topic in seconds — only the notice can have
woken the relay that early."""

from __future__ import annotations

import threading
import time

import pytest

from services.ledger.application import open_ledger
from services.ledger.sealed_log import SealedLog
from services.relay.kafka_relay import KafkaRelay
from tests.conftest import TODAY, command, county_officer, discovery_request

pytestmark = pytest.mark.servers

IDLE_S = 60.0


def published_within(relay: KafkaRelay, seq: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if relay.published is not None and relay.published.seq >= seq:
            return True
        time.sleep(0.02)
    return False


def test_a_commit_wakes_the_idle_relay(cluster_env):
    store = cluster_env["ELDERCARE_EVENT_STORE_URL"]
    app, sealer = open_ledger(store, clock=lambda: TODAY)
    app.discover(command(discovery_request(name="唤醒前托老所"), county_officer()))
    relay = KafkaRelay(SealedLog(store), cluster_env["ELDERCARE_KAFKA_BOOTSTRAP"], cluster_env["ELDERCARE_KAFKA_TOPIC"])
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), kwargs={"idle_s": IDLE_S}, daemon=True)
    thread.start()
    try:
        assert published_within(relay, sealer.log.head().seq, 60)  # the backlog at start
        time.sleep(0.5)  # the relay is idle now, for up to a minute
        for n in range(3):
            app.discover(command(discovery_request(name=f"唤醒托老所{n}"), county_officer()))
            assert published_within(relay, sealer.log.head().seq, IDLE_S / 3), f"decision {n} waited for the idle timeout"
    finally:
        stop.set()
        thread.join(timeout=IDLE_S + 10)
        app.close()
        sealer.log.close()
