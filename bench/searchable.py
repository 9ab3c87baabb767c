"""Decision → searchable in the cluster profile: prints figures, asserts nothing about speed.

    .venv/bin/python bench/searchable.py [--decisions 100] [--load-clients 10]

The cluster as deployed, on the local servers (deploy/local/servers; started and stopped here if
down): a PostgreSQL event store, `eldercare relay`, `eldercare project` and an API process running
as their own processes (bench/load.py's cluster service), Elasticsearch. Each decision (a filing, through the ledger's command pipeline) is timed
from the call until a search by its credit code finds it in Elasticsearch — the time a department
waits before another department's lookup shows the decision. One timed decision at a time; with
``--load-clients N``, N clients post decisions to an API process all the while (bench/loadgen), so
the timed ones queue with theirs through the relay, the topic and the projector's passes.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from walking_skeleton import CLOCK, filing, percentile  # noqa: E402

from bench.decisions_http import level  # noqa: E402
from bench.load import cluster_service, wait_ready  # noqa: E402
from projections.search.elastic import ElasticSearchIndex, connect  # noqa: E402
from projections.search.index import SearchQuery  # noqa: E402
from services.ledger.application import Basis, Command, open_ledger  # noqa: E402

LOAD_S = 30.0  # the background load's length: longer than the timed decisions take
BASIS = Basis("备字〔2024〕3号", "《养老机构管理办法》第九条")


def found(index: ElasticSearchIndex, credit_code: str) -> bool:
    try:
        return index.search(SearchQuery(q=credit_code)).total > 0
    except Exception:  # noqa: BLE001  (the projector has not made the indices yet)
        return False


def measure(decisions: int, load_clients: int = 0) -> dict[str, float]:
    """p50/p99/max seconds from a decision to its being searchable, the decisions timed, and the
    background load's decisions/s (0 without one)."""
    with cluster_service(1) as (env, token, bases), ExitStack() as stack:
        wait_ready(bases)
        ledger, sealer = open_ledger(env["ELDERCARE_EVENT_STORE_URL"], clock=lambda: CLOCK)
        stack.callback(sealer.log.close)
        stack.callback(ledger.close)
        es = connect(env["ELDERCARE_ES_URL"], env["ELDERCARE_ES_USER"], env["ELDERCARE_ES_PASSWORD"])
        stack.callback(es.close)
        index = ElasticSearchIndex(es, env["ELDERCARE_ES_INDEX_PREFIX"], create=False)
        rng, latencies, load = random.Random(13), [], []
        background = threading.Thread(target=lambda: load.append(level(bases[0], token, load_clients, LOAD_S)), daemon=True)
        for i in range(-5, decisions):  # five to warm up: topic, indices, connections
            if i == 0 and load_clients:
                background.start()
                time.sleep(1.0)
            actor, request = filing(20_000_000 + i, rng)
            t = time.perf_counter()
            ledger.file_new(Command(actor, BASIS, request))
            deadline = t + 60
            while not found(index, request["credit_code"]):
                if time.perf_counter() > deadline:
                    raise SystemExit(f"decision {i} not searchable within 60 s")
                time.sleep(0.005)
            if i >= 0:
                latencies.append(time.perf_counter() - t)
        if load_clients:
            if not background.is_alive():
                print(f"  the background load ended before the timed decisions ({LOAD_S} s)", flush=True)
            background.join()
    figures = {"p50_s": percentile(latencies, 50), "p99_s": percentile(latencies, 99), "max_s": max(latencies),
               "n": float(len(latencies)), "load_rate": load[0][0]["rate"] if load else 0.0}
    under = f", under {load_clients} clients' load ({figures['load_rate']:.0f} decisions/s)" if load_clients else ""
    print(f"  decision -> searchable (cluster: PostgreSQL, relay, projector, Elasticsearch){under}, {len(latencies)} decisions: "
          f"p50 {figures['p50_s'] * 1000:.0f} ms, p99 {figures['p99_s'] * 1000:.0f} ms, max {figures['max_s'] * 1000:.0f} ms", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description="决定到可检索的时延（集群配置）")
    parser.add_argument("--decisions", type=int, default=100, help="决定数")
    parser.add_argument("--load-clients", type=int, default=0, help="同时向接口提交决定的客户端数（背景负载）")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    measure(args.decisions, args.load_clients)
    print("  goal: decision -> searchable p99 < 1 s")


if __name__ == "__main__":
    main()
