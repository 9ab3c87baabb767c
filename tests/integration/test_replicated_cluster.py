"""The replicated cluster survives losing a node of each kind: decisions are recorded over HTTP
while kill -9 takes the Kafka broker coordinating the relay's transactions, then the one leading
the ledger topic, the Elasticsearch node holding most
primary shards, and the PostgreSQL primary (its synchronous standby promoted, the services pointed
at it). Every acknowledged decision is in the ledger exactly once, store, Kafka and index
reconcile, the killed broker and node rejoin. The round and its figures: tests/failover_round.py
(bench/failover.py runs more rounds)."""

from __future__ import annotations

import pytest

from tests.failover_round import fresh_cluster, round_env, run_failover_round

pytestmark = pytest.mark.servers


@pytest.fixture
def replicated_cluster():
    with fresh_cluster() as settings:
        yield settings


def test_losing_a_broker_a_search_node_and_the_primary_loses_no_decision(replicated_cluster, identity_provider,
                                                                          tmp_path, capsys):
    env, standby_url = round_env(replicated_cluster, identity_provider.env(), tmp_path)
    out = run_failover_round(env, standby_url, identity_provider.token(region="321111"), tmp_path / "logs")
    with capsys.disabled():
        print("\nreplicated cluster, one node of each kind lost:\n" + out.figures())
    result = out.round
    context = out.figures()

    # what the cluster kept: three copies of the ledger topic, two needed in sync; a replica of each index
    topic = out.topology["topic"]
    assert topic["replicas"] == [1, 2, 3] and topic["isr"] == [1, 2, 3] and topic["min.insync.replicas"] == 2, topic
    assert set(out.topology["indices"]["replicas"].values()) == {1}, out.topology["indices"]
    # and every commit waited for the standby: what the primary acknowledged, the standby had
    assert out.topology["standbys"] == [("standby1", "streaming", "sync")], out.topology["standbys"]
    # the leader's death was noticed: it left the in-sync set and another broker leads
    before, after = out.topology["topic before"], out.topology["topic after"]
    assert before["isr"] == [1, 2, 3], before  # the coordinator's broker had caught up again
    assert after["leader"] != before["leader"] and before["leader"] not in after["isr"], after

    assert result.server_errors == [] and result.refused == [] and result.lookup_server_errors == [], context
    assert result.lookups.get(200, 0) > 0, (context, result.lookups)
    assert len(result.acknowledged) == result.decisions >= 60, context
    assert out.lost == [] and out.duplicated == [], context
    names = [n for n in result.in_ledger if n.startswith("故障演练")]
    assert len(names) == result.decisions, context
    assert set(out.recovery_s) >= {"Kafka transaction coordinator (index caught up)", "Kafka broker (index caught up)", "Elasticsearch node (index caught up)",
                                   "PostgreSQL primary (decisions acknowledged again)"}, context

    report = result.reconciliation
    assert report["agree"], (context, report["disagreements"])
    head = report["summaries"]["store"]["last_seq"]
    assert report["summaries"]["kafka"]["count"] == head and report["summaries"]["kafka"]["lag"] == 0, context
    assert report["summaries"]["index"]["position_seq"] == head, context
