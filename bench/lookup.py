"""Cross-department lookup benchmark: prints figures, asserts nothing about speed.

    .venv/bin/python bench/lookup.py --sizes 5000 40000 [--cluster] [--events N]

For each size: a seeded synthetic ledger (bench/dataset.py), then per backend (SQLite FTS5, and
Elasticsearch with --cluster, which needs `deploy/local/servers start elasticsearch`):
projection events/s from the sealed log, query p50/p99 for a mix of department queries, and
decision → searchable latency p50/p99 with a live projector following the log.
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

from bench.dataset import Generator, write  # noqa: E402
from events.envelope import seal  # noqa: E402
from projections.projector import SearchProjector  # noqa: E402
from projections.search.index import InstitutionQuery, RecordQuery  # noqa: E402
from projections.search.sqlite_fts import SqliteSearchIndex  # noqa: E402
from services.feeds import SealedLogFeed  # noqa: E402
from services.ledger.sealed_log import SealedLog  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def line(label: str, text: str) -> None:
    print(f"  {label:<44} {text}", flush=True)


def query_mix(index, sample: dict) -> dict[str, callable]:
    return {
        "2-char name substring + province": lambda: index.search(InstitutionQuery(q="颐和", region=sample["province"])),
        "pinyin initials": lambda: index.search(InstitutionQuery(q="yhyly")),
        "address substring": lambda: index.search(InstitutionQuery(q="解放路1")),
        "county filter + facets": lambda: index.search(InstitutionQuery(region=sample["county"], facets=True)),
        "credit code": lambda: index.search(InstitutionQuery(q=sample["credit_code"])),
        "open major hazards in a city, by last change": lambda: index.search(
            InstitutionQuery(region=sample["city"], open_major_hazard=True, sort="updated")),
        "institution timeline (records)": lambda: index.search_records(
            RecordQuery(institution_id=sample["institution_id"], sort="seq", size=200)),
        "records: text + department + facets": lambda: index.search_records(
            RecordQuery(q="通道", department="fire_rescue", facets=True)),
        "change feed page (100 after head-1000)": lambda: index.search_records(
            RecordQuery(since_seq=sample["head"] - 1000, sort="seq", size=100)),
    }


def measure_queries(index, sample: dict, rounds: int) -> dict[str, float]:
    """Each query of the mix ``rounds`` times: prints p50/p99 of each; returns the whole mix's p50
    and p99 and the slowest query's p99 (ms)."""
    overall, worst = [], (0.0, "")
    for label, run in query_mix(index, sample).items():
        run()  # warm
        latencies = []
        for _ in range(rounds):
            t = time.perf_counter()
            run()
            latencies.append(time.perf_counter() - t)
        overall += latencies
        line(label, f"p50 {pct(latencies, 50):7.2f} ms   p99 {pct(latencies, 99):7.2f} ms")
        worst = max(worst, (pct(latencies, 99), label))
    line("all queries", f"p50 {pct(overall, 50):7.2f} ms   p99 {pct(overall, 99):7.2f} ms   ({len(overall)} queries)")
    return {"p50_ms": pct(overall, 50), "p99_ms": pct(overall, 99), "worst_p99_ms": worst[0], "worst": worst[1]}


def decision_to_searchable(index, store: Path, samples: int) -> None:
    """Append decisions one by one to the sealed log; a live projector follows; time until found."""
    log = SealedLog(store)
    projector = SearchProjector(SealedLogFeed(SealedLog(store)), index)
    stop = threading.Event()
    follower = threading.Thread(target=projector.run_forever, args=(stop, 0.005), daemon=True)
    follower.start()
    rng = random.Random()  # fresh ids each run: the same store is measured per backend
    latencies = []
    for i in range(samples):
        head = log.head()
        iid = str(uuid.UUID(int=rng.getrandbits(128)))
        code = f"91320102{uuid.UUID(int=rng.getrandbits(128)).hex.upper()[:9]}0"
        envelope = {
            "event_id": str(uuid.uuid4()), "event_type": "InstitutionDiscovered", "schema_version": 1, "aggregate_type": "Institution",
            "aggregate_id": iid, "aggregate_version": 1, "institution_id": iid, "occurred_at": "2024-06-03",
            "recorded_at": datetime.now().astimezone().isoformat(), "actor": {"department": "fire_rescue", "level": "county", "region": "320102", "user": "b"},
            "basis": {"document_no": f"延迟测试{i}", "legal_basis": "基准"}, "rule_version": "rules-2023-05-01", "command_id": None,
            "request_digest": None,
            "payload": {"name": f"延迟测试{i}号托老所", "address": "玄武区测试路", "region_code": "320102", "credit_code": code,
                        "discovered_on": "2024-06-03", "source": "inspection", "residents": 5, "inspection_due_by": "2024-07-01",
                        "calendar": "chinese_calendar 1.11.0"},
        }
        t = time.perf_counter()
        log.append(head, [(head.notification_id + 1, seal(envelope, head.seq + 1, head.hash))])
        while index.search(InstitutionQuery(q=code)).total == 0:
            time.sleep(0.001)
        latencies.append(time.perf_counter() - t)
    stop.set()
    follower.join(timeout=10)
    line("decision -> searchable", f"p50 {pct(latencies, 50):7.2f} ms   p99 {pct(latencies, 99):7.2f} ms   ({samples} decisions)")


