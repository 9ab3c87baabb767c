"""Losing a node of the replicated cluster (deploy/local/servers start cluster), shared by
tests/integration/test_replicated_cluster.py and bench/failover.py.

A client records decisions over HTTP all through the round (each with its own Idempotency-Key,
retried with it after a connection error or a 503, as a department's system would) while another
looks records up. One after another, kill -9: the Kafka broker coordinating the relay's
transactions (started again once the index has caught up), the broker leading the ledger topic,
the Elasticsearch node holding most of the run's primary shards, and the PostgreSQL primary — whose
standby is then promoted and the API, relay and projector pointed at it (restarted with its URL,
as an operator or an orchestrator does). The killed broker and search node are started again and
must catch up. Then store, Kafka and the index are reconciled and every acknowledged decision
counted in the ledger.

Figures: decisions, lost (acknowledged, not in the ledger), duplicated, and for each fault the
time to recover — for the broker and the search node, until the index has caught up with the
ledger's head at the moment of the kill (decisions over HTTP do not wait for either); for the
primary, until decisions are acknowledged again, and until the index has caught up.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from projections.search.elastic import connect
from services.ledger.database import open_database
from services.ledger.sealed_log import SealedLog
from services.ledger.signing_key import generate_key_file
from tests.fault_round import (
    RoundResult,
    Supervisor,
    account,
    decision_name,
    healthy,
    index_position,
    look_up,
    record_decisions,
    servers,
)
from tests.processes import free_port, wait_until

KAFKA_PORTS = {1: 29092, 2: 29192, 3: 29292}


@dataclass
class FailoverResult:
    round: RoundResult = field(default_factory=RoundResult)
    topology: dict = field(default_factory=dict)  # what the cluster kept before the faults
    killed: dict[str, str] = field(default_factory=dict)  # fault -> the node killed
    recovery_s: dict[str, float] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)  # idempotency keys acknowledged, not in the ledger
    duplicated: list[str] = field(default_factory=list)  # names recorded more than once

    def figures(self) -> str:
        r = self.round
        lines = [
            f"decisions {r.decisions}, acknowledged {len(r.acknowledged)}, lost {len(self.lost)}, "
            f"duplicated {len(self.duplicated)}, client retries {r.retries}, process restarts {r.restarts}, 5xx other than 503: "
            f"{len(r.server_errors) + len(r.lookup_server_errors)}",
            "killed: " + ", ".join(f"{fault} = {node}" for fault, node in self.killed.items()),
        ]
        lines += [f"time to recover, {what}: {seconds:.1f} s" for what, seconds in self.recovery_s.items()]
        agree = self.round.reconciliation.get("agree")
        lines.append(f"store, Kafka and index reconcile: {'yes' if agree else 'NO'}")
        return "\n".join(lines)


def cluster_settings() -> dict[str, str]:
    """The services' settings for the local cluster (deploy/local/servers env cluster)."""
    exports = servers("env", "cluster")
    return dict(line.removeprefix("export ").split("=", 1) for line in exports.splitlines() if line)


@contextmanager
def fresh_cluster() -> Iterator[dict[str, str]]:
    """A fresh local cluster for one round: whatever ran on its ports before is wiped, and so is the
    cluster afterwards (its primary is gone by then). Yields its settings."""
    servers("wipe", "cluster")
    try:
        servers("start", "cluster", timeout=600)
        yield cluster_settings()
    finally:
        servers("wipe", "cluster")


def round_env(settings: dict[str, str], identity_env: dict[str, str], tmp: Path) -> tuple[dict[str, str], str]:
    """One round's environment on the cluster's primary (its own topic, indices, data dir and
    checkpoint key), and the event store's URL once the standby is promoted."""
    run = uuid.uuid4().hex[:10]
    generate_key_file(tmp / "key.pem")
    settings = dict(settings)
    standby_url = settings.pop("LOCAL_CLUSTER_STANDBY_URL")
    env = dict(os.environ) | settings | identity_env | dict(
        ELDERCARE_PROFILE="cluster", ELDERCARE_DATA_DIR=str(tmp / "data"),
        ELDERCARE_KAFKA_TOPIC=f"eldercare.ledger.failover-{run}", ELDERCARE_ES_INDEX_PREFIX=f"failover-{run}",
        ELDERCARE_SIGNING_KEY_FILE=str(tmp / "key.pem"),
    )
    return env, standby_url


