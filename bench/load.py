"""Loopback load test of the API: prints figures, asserts nothing about speed.

    .venv/bin/python bench/load.py                      # 1, 10 and 100 clients, 20 s each
    .venv/bin/python bench/load.py --clients 1 10 --seconds 5

It starts `eldercare serve` (embedded profile, demo data, rate limiting off) on 127.0.0.1, then
for each concurrency level runs that many clients for a fixed time, each sending a mix of
decisions (a discovered unfiled institution, a hazard identified on a demo institution) and
lookups (search by name, an institution's record, its cross-department timeline). It reports
sustained decisions/s and requests/s, p50/p99 latency for decisions and for lookups, and every
error; afterwards it checks that each acknowledged decision is in the ledger exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.api.examples import DISCOVERY_EXAMPLE  # noqa: E402
from tests.processes import ELDERCARE, REPO, free_port  # noqa: E402

LOOKUP_WORDS = ["颐和", "养老", "康宁", "福寿", "护理院", "yh", "zhenjiang"]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Stats:
    def __init__(self) -> None:
        self.decisions: list[float] = []
        self.lookups: list[float] = []
        self.errors: dict[str, int] = {}
        self.acknowledged: list[str] = []

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def client_loop(http: httpx.AsyncClient, token: str, institutions: list[str], until: float, stats: Stats, rng: random.Random) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < until:
        roll = rng.random()
        started = time.perf_counter()
        try:
            if roll < 0.2:  # a decision
                key = uuid.uuid4().hex
                body = dict(DISCOVERY_EXAMPLE, name=f"压测托老所{key[:10]}", address=f"江苏省镇江市润州区压测路{rng.randint(1, 999)}号")
                response = await http.post("/v1/institutions", json=body, headers=headers | {"Idempotency-Key": key})
                kind, ok = "decisions", response.status_code == 201
                if ok:
                    stats.acknowledged.append(response.json()["institution_id"])
            elif roll < 0.5:
                response = await http.get("/v1/search", params={"q": rng.choice(LOOKUP_WORDS), "region": "321100"}, headers=headers)
                kind, ok = "lookups", response.status_code == 200
            elif roll < 0.8:
                response = await http.get(f"/v1/institutions/{rng.choice(institutions)}", headers=headers)
                kind, ok = "lookups", response.status_code == 200
            else:
                response = await http.get(f"/v1/institutions/{rng.choice(institutions)}/timeline", headers=headers)
                kind, ok = "lookups", response.status_code == 200
        except httpx.HTTPError as failed:
            stats.error(type(failed).__name__)
            continue
        getattr(stats, kind).append((time.perf_counter() - started) * 1000)
        if not ok:
            stats.error(f"{response.request.method} {response.request.url.path.split('/')[2]} {response.status_code}")


async def run_level(base: str, token: str, institutions: list[str], clients: int, seconds: float) -> Stats:
    stats = Stats()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        until = time.monotonic() + seconds
        await asyncio.gather(*(client_loop(http, token, institutions, until, stats, random.Random(n)) for n in range(clients)))
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description="API 压力测试（本机回环）")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 100], help="并发客户端数")
    parser.add_argument("--seconds", type=float, default=20.0, help="每个并发级别的持续时间（秒）")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, ELDERCARE_PROFILE="embedded", ELDERCARE_DATA_DIR=tmp, ELDERCARE_RATE_LIMIT_PER_MINUTE="0",
                   ELDERCARE_JWT_SECRET="load-test-secret-0123456789abcdefghijklmn")
        subprocess.run([*ELDERCARE, "demo"], env=env, cwd=REPO, check=True, capture_output=True)
        token = subprocess.run([*ELDERCARE, "token", "--department", "civil_affairs", "--level", "city", "--region", "321100"],
                               env=env, cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()
        with sqlite3.connect(Path(tmp) / "ledger.sqlite") as db:
            institutions = [r[0] for r in db.execute(
                "SELECT DISTINCT institution_id FROM sealed_log WHERE event_type = 'InstitutionFiled'")]
            institutions = [i for i in institutions if i]
            start_seq = db.execute("SELECT max(seq) FROM sealed_log").fetchone()[0]
        port = free_port()
        log = open(Path(tmp) / "serve.log", "wb")  # noqa: SIM115
        server = subprocess.Popen([*ELDERCARE, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=REPO,
                                  stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            acknowledged: list[str] = []
            print(f"{len(institutions)} demo institutions; mix: 20% decisions, 30% searches, 30% records, 20% timelines")
            for clients in args.clients:
                stats = asyncio.run(run_level(base, token, institutions, clients, args.seconds))
                acknowledged += stats.acknowledged
                done = len(stats.decisions) + len(stats.lookups)
                print(f"  {clients:>3} clients: {len(stats.decisions) / args.seconds:7.1f} decisions/s, {done / args.seconds:7.1f} requests/s; "
                      f"decisions p50 {pct(stats.decisions, 50):6.1f} ms p99 {pct(stats.decisions, 99):7.1f} ms; "
                      f"lookups p50 {pct(stats.lookups, 50):6.1f} ms p99 {pct(stats.lookups, 99):7.1f} ms; "
                      f"errors {sum(stats.errors.values())} {json.dumps(stats.errors, ensure_ascii=False) if stats.errors else ''}", flush=True)
            httpx.get(f"{base}/healthz", timeout=10)  # everything answered is sealed by now or on the next pass
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
        with sqlite3.connect(Path(tmp) / "ledger.sqlite") as db:
            recorded = db.execute("SELECT institution_id, count(*) FROM sealed_log WHERE seq > ? AND event_type = 'InstitutionDiscovered' "
                                  "GROUP BY institution_id", (start_seq,)).fetchall()
        counts = dict(recorded)
        lost = [i for i in acknowledged if i not in counts]
        doubled = [i for i, n in counts.items() if n != 1]
        print(f"acknowledged decisions {len(acknowledged)}; in the ledger {len(counts)}; lost {len(lost)}; recorded twice {len(doubled)}")


if __name__ == "__main__":
    main()
