"""Kill -9, at random moments and in random order, the API, the relay, the projector, the Kafka
broker, the Elasticsearch node and the PostgreSQL server (the event store) while decisions are
being recorded and looked up; restart them; then: no lookup got a 5xx other than 503, every
acknowledged decision is in the ledger exactly once, store, Kafka and Elasticsearch reconcile
(0 lost, 0 duplicated in any projection), no consumer is stuck. One round here; bench/faults.py
runs more and prints the figures."""

from __future__ import annotations

import random

import pytest

from tests.fault_round import run_round

pytestmark = pytest.mark.servers


def test_kill_9_anything_mid_stream_loses_and_duplicates_nothing(cluster_env, identity_provider, tmp_path):
    seed = random.randrange(1 << 30)
    result = run_round(cluster_env, identity_provider.token(region="321111"), tmp_path / "logs", random.Random(seed))
    context = f"seed {seed}, faults {result.faults}, restarts {result.restarts}, retries {result.retries}"
    assert sorted(c for _, c in result.faults) == ["api", "elasticsearch", "kafka", "postgres", "projector", "relay"]
    assert result.server_errors == [] and result.refused == [], context
    assert result.lookup_server_errors == [] and result.lookups.get(200, 0) > 0, (context, result.lookups)
    assert len(result.acknowledged) == result.decisions >= 50, context
    names = [n for n in result.in_ledger if n.startswith("故障演练")]
    assert len(names) == result.decisions and all(result.in_ledger[n] == 1 for n in names), context
    report = result.reconciliation
    assert report["agree"], (context, report["disagreements"])
    head = report["summaries"]["store"]["last_seq"]
    assert report["summaries"]["kafka"]["count"] == head and report["summaries"]["kafka"]["lag"] == 0, context
    assert report["summaries"]["index"]["position_seq"] == head, context