def topic_state(bootstrap: str, topic: str) -> dict:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="failover-round", request_timeout_ms=10000)
    try:
        (described,) = admin.describe_topics([topic])
        (partition,) = described["partitions"]
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic, ["min.insync.replicas"])])
        return {"leader": partition["leader_id"], "replicas": sorted(partition["replica_nodes"]),
                "isr": sorted(partition["isr_nodes"]),
                "min.insync.replicas": int(configs["topic"][topic]["min.insync.replicas"]["value"])}
    finally:
        admin.close()


def _search(env: dict[str, str]):
    return connect(env["ELDERCARE_ES_URL"], env["ELDERCARE_ES_USER"], env["ELDERCARE_ES_PASSWORD"])


def index_state(env: dict[str, str]) -> dict:
    """The run's indices: replicas each, and on which node (es-N) each primary shard lives."""
    es = _search(env)
    try:
        prefix = env["ELDERCARE_ES_INDEX_PREFIX"]
        settings = es.indices.get_settings(index=f"{prefix}-*")
        shards = es.cat.shards(index=f"{prefix}-*", format="json")
        return {
            "replicas": {name: int(s["settings"]["index"]["number_of_replicas"]) for name, s in settings.items()},
            "primaries": [s["node"] for s in shards if s["prirep"] == "p" and s["state"] == "STARTED"],
            "health": es.cluster.health()["status"],
        }
    finally:
        es.close()


def standby_state(url: str) -> list[tuple[str, str, str]]:
    """The primary's standbys: (name, state, sync_state) — 'sync' means commits wait for it."""
    database = open_database(url)
    try:
        return [tuple(row) for row in database.rows(
            "SELECT application_name, state, sync_state FROM pg_stat_replication ORDER BY application_name")]
    finally:
        database.close()


def _ledger_head(url: str) -> int:
    log = SealedLog(url)
    try:
        return log.head().seq
    finally:
        log.close()


def _acknowledged_since(result: RoundResult, since: float) -> bool:
    return any(t > since for t in result.ack_times)


