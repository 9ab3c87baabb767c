"""Walking-skeleton benchmark: prints figures, asserts nothing about speed.

    .venv/bin/python bench/walking_skeleton.py [--filings 2000] [--cluster]

Embedded: filings/s through the ledger (rules + save + seal + in-process projection) with p50/p99
command latency; sealer events/s on an unsealed store; SQLite projection events/s.
--cluster (needs `deploy/local/servers start all`): relay events/s into Kafka, projector events/s
Kafka → Elasticsearch, and decision → searchable latency p50/p99 with relay and projector running.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import events  # noqa: E402,F401
from events.regions import NAMES  # noqa: E402
from projections.projector import SearchProjector  # noqa: E402
from projections.search.index import SearchQuery  # noqa: E402
from projections.search.sqlite_fts import SqliteSearchIndex  # noqa: E402
from services.domain.actors import Actor  # noqa: E402
from services.domain.credit_code import with_check_character  # noqa: E402
from services.feeds import KafkaFeed, SealedLogFeed  # noqa: E402
from services.ledger.application import BEIJING, Basis, Command, open_ledger  # noqa: E402
from services.ledger.sealed_log import SealedLog  # noqa: E402
from services.ledger.sealer import Sealer  # noqa: E402

COUNTIES = ["321102", "321111", "321112", "321181", "321182", "321183", "210302", "210303", "210381"]
CLOCK = datetime(2024, 12, 2, 10, 0, tzinfo=BEIJING)


def filing(i: int, rng: random.Random) -> tuple[Actor, dict]:
    county = COUNTIES[i % len(COUNTIES)]
    body = uuid.UUID(int=rng.getrandbits(128)).hex.upper()[:9]
    request = {
        "receipt_no": f"{county}-B-{i:07d}",
        "name": f"{NAMES[county]}第{i}养老院",
        "address": f"{NAMES[county]}人民路{i}号",
        "region_code": county,
        "credit_code": with_check_character("91" + county + body),
        "nature": "for_profit", "ownership_type": "民办", "operator": "某养老服务有限公司",
        "legal_representative": "李华", "beds": 60, "nursing_beds": 30, "floor_area_m2": "2000.0",
        "premises_ownership": "leased", "contact_person": "王芳", "contact_phone": "0511-85550000",
        "registration_authority": {"kind": "market_regulation", "level": "county", "region_code": county},
        "materials": {"application_form": True, "registration_certificate": True, "compliance_commitment": True},
        "first_resident_admitted_on": "2024-11-01", "application_received_on": "2024-11-08", "filed_on": "2024-11-12",
    }
    return Actor("civil_affairs", "county", county, "bench"), request


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed_filings(app, numbers, rng: random.Random, key_prefix: str = "bench-") -> list[float]:
    """File a new institution for each number; the seconds each command took."""
    basis = Basis("备字〔2024〕1号", "《养老机构管理办法》第九条")
    latencies = []
    for i in numbers:
        actor, request = filing(i, rng)
        t = time.perf_counter()
        app.file_new(Command(actor, basis, request, f"{key_prefix}{i}"))
        latencies.append(time.perf_counter() - t)
    return latencies


def report(name: str, count: int, seconds: float, latencies: list[float] | None = None) -> None:
    line = f"{name:<46} {count:>7} in {seconds:7.2f} s = {count / seconds:9.1f} /s"
    if latencies:
        line += f"   p50 {percentile(latencies, 50) * 1000:7.2f} ms  p99 {percentile(latencies, 99) * 1000:7.2f} ms"
    print(line, flush=True)


def query_latencies(index, count: int = 300) -> list[float]:
    latencies = []
    for i in range(count):
        t = time.perf_counter()
        index.search(SearchQuery(q=f"第{i * 7}养老", region="321100"))
        latencies.append(time.perf_counter() - t)
    return latencies


def embedded(n: int, workdir: Path) -> Path:
    rng = random.Random(7)
    store = workdir / "ledger.sqlite"
    app, sealer = open_ledger(store, clock=lambda: CLOCK)
    index = SqliteSearchIndex(workdir / "search.sqlite")
    projector = SearchProjector(SealedLogFeed(SealedLog(store)), index)
    app.after_commit.append(projector.catch_up)
    start = time.perf_counter()
    latencies = timed_filings(app, range(n), rng)
    report("embedded filings (rules+save+seal+project)", n, time.perf_counter() - start, latencies)
    events_total = sealer.log.head().seq

    # Sealer alone: copy the store's events into a fresh sealed log.
    sealer.log.db.rows("DELETE FROM sealed_log")
    start = time.perf_counter()
    Sealer(app, SealedLog(store), batch_size=1000).seal_pending()
    report("sealer (decode + canonical JSON + SHA-256)", events_total, time.perf_counter() - start)

    fresh = SqliteSearchIndex(workdir / "search-rebuild.sqlite")
    start = time.perf_counter()
    SearchProjector(SealedLogFeed(SealedLog(store)), fresh, batch_size=1000).catch_up()
    report("SQLite FTS5 projection rebuild", events_total, time.perf_counter() - start)
    q_lat = query_latencies(fresh)
    report("SQLite search queries", len(q_lat), sum(q_lat), q_lat)
    app.close()
    return store


def cluster(store: Path, workdir: Path) -> None:
    from services.relay.kafka_relay import KafkaRelay

    env = dict(os.environ)
    exports = subprocess.run(["deploy/local/servers", "env"], capture_output=True, text=True, check=True).stdout
    env.update(line.removeprefix("export ").split("=", 1) for line in exports.splitlines() if line)
    topic = f"eldercare.bench.{uuid.uuid4().hex[:8]}"
    log = SealedLog(store)
    total = log.head().seq
    start = time.perf_counter()
    KafkaRelay(log, env["ELDERCARE_KAFKA_BOOTSTRAP"], topic, batch_size=1000).run(once=True)
    report("relay sealed log -> Kafka (transactional)", total, time.perf_counter() - start)

    from projections.search.elastic import ElasticSearchIndex, connect

    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    es = connect(env["ELDERCARE_ES_URL"], env["ELDERCARE_ES_USER"], env["ELDERCARE_ES_PASSWORD"])
    index = ElasticSearchIndex(es, prefix)
    feed = KafkaFeed(env["ELDERCARE_KAFKA_BOOTSTRAP"], topic)
    start = time.perf_counter()
    SearchProjector(feed, index, batch_size=1000).catch_up()
    report("projector Kafka -> Elasticsearch", total, time.perf_counter() - start)

    # Decision -> searchable, with the relay and projector running as they do in production.
    app, _ = open_ledger(store, clock=lambda: CLOCK)
    stop = threading.Event()
    relay = KafkaRelay(SealedLog(store), env["ELDERCARE_KAFKA_BOOTSTRAP"], topic, batch_size=500)
    threads = [
        threading.Thread(target=relay.run, kwargs={"stop": stop, "idle_s": 0.02}, daemon=True),
        threading.Thread(target=SearchProjector(feed, index).run_forever, args=(stop, 0.02), daemon=True),
    ]
    for t in threads:
        t.start()
    rng = random.Random(11)
    basis = Basis("备字〔2024〕2号", "《养老机构管理办法》第九条")
    latencies = []
    for i in range(100):
        actor, request = filing(10_000_000 + i, rng)
        t = time.perf_counter()
        app.file_new(Command(actor, basis, request))
        while index.search(SearchQuery(q=request["credit_code"])).total == 0:
            time.sleep(0.005)
        latencies.append(time.perf_counter() - t)
    report("decision -> searchable in Elasticsearch", len(latencies), sum(latencies), latencies)
    q_lat = query_latencies(index)
    report("Elasticsearch search queries", len(q_lat), sum(q_lat), q_lat)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    es.options(ignore_status=404).indices.delete(index=f"{prefix}-*")
    app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="walking-skeleton figures")
    parser.add_argument("--filings", type=int, default=2000)
    parser.add_argument("--cluster", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; {datetime.now().isoformat(timespec='seconds')}")
    with tempfile.TemporaryDirectory() as tmp:
        store = embedded(args.filings, Path(tmp))
        if args.cluster:
            cluster(store, Path(tmp))


if __name__ == "__main__":
    main()
