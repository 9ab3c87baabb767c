"""Fault rounds on the real servers: prints figures, asserts nothing.

    .venv/bin/python bench/faults.py --rounds 3

Each round (tests/fault_round.py) records decisions over HTTP while the API, relay, projector,
Kafka broker, Elasticsearch node and PostgreSQL server are killed with SIGKILL at random moments
in random order and restarted; then it counts acknowledged decisions against the ledger (lost,
recorded twice) and reconciles store, Kafka and Elasticsearch. The servers are started on
127.0.0.1 by deploy/local/servers if they are not running, and stopped again afterwards; each
round has its own database, topic and indices (tests/cluster_run.py).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cluster_run import cluster_run, local_servers  # noqa: E402
from tests.fault_round import run_round  # noqa: E402
from tests.identity_provider import IdentityProvider  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description="故障注入演练（真实 PostgreSQL、Kafka 与 Elasticsearch）")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=None, help="随机种子（缺省随机）")
    parser.add_argument("--logs", type=Path, default=None, help="保留各进程日志的目录（缺省不保留）")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    provider = IdentityProvider()
    print(f"machine: {os.cpu_count()} cores; seed {seed}")
    try:
        with local_servers() as servers:
            for n in range(1, args.rounds + 1):
                with cluster_run(servers, provider.env(), "faults") as env:
                    data = Path(env["ELDERCARE_DATA_DIR"])
                    logs = args.logs / f"round-{n}" if args.logs else data.parent / "logs"
                    r = run_round(env, provider.token(region="321111"), logs, rng, label=f"{n}")
                    names = [k for k in r.in_ledger if k.startswith("故障演练")]
                    report = r.reconciliation
                    print(f"round {n}: faults at {', '.join(f'{t}s {c}' for t, c in r.faults)}")
                    print(f"  decisions {r.decisions}, acknowledged {len(r.acknowledged)}, in the ledger {len(names)}, "
                          f"lost {r.decisions - len(names)}, recorded twice {sum(1 for k in names if r.in_ledger[k] > 1)}, "
                          f"5xx {len(r.server_errors)}, refused {len(r.refused)}, client retries {r.retries}, process restarts {r.restarts}")
                    print(f"  lookups meanwhile by status {dict(sorted(r.lookups.items()))} (0: no connection), "
                          f"5xx other than 503: {len(r.lookup_server_errors)}")
                    print(f"  index caught up {r.converged_s} s after the last decision; reconciliation "
                          f"{'agrees' if report['agree'] else 'DISAGREES: ' + str(report['disagreements'][:5])} "
                          f"(store {report['summaries']['store']['last_seq']}, kafka {report['summaries'].get('kafka', {}).get('count')}, "
                          f"index {report['summaries']['index']['position_seq']})", flush=True)
    finally:
        provider.stop()


if __name__ == "__main__":
    main()