def run_failover_round(env: dict[str, str], standby_url: str, token: str, logs: Path, *, pace_s: float = 0.05,
                       label: str = "f") -> FailoverResult:
    """One round on a freshly started cluster; ``env`` points at its primary."""
    out = FailoverResult()
    result = out.round
    logs.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(env, logs, free_port())
    base = f"http://127.0.0.1:{supervisor.port}"
    supervisor.start()
    stop_writing = threading.Event()
    writer = threading.Thread(target=record_decisions, args=(base, token, label, result, stop_writing, pace_s))
    reader = threading.Thread(target=look_up, args=(base, token, result, stop_writing, pace_s * 4))
    try:
        wait_until(lambda: healthy(base), 120, "the API")
        writer.start()
        reader.start()
        wait_until(lambda: len(result.acknowledged) >= 20 and (index_position(env) or 0) >= 20, 180,
                   "decisions to reach the index")
        bootstrap, topic = env["ELDERCARE_KAFKA_BOOTSTRAP"], env["ELDERCARE_KAFKA_TOPIC"]
        out.topology = {"topic": topic_state(bootstrap, topic), "indices": index_state(env),
                        "standbys": standby_state(env["ELDERCARE_EVENT_STORE_URL"])}

        def caught_up_since(fault: str, killed_at: float, url: str) -> None:
            head = _ledger_head(url)
            wait_until(lambda: (index_position(env) or 0) >= head, 300, f"the index to pass seq {head} after {fault}",
                       interval=0.25)
            out.recovery_s[f"{fault} (index caught up)"] = round(time.monotonic() - killed_at, 1)

        # 1. the broker coordinating the relay's transactions (the leader of the one partition of
        # __transaction_state): the relay must find another; then it comes back and must catch up
        coordinator = topic_state(bootstrap, "__transaction_state")["leader"]
        out.killed["Kafka transaction coordinator"] = f"kafka-{coordinator}"
        killed_at = time.monotonic()
        servers("crash", f"kafka-{coordinator}")
        caught_up_since("Kafka transaction coordinator", killed_at, env["ELDERCARE_EVENT_STORE_URL"])
        servers("start", f"kafka-{coordinator}")
        wait_until(lambda: topic_state(bootstrap, topic)["isr"] == [1, 2, 3], 300, "the coordinator's broker back in sync")

        # 2. the broker leading the ledger topic's partition (now)
        out.topology["topic before"] = topic_state(bootstrap, topic)
        leader = out.topology["topic before"]["leader"]
        out.killed["Kafka broker"] = f"kafka-{leader}"
        killed_at = time.monotonic()
        servers("crash", f"kafka-{leader}")
        survivors = ",".join(f"127.0.0.1:{p}" for n, p in KAFKA_PORTS.items() if n != leader)
        caught_up_since("Kafka broker", killed_at, env["ELDERCARE_EVENT_STORE_URL"])
        out.topology["topic after"] = topic_state(survivors, topic)

        # 3. the search node holding most of the run's primary shards
        primaries = out.topology["indices"]["primaries"]
        node = max(set(primaries), key=primaries.count)
        out.killed["Elasticsearch node"] = f"elasticsearch-{node.removeprefix('es-')}"
        killed_at = time.monotonic()
        servers("crash", out.killed["Elasticsearch node"])
        caught_up_since("Elasticsearch node", killed_at, env["ELDERCARE_EVENT_STORE_URL"])

        # 4. the event store's primary: the standby is promoted, the services pointed at it
        out.killed["PostgreSQL primary"] = "postgres-primary"
        killed_at = time.monotonic()
        servers("crash", "postgres-primary")
        time.sleep(1.0)  # decisions meanwhile get 503 STORAGE_UNAVAILABLE and are retried
        servers("promote", "postgres-standby")
        promoted = dict(env, ELDERCARE_EVENT_STORE_URL=standby_url)
        supervisor.repoint(promoted)
        wait_until(lambda: _acknowledged_since(result, killed_at), 300, "a decision acknowledged by the promoted primary")
        out.recovery_s["PostgreSQL primary (decisions acknowledged again)"] = round(
            min(t for t in result.ack_times if t > killed_at) - killed_at, 1)
        caught_up_since("PostgreSQL primary", killed_at, standby_url)

        # the killed broker and search node come back and catch up
        restarted_at = time.monotonic()
        servers("start", out.killed["Kafka broker"])
        servers("start", out.killed["Elasticsearch node"])
        wait_until(lambda: topic_state(bootstrap, topic)["isr"] == [1, 2, 3], 300, "the broker back in sync")
        wait_until(lambda: index_state(promoted)["health"] == "green", 300, "every shard copied again")
        out.recovery_s["broker and search node back in sync (after restart)"] = round(time.monotonic() - restarted_at, 1)

        time.sleep(2.0)  # decisions keep coming on the whole cluster
        stop_writing.set()
        writer.join(timeout=660)
        reader.join(timeout=60)
        head = _ledger_head(standby_url)
        wait_until(lambda: index_position(promoted) == head, 300, f"the index to reach seq {head}")
    finally:
        stop_writing.set()
        supervisor.stop()
        result.restarts = supervisor.restarts
    account(promoted, result)
    names = {key: decision_name(label, int(key.rsplit("-", 1)[1])) for key in result.acknowledged}
    out.lost = sorted(key for key, name in names.items() if name not in result.in_ledger)
    out.duplicated = sorted(name for name, times in result.in_ledger.items() if times > 1)
    return out

