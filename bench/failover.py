"""Losing nodes of the replicated cluster: prints figures, asserts nothing.

    .venv/bin/python bench/failover.py --rounds 3

Each round (tests/failover_round.py) starts a fresh local cluster (deploy/local/servers start
cluster: three Kafka brokers, three Elasticsearch nodes, PostgreSQL with a synchronous standby),
records decisions over HTTP while it kill -9s the broker leading the ledger topic, the search node
holding most primary shards and the PostgreSQL primary (promoting the standby, pointing the
services at it), restarts the broker and the node, and counts every acknowledged decision in the
ledger. The cluster is wiped after each round.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.failover_round import fresh_cluster, round_env, run_failover_round  # noqa: E402
from tests.identity_provider import IdentityProvider  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description="复制集群节点失效演练（三个 Kafka 节点、三个 Elasticsearch 节点、PostgreSQL 主备）")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    provider = IdentityProvider()
    print(f"machine: {os.cpu_count()} cores")
    try:
        for n in range(1, args.rounds + 1):
            with fresh_cluster() as settings, tempfile.TemporaryDirectory() as tmp:
                env, standby_url = round_env(settings, provider.env(), Path(tmp))
                out = run_failover_round(env, standby_url, provider.token(region="321111"), Path(tmp) / "logs", label=f"{n}")
                print(f"round {n}:\n  " + out.figures().replace("\n", "\n  "), flush=True)
    finally:
        provider.stop()


if __name__ == "__main__":
    main()
