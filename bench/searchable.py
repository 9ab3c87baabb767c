"""Decision → searchable in the cluster profile: prints figures, asserts nothing about speed.

    .venv/bin/python bench/searchable.py [--decisions 100]

The cluster as deployed, on the local servers (deploy/local/servers; started and stopped here if
down): a PostgreSQL event store, `eldercare relay` and `eldercare project` running as their own
processes, Elasticsearch. Each decision (a filing, through the ledger's command pipeline) is timed
from the call until a search by its credit code finds it in Elasticsearch — the time a department
waits before another department's lookup shows the decision. One decision at a time.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from walking_skeleton import CLOCK, filing, percentile  # noqa: E402

from bench.load import started  # noqa: E402
from projections.search.elastic import ElasticSearchIndex, connect  # noqa: E402
from projections.search.index import SearchQuery  # noqa: E402
from services.ledger.application import Basis, Command, open_ledger  # noqa: E402
from tests.cluster_run import cluster_run, local_servers  # noqa: E402

BASIS = Basis("备字〔2024〕3号", "《养老机构管理办法》第九条")


def found(index: ElasticSearchIndex, credit_code: str) -> bool:
    try:
        return index.search(SearchQuery(q=credit_code)).total > 0
    except Exception:  # noqa: BLE001  (the projector has not made the indices yet)
        return False


def measure(decisions: int) -> dict[str, float]:
    """p50/p99/max seconds from a decision to its being searchable, and the decisions timed."""
    with local_servers() as servers, cluster_run(servers, {}, "searchable") as env, ExitStack() as stack:
        logs = Path(env["ELDERCARE_DATA_DIR"]).parent
        stack.enter_context(started(env, ["relay"], logs / "relay.log"))
        stack.enter_context(started(env, ["project"], logs / "project.log"))
        ledger, sealer = open_ledger(env["ELDERCARE_EVENT_STORE_URL"], clock=lambda: CLOCK)
        stack.callback(sealer.log.close)
        stack.callback(ledger.close)
        es = connect(env["ELDERCARE_ES_URL"], env["ELDERCARE_ES_USER"], env["ELDERCARE_ES_PASSWORD"])
        stack.callback(es.close)
        index = ElasticSearchIndex(es, env["ELDERCARE_ES_INDEX_PREFIX"], create=False)
        rng, latencies = random.Random(13), []
        for i in range(-5, decisions):  # five to warm up: topic, indices, connections
            actor, request = filing(20_000_000 + i, rng)
            t = time.perf_counter()
            ledger.file_new(Command(actor, BASIS, request))
            deadline = t + 60
            while not found(index, request["credit_code"]):
                if time.perf_counter() > deadline:
                    raise SystemExit(f"decision {i} not searchable within 60 s (logs in {logs})")
                time.sleep(0.005)
            if i >= 0:
                latencies.append(time.perf_counter() - t)
    figures = {"p50_s": percentile(latencies, 50), "p99_s": percentile(latencies, 99), "max_s": max(latencies), "n": float(len(latencies))}
    print(f"  decision -> searchable (cluster: PostgreSQL, relay, projector, Elasticsearch), {len(latencies)} decisions: "
          f"p50 {figures['p50_s'] * 1000:.0f} ms, p99 {figures['p99_s'] * 1000:.0f} ms, max {figures['max_s'] * 1000:.0f} ms", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description="决定到可检索的时延（集群配置）")
    parser.add_argument("--decisions", type=int, default=100, help="决定数")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    measure(args.decisions)
    print("  goal: decision -> searchable p99 < 1 s")


if __name__ == "__main__":
    main()
