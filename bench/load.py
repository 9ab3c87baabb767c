"""Loopback load test of the API: prints figures, asserts nothing about speed.

    .venv/bin/python bench/load.py                      # embedded: 1, 10 and 100 clients, 20 s each
    .venv/bin/python bench/load.py --clients 1 10 --seconds 5
    .venv/bin/python bench/load.py --profile cluster --api-processes 2

Embedded: one `eldercare serve` (demo data, rate limiting off) on its SQLite file. Cluster: the
real PostgreSQL, Kafka and Elasticsearch (deploy/local/servers; a database, topic and indices of
this run's own), the relay, the projector and ``--api-processes`` API processes sharing the
PostgreSQL event store, the clients spread over them round-robin (as a reverse proxy would); tokens
from a local identity provider (JWKS). Then for each concurrency level it runs that many clients
for a fixed time, each sending a mix of
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
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.api.examples import DISCOVERY_EXAMPLE  # noqa: E402
from services.ledger.sealed_log import SealedLog  # noqa: E402
from services.settings import Settings  # noqa: E402
from tests.cluster_run import cluster_run, local_servers  # noqa: E402
from tests.identity_provider import IdentityProvider  # noqa: E402
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


async def client_loop(http: httpx.AsyncClient, base: str, token: str, institutions: list[str], until: float, stats: Stats,
                      rng: random.Random) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < until:
        roll = rng.random()
        started = time.perf_counter()
        try:
            if roll < 0.2:  # a decision
                key = uuid.uuid4().hex
                body = dict(DISCOVERY_EXAMPLE, name=f"压测托老所{key[:10]}", address=f"江苏省镇江市润州区压测路{rng.randint(1, 999)}号")
                response = await http.post(f"{base}/v1/institutions", json=body, headers=headers | {"Idempotency-Key": key})
                kind, ok = "decisions", response.status_code == 201
                if ok:
                    stats.acknowledged.append(response.json()["institution_id"])
            elif roll < 0.5:
                response = await http.get(f"{base}/v1/search", params={"q": rng.choice(LOOKUP_WORDS), "region": "321100"}, headers=headers)
                kind, ok = "lookups", response.status_code == 200
            elif roll < 0.8:
                response = await http.get(f"{base}/v1/institutions/{rng.choice(institutions)}", headers=headers)
                kind, ok = "lookups", response.status_code == 200
            else:
                response = await http.get(f"{base}/v1/institutions/{rng.choice(institutions)}/timeline", headers=headers)
                kind, ok = "lookups", response.status_code == 200
        except httpx.HTTPError as failed:
            stats.error(type(failed).__name__)
            continue
        getattr(stats, kind).append((time.perf_counter() - started) * 1000)
        if not ok:
            stats.error(f"{response.request.method} {response.request.url.path.split('/')[2]} {response.status_code}")


async def run_level(bases: list[str], token: str, institutions: list[str], clients: int, seconds: float) -> Stats:
    stats = Stats()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        until = time.monotonic() + seconds
        await asyncio.gather(*(client_loop(http, bases[n % len(bases)], token, institutions, until, stats, random.Random(n))
                               for n in range(clients)))
    return stats


@contextmanager
def embedded_service() -> Iterator[tuple[dict[str, str], str, list[str]]]:
    """(environment, token, API base URLs) of one embedded API on demo data."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, ELDERCARE_PROFILE="embedded", ELDERCARE_DATA_DIR=tmp, ELDERCARE_RATE_LIMIT_PER_MINUTE="0",
                   ELDERCARE_JWT_SECRET="load-test-secret-0123456789abcdefghijklmn")
        subprocess.run([*ELDERCARE, "demo"], env=env, cwd=REPO, check=True, capture_output=True)
        token = subprocess.run([*ELDERCARE, "token", "--department", "civil_affairs", "--level", "city", "--region", "321100"],
                               env=env, cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()
        port = free_port()
        with started(env, ["serve", "--host", "127.0.0.1", "--port", str(port)], Path(tmp) / "serve.log"):
            yield env, token, [f"http://127.0.0.1:{port}"]


@contextmanager
def cluster_service(api_processes: int) -> Iterator[tuple[dict[str, str], str, list[str]]]:
    """(environment, token, API base URLs) of ``api_processes`` APIs, a relay and a projector on
    the real servers, demo data relayed and projected."""
    provider = IdentityProvider()
    try:
        with local_servers() as servers, cluster_run(servers, provider.env(), "load") as env:
            env["ELDERCARE_RATE_LIMIT_PER_MINUTE"] = "0"
            logs = Path(env["ELDERCARE_DATA_DIR"]).parent
            subprocess.run([*ELDERCARE, "demo"], env=env, cwd=REPO, check=True, capture_output=True)
            ports = [free_port() for _ in range(api_processes)]
            with ExitStack() as stack:
                stack.enter_context(started(env, ["relay"], logs / "relay.log"))
                stack.enter_context(started(env, ["project"], logs / "project.log"))
                for n, port in enumerate(ports):
                    stack.enter_context(started(env, ["serve", "--host", "127.0.0.1", "--port", str(port)], logs / f"serve-{n}.log"))
                yield env, provider.token(department="civil_affairs", level="city", region="321100"), [
                    f"http://127.0.0.1:{port}" for port in ports]
    finally:
        provider.stop()


@contextmanager
def started(env: dict[str, str], args: list[str], log_path: Path) -> Iterator[None]:
    log = open(log_path, "wb")  # noqa: SIM115
    process = subprocess.Popen([*ELDERCARE, *args], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def wait_ready(bases: list[str]) -> None:
    for base in bases:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise SystemExit(f"{base} 未就绪 not ready")


def load_arguments(description: str, seconds: float) -> argparse.Namespace:
    """The load benches' shared options (clients, seconds, profile, API processes), parsed, and the
    machine and profile printed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 100], help="并发客户端数")
    parser.add_argument("--seconds", type=float, default=seconds, help="每个并发级别的持续时间（秒）")
    parser.add_argument("--profile", choices=["embedded", "cluster"], default="embedded", help="部署形态")
    parser.add_argument("--api-processes", type=int, default=1, help="API 进程数（仅 cluster，共用 PostgreSQL 事件库）")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; profile {args.profile}"
          + (f", {args.api_processes} API processes" if args.profile == "cluster" else ""))
    return args


def exactly_once(log: SealedLog, start_seq: int, acknowledged: list[str]) -> tuple[int, int, int]:
    """Every acknowledged discovery looked for in the ledger after ``start_seq``: (institutions in
    the ledger, acknowledged ones missing, ones recorded more than once)."""
    counts: dict[str, int] = {}
    for envelope in log.iterate_types(("InstitutionDiscovered",)):
        if envelope["seq"] > start_seq:
            counts[envelope["institution_id"]] = counts.get(envelope["institution_id"], 0) + 1
    return len(counts), sum(1 for i in acknowledged if i not in counts), sum(1 for n in counts.values() if n != 1)


def main() -> None:
    args = load_arguments("API 压力测试（本机回环）", 20.0)
    service = embedded_service() if args.profile == "embedded" else cluster_service(args.api_processes)
    with service as (env, token, bases):
        log = SealedLog(Settings.from_env(env).event_store)
        institutions = sorted({e["institution_id"] for e in log.iterate_types(("InstitutionFiled",)) if e["institution_id"]})
        start_seq = log.head().seq
        wait_ready(bases)
        acknowledged: list[str] = []
        print(f"{len(institutions)} demo institutions; mix: 20% decisions, 30% searches, 30% records, 20% timelines")
        for clients in args.clients:
            stats = asyncio.run(run_level(bases, token, institutions, clients, args.seconds))
            acknowledged += stats.acknowledged
            done = len(stats.decisions) + len(stats.lookups)
            print(f"  {clients:>3} clients: {len(stats.decisions) / args.seconds:7.1f} decisions/s, {done / args.seconds:7.1f} requests/s; "
                  f"decisions p50 {pct(stats.decisions, 50):6.1f} ms p99 {pct(stats.decisions, 99):7.1f} ms; "
                  f"lookups p50 {pct(stats.lookups, 50):6.1f} ms p99 {pct(stats.lookups, 99):7.1f} ms; "
                  f"errors {sum(stats.errors.values())} {json.dumps(stats.errors, ensure_ascii=False) if stats.errors else ''}", flush=True)
        for base in bases:
            httpx.get(f"{base}/healthz", timeout=10)
        from services.ledger.application import open_ledger

        ledger, sealer = open_ledger(Settings.from_env(env).event_store)  # seal whatever a request left unsealed
        sealer.seal_pending()
        ledger.close()
        sealer.log.close()
        recorded, lost, doubled = exactly_once(log, start_seq, acknowledged)
        log.close()
    print(f"acknowledged decisions {len(acknowledged)}; in the ledger {recorded}; lost {lost}; recorded twice {doubled}")


if __name__ == "__main__":
    main()