def project(index, store: Path, batch: int) -> float:
    """Rebuild ``index`` from the sealed log; prints and returns events/s."""
    head = SealedLog(store).head().seq
    t = time.perf_counter()
    SearchProjector(SealedLogFeed(SealedLog(store)), index, batch_size=batch).catch_up()
    seconds = time.perf_counter() - t
    line("projection (rebuild from the sealed log)", f"{head} events in {seconds:7.1f} s = {head / seconds:9,.0f} events/s")
    return head / seconds


def embedded(size: int, rounds: int, tmp: Path, events: int | None = None) -> dict[str, float]:
    """The embedded index (SQLite FTS5) over a synthetic ledger of ``size`` institutions: the query
    mix's figures (measure_queries) and the rebuild's events/s."""
    store = tmp / f"ledger-{size}.sqlite"
    if not store.exists():
        generator = Generator(20261124, size, events, "32" if size <= 5000 else None)
        written, seconds = write(store, generator.envelopes())
        print(f"\n{size} institutions, {len(generator.counties)} counties: {written} events generated and sealed in {seconds:.1f} s "
              f"({written / seconds:,.0f} events/s)")
    print(" SQLite FTS5 (embedded)")
    index = SqliteSearchIndex(tmp / f"search-{size}.sqlite")
    try:
        rebuilt = project(index, store, 2000)
        return measure_queries(index, sample_of(store), rounds) | {"projection_rate": rebuilt}
    finally:
        index.close()


def sample_of(store: Path) -> dict:
    log = SealedLog(store)
    head = log.head().seq
    filed = next(e for e in log.iterate_types(("InstitutionFiled",)))
    county = filed["payload"]["region_code"]
    return {"head": head, "institution_id": filed["institution_id"], "credit_code": filed["payload"]["credit_code"],
            "county": county, "city": county[:4] + "00", "province": county[:2] + "0000"}


def elastic():
    from projections.search.elastic import ElasticSearchIndex, connect

    exports = subprocess.run([str(Path(__file__).parent.parent / "deploy/local/servers"), "env"], capture_output=True, text=True, check=True).stdout
    env = dict(line.removeprefix("export ").split("=", 1) for line in exports.splitlines() if line)
    client = connect(env["ELDERCARE_ES_URL"], env["ELDERCARE_ES_USER"], env["ELDERCARE_ES_PASSWORD"])
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    return ElasticSearchIndex(client, prefix), lambda: client.options(ignore_status=404).indices.delete(index=f"{prefix}-*")


def main() -> None:
    parser = argparse.ArgumentParser(description="联合检索基准测试")
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 40000])
    parser.add_argument("--events", type=int, default=None, help="目标事件数（拉长历史）")
    parser.add_argument("--cluster", action="store_true", help="也测 Elasticsearch")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--latency-samples", type=int, default=100)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; {datetime.now().isoformat(timespec='seconds')}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            store = Path(tmp) / f"ledger-{size}.sqlite"
            embedded(size, args.rounds, Path(tmp), args.events)
            index = SqliteSearchIndex(Path(tmp) / f"search-{size}.sqlite")
            sample = sample_of(store)
            decision_to_searchable(index, store, args.latency_samples)
            index.close()
            if args.cluster:
                print(" Elasticsearch 9.2.4 (cluster)")
                es_index, cleanup = elastic()
                try:
                    project(es_index, store, 2000)
                    measure_queries(es_index, sample, args.rounds)
                    decision_to_searchable(es_index, store, args.latency_samples)
                finally:
                    cleanup()


if __name__ == "__main__":
    main()
