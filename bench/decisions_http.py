"""Decisions over HTTP beside a bare FastAPI endpoint, measured in one run: prints figures, asserts
nothing about speed.

    .venv/bin/python bench/decisions_http.py [--clients 1 10 100] [--seconds 10]
    .venv/bin/python bench/decisions_http.py --profile cluster --api-processes 2

Ours: one embedded `eldercare serve` (demo data, rate limiting off), each client posting discovered
unfiled institutions (POST /v1/institutions, each with its own Idempotency-Key) back to back — the
whole decision: token, validation, rules, save and seal in one transaction, projection, audit log.
``--profile cluster``: the PostgreSQL store with the relay and the projector running, and
``--api-processes`` API processes sharing it (bench/load.py's cluster service). The peer (the issue's): bench/bare_api.py, a bare FastAPI endpoint inserting the same body as one JSON row into
SQLite with the same durability, on the same uvicorn settings. The same client code drives both.
The load comes from bench/loadgen (Go's standard library: a client that costs the shared cores little,
so that at 100 clients the figures are the servers'). Afterwards every acknowledged decision is
looked for in the ledger: exactly once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import cluster_service, embedded_service, exactly_once, load_arguments, wait_ready  # noqa: E402
from services.api.examples import DISCOVERY_EXAMPLE  # noqa: E402
from services.ledger.sealed_log import SealedLog  # noqa: E402
from services.settings import EMBEDDED_COMMAND_THREADS, Settings  # noqa: E402
from tests.processes import REPO, free_port  # noqa: E402

LOADGEN = REPO / "var" / "tools" / "loadgen"


def loadgen() -> Path:
    """The load generator (bench/loadgen, Go's standard library only), built when missing or older
    than its source (`make go-tools` builds it too)."""
    source = REPO / "bench" / "loadgen" / "main.go"
    if not LOADGEN.exists() or LOADGEN.stat().st_mtime < source.stat().st_mtime:
        LOADGEN.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["go", "build", "-o", str(LOADGEN), "."], cwd=source.parent, check=True)
    return LOADGEN


def level(base: str, token: str, clients: int, seconds: float) -> tuple[dict[str, float], list[str]]:
    """``clients`` clients posting decisions back to back for ``seconds``: the figures and the
    institution ids acknowledged."""
    with tempfile.TemporaryDirectory() as tmp:
        body, ids = Path(tmp) / "body.json", Path(tmp) / "ids.txt"
        template = dict(DISCOVERY_EXAMPLE, name="压测托老所__KEY__", address="江苏省镇江市润州区压测路__KEY__号")
        body.write_text(json.dumps(template, ensure_ascii=False), encoding="utf-8")
        ran = subprocess.run([str(loadgen()), "-url", f"{base}/v1/institutions", "-clients", str(clients), "-seconds", str(seconds),
                              "-token", token, "-body", str(body), "-ids", str(ids)], capture_output=True, text=True, check=True)
        measured = json.loads(ran.stdout)
        acknowledged = [line for line in ids.read_text().splitlines() if line]
    figures = {"rate": measured["decisions"] / seconds, "p50_ms": measured["p50_ms"], "p99_ms": measured["p99_ms"],
               "errors": float(sum(measured["errors"].values()))}
    if measured["errors"]:
        print(f"  {clients} clients: errors {measured['errors']}", flush=True)
    return figures, acknowledged


def spread(bases: list[str], token: str, clients: int, seconds: float) -> tuple[dict[str, float], list[str]]:
    """``clients`` spread over the API processes at ``bases`` (as a reverse proxy would), one load
    generator each, at once; their figures combined (rates added, the worst p50/p99)."""
    if len(bases) == 1:
        return level(bases[0], token, clients, seconds)
    shares = [clients // len(bases) + (1 if i < clients % len(bases) else 0) for i in range(len(bases))]
    with ThreadPoolExecutor(len(bases)) as pool:
        parts = list(pool.map(lambda b: level(b[0], token, b[1], seconds), [(b, n) for b, n in zip(bases, shares, strict=True) if n]))
    figures = {"rate": sum(f["rate"] for f, _ in parts), "p50_ms": max(f["p50_ms"] for f, _ in parts),
               "p99_ms": max(f["p99_ms"] for f, _ in parts), "errors": sum(f["errors"] for f, _ in parts)}
    return figures, [i for _, ids in parts for i in ids]


@contextmanager
def bare_api() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        # as many threads as the decisions get (ELDERCARE_COMMAND_THREADS, the embedded default otherwise)
        threads = os.environ.get("ELDERCARE_COMMAND_THREADS", str(EMBEDDED_COMMAND_THREADS))
        env = dict(os.environ, BARE_API_DB=str(Path(tmp) / "bare.sqlite"), BARE_API_THREADS=threads)
        process = subprocess.Popen([sys.executable, "-m", "uvicorn", "bench.bare_api:app", "--host", "127.0.0.1", "--port", str(port),
                                    "--log-level", "warning", "--timeout-keep-alive", "75", "--loop", "uvloop", "--http", "httptools"], env=env, cwd=REPO)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=30)


def measure(clients: list[int], seconds: float, *, profile: str = "embedded", api_processes: int = 1,
            ) -> dict[int, tuple[dict[str, float], dict[str, float]]]:
    """For each concurrency level: (ours, peer) figures. Checks the ledger holds each acknowledged
    decision exactly once. ``cluster``: the PostgreSQL store, relay and projector running, and
    ``api_processes`` API processes (each level's clients spread over them)."""
    results: dict[int, tuple[dict[str, float], dict[str, float]]] = {}
    service = embedded_service() if profile == "embedded" else cluster_service(api_processes)
    with service as (env, token, bases):
        wait_ready(bases)
        log = SealedLog(Settings.from_env(env).event_store)
        start_seq = log.head().seq
        acknowledged: list[str] = []
        ours: dict[int, dict[str, float]] = {}
        for n in clients:
            ours[n], recorded = spread(bases, token, n, seconds)
            acknowledged += recorded
        recorded, lost, doubled = exactly_once(log, start_seq, acknowledged)
        log.close()
    print(f"  acknowledged {len(acknowledged)}; in the ledger {recorded}; lost {lost}; recorded twice {doubled}", flush=True)
    if lost or doubled:
        raise SystemExit("acknowledged decisions lost or recorded twice")
    with bare_api() as base:
        wait_ready([base])
        for n in clients:
            results[n] = (ours[n], level(base, "-", n, seconds)[0])
    return results


def main() -> None:
    args = load_arguments("HTTP 决定写入基准（与裸 FastAPI 端点对照）", 10.0)
    for n, (ours, peer) in measure(args.clients, args.seconds, profile=args.profile, api_processes=args.api_processes).items():
        print(f"  {n:>3} clients: ours {ours['rate']:7.1f}/s p50 {ours['p50_ms']:6.1f} ms p99 {ours['p99_ms']:7.1f} ms "
              f"errors {ours['errors']:.0f} | bare FastAPI + SQLite {peer['rate']:7.1f}/s p99 {peer['p99_ms']:7.1f} ms | "
              f"ratio {ours['rate'] / peer['rate']:.3f}", flush=True)
    print("  goal: >= 1,000 decisions/s at 10 and 100 clients, p99 < 50 ms")


if __name__ == "__main__":
    main()
