"""Decisions over HTTP beside a bare FastAPI endpoint, measured in one run: prints figures, asserts
nothing about speed.

    .venv/bin/python bench/decisions_http.py [--clients 1 10 100] [--seconds 10]

Ours: one embedded `eldercare serve` (demo data, rate limiting off), each client posting discovered
unfiled institutions (POST /v1/institutions, each with its own Idempotency-Key) back to back — the
whole decision: token, validation, rules, save and seal in one transaction, projection, audit log.
The peer: bench/bare_api.py, a bare FastAPI endpoint inserting the same body as one JSON row into
SQLite with the same durability, on the same uvicorn settings. The same client code drives both.
Afterwards every acknowledged decision is looked for in the ledger: exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import Stats, embedded_service, pct, wait_ready  # noqa: E402
from services.api.examples import DISCOVERY_EXAMPLE  # noqa: E402
from services.ledger.sealed_log import SealedLog  # noqa: E402
from services.settings import Settings  # noqa: E402
from tests.processes import REPO, free_port  # noqa: E402


async def decide(http: httpx.AsyncClient, base: str, token: str, until: float, stats: Stats, n: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    i = 0
    while time.monotonic() < until:
        key = f"{n}-{i}-{uuid.uuid4().hex[:12]}"
        i += 1
        body = dict(DISCOVERY_EXAMPLE, name=f"压测托老所{key}", address=f"江苏省镇江市润州区压测路{i}号")
        started = time.perf_counter()
        try:
            response = await http.post(f"{base}/v1/institutions", json=body, headers=headers | {"Idempotency-Key": key})
        except httpx.HTTPError as failed:
            stats.error(type(failed).__name__)
            continue
        if response.status_code == 201:
            stats.decisions.append((time.perf_counter() - started) * 1000)
            stats.acknowledged.append(response.json()["institution_id"])
        else:
            stats.error(f"POST {response.status_code}")


async def level(base: str, token: str, clients: int, seconds: float) -> Stats:
    stats = Stats()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        until = time.monotonic() + seconds
        await asyncio.gather(*(decide(http, base, token, until, stats, n) for n in range(clients)))
    return stats


@contextmanager
def bare_api() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = dict(os.environ, BARE_API_DB=str(Path(tmp) / "bare.sqlite"), BARE_API_THREADS="4")
        process = subprocess.Popen([sys.executable, "-m", "uvicorn", "bench.bare_api:app", "--host", "127.0.0.1", "--port", str(port),
                                    "--log-level", "warning", "--timeout-keep-alive", "75"], env=env, cwd=REPO)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=30)


def figures(stats: Stats, seconds: float) -> dict[str, float]:
    return {"rate": len(stats.decisions) / seconds, "p50_ms": pct(stats.decisions, 50), "p99_ms": pct(stats.decisions, 99),
            "errors": float(sum(stats.errors.values()))}


def measure(clients: list[int], seconds: float) -> dict[int, tuple[dict[str, float], dict[str, float]]]:
    """For each concurrency level: (ours, peer) figures. Checks the ledger holds each acknowledged
    decision exactly once."""
    results: dict[int, tuple[dict[str, float], dict[str, float]]] = {}
    with embedded_service() as (env, token, bases):
        wait_ready(bases)
        log = SealedLog(Settings.from_env(env).event_store)
        start_seq = log.head().seq
        acknowledged: list[str] = []
        ours: dict[int, dict[str, float]] = {}
        for n in clients:
            stats = asyncio.run(level(bases[0], token, n, seconds))
            acknowledged += stats.acknowledged
            ours[n] = figures(stats, seconds)
        counts: dict[str, int] = {}
        for envelope in log.iterate_types(("InstitutionDiscovered",)):
            if envelope["seq"] > start_seq:
                counts[envelope["institution_id"]] = counts.get(envelope["institution_id"], 0) + 1
        log.close()
    lost = sum(1 for i in acknowledged if i not in counts)
    doubled = sum(1 for c in counts.values() if c != 1)
    print(f"  acknowledged {len(acknowledged)}; in the ledger {len(counts)}; lost {lost}; recorded twice {doubled}", flush=True)
    if lost or doubled:
        raise SystemExit("acknowledged decisions lost or recorded twice")
    with bare_api() as base:
        wait_ready([base])
        for n in clients:
            results[n] = (ours[n], figures(asyncio.run(level(base, "-", n, seconds)), seconds))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="HTTP 决定写入基准（与裸 FastAPI 端点对照）")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 100], help="并发客户端数")
    parser.add_argument("--seconds", type=float, default=10.0, help="每个并发级别的持续时间（秒）")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; embedded profile")
    for n, (ours, peer) in measure(args.clients, args.seconds).items():
        print(f"  {n:>3} clients: ours {ours['rate']:7.1f}/s p50 {ours['p50_ms']:6.1f} ms p99 {ours['p99_ms']:7.1f} ms "
              f"errors {ours['errors']:.0f} | bare FastAPI + SQLite {peer['rate']:7.1f}/s p99 {peer['p99_ms']:7.1f} ms | "
              f"ratio {ours['rate'] / peer['rate']:.3f}", flush=True)
    print("  goal: >= 1,000 decisions/s at 10 and 100 clients, p99 < 50 ms")


if __name__ == "__main__":
    main()
