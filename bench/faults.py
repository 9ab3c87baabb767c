"""Fault rounds on the real servers: prints figures, asserts nothing.

    .venv/bin/python bench/faults.py --rounds 3

Each round (tests/fault_round.py) records decisions over HTTP while the API, relay, projector,
Kafka broker and Elasticsearch node are killed with SIGKILL at random moments in random order and
restarted; then it counts acknowledged decisions against the ledger (lost, recorded twice) and
reconciles store, Kafka and Elasticsearch. Kafka and Elasticsearch are started on 127.0.0.1 by
deploy/local/servers if they are not running, and stopped again afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from projections.search.elastic import connect  # noqa: E402
from services.audit.signing_key import generate_key_file  # noqa: E402
from tests.fault_round import SERVERS, run_round  # noqa: E402
from tests.identity_provider import IdentityProvider  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description="故障注入演练（真实 Kafka 与 Elasticsearch）")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=None, help="随机种子（缺省随机）")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    status = subprocess.run([str(SERVERS), "status"], capture_output=True, text=True).stdout
    started = [name for name in ("kafka", "elasticsearch") if f"{name}: down" in status]
    for name in started:
        subprocess.run([str(SERVERS), "start", name], check=True)
    exports = subprocess.run([str(SERVERS), "env"], capture_output=True, text=True, check=True).stdout
    servers_env = dict(line.removeprefix("export ").split("=", 1) for line in exports.splitlines() if line)
    provider = IdentityProvider()
    print(f"machine: {os.cpu_count()} cores; seed {seed}")
    try:
        for n in range(1, args.rounds + 1):
            with tempfile.TemporaryDirectory() as tmp:
                run = uuid.uuid4().hex[:10]
                generate_key_file(Path(tmp) / "key.pem")
                env = dict(os.environ, **servers_env, **provider.env(), ELDERCARE_PROFILE="cluster", ELDERCARE_DATA_DIR=f"{tmp}/data",
                           ELDERCARE_KAFKA_TOPIC=f"eldercare.ledger.faults-{run}", ELDERCARE_ES_INDEX_PREFIX=f"faults-{run}",
                           ELDERCARE_SIGNING_KEY_FILE=f"{tmp}/key.pem")
                r = run_round(env, provider.token(region="321111"), Path(tmp) / "logs", rng, label=f"{n}")
                names = [k for k in r.in_ledger if k.startswith("故障演练")]
                report = r.reconciliation
                print(f"round {n}: faults at {', '.join(f'{t}s {c}' for t, c in r.faults)}")
                print(f"  decisions {r.decisions}, acknowledged {len(r.acknowledged)}, in the ledger {len(names)}, "
                      f"lost {r.decisions - len(names)}, recorded twice {sum(1 for k in names if r.in_ledger[k] > 1)}, "
                      f"5xx {len(r.server_errors)}, refused {len(r.refused)}, client retries {r.retries}, process restarts {r.restarts}")
                print(f"  index caught up {r.converged_s} s after the last decision; reconciliation "
                      f"{'agrees' if report['agree'] else 'DISAGREES: ' + str(report['disagreements'][:5])} "
                      f"(store {report['summaries']['store']['last_seq']}, kafka {report['summaries'].get('kafka', {}).get('count')}, "
                      f"index {report['summaries']['index']['position_seq']})", flush=True)
                es = connect(servers_env["ELDERCARE_ES_URL"], servers_env["ELDERCARE_ES_USER"], servers_env["ELDERCARE_ES_PASSWORD"])
                es.options(ignore_status=404).indices.delete(index=f"faults-{run}-*")
                es.close()
    finally:
        provider.stop()
        for name in started:
            subprocess.run([str(SERVERS), "stop", name], check=False)


if __name__ == "__main__":
    main()
