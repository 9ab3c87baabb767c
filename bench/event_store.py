"""The event store on its own, SQLite (embedded) against PostgreSQL (cluster): prints figures,
asserts nothing.

    .venv/bin/python bench/event_store.py [--filings 2000] [--stores sqlite postgres]

For each store: filings/s through the ledger with p50/p99 (rules, save and seal in one
transaction — no projection), beside its peer measured in the same run: the `eventsourcing` library
alone saving one event per aggregate with the same request as payload, on the same kind of store with
the library's own recorder and the same settings (durability included); the same with four writer threads, each with its own connections as four API processes would
have; the sealer re-sealing the whole store; the sealed log read back in order. PostgreSQL is
the local server (deploy/local/servers, started if down and stopped again), on a database of
this run's own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eventsourcing.application import Application  # noqa: E402
from eventsourcing.domain import Aggregate, event  # noqa: E402
from walking_skeleton import CLOCK, filing, percentile, report, timed_filings  # noqa: E402

from services.ledger.application import open_ledger, persistence  # noqa: E402
from services.ledger.sealed_log import SealedLog  # noqa: E402
from services.ledger.sealer import Sealer  # noqa: E402
from tests.cluster_run import fresh_database, local_servers  # noqa: E402


@contextmanager
def event_store(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield str(Path(tmp) / "ledger.sqlite")
        return
    with local_servers() as servers, fresh_database(servers["ELDERCARE_EVENT_STORE_URL"], f"bench_{uuid.uuid4().hex[:10]}") as url:
        yield url


class Filing(Aggregate):
    """The peer's aggregate: one event carrying the filing request, nothing else."""

    @event("Filed")
    def __init__(self, request: dict) -> None:
        self.request = request


def library_alone(location: str, n: int) -> tuple[float, list[float]]:
    """The `eventsourcing` library alone: n aggregates saved, one event each (the filing request as
    its payload), on the store's own settings with the library's own recorder."""
    settings = {k: v for k, v in persistence(location).items() if k != "APPLICATION_RECORDER_TOPIC"}
    app = Application(settings)
    rng, latencies = random.Random(7), []
    start = time.perf_counter()
    for i in range(n):
        _, request = filing(i, rng)
        t = time.perf_counter()
        app.save(Filing(request))
        latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - start
    app.close()
    return elapsed, latencies


def filings_beside_library(kind: str, n: int) -> dict[str, float]:
    """Filings through the ledger and the library alone, each on a fresh store of the kind; the
    figures (rate, p50, p99 in ms, and the ratio) for the bench table."""
    with event_store(kind) as location:
        app, sealer = open_ledger(location, clock=lambda: CLOCK)
        start = time.perf_counter()
        latencies = timed_filings(app, range(n), random.Random(7))
        elapsed = time.perf_counter() - start
        app.close()
        sealer.log.close()
    with event_store(kind) as location:
        peer_elapsed, peer_latencies = library_alone(location, n)
    figures = {"rate": n / elapsed, "p50_ms": percentile(latencies, 50) * 1000, "p99_ms": percentile(latencies, 99) * 1000,
               "peer_rate": n / peer_elapsed, "peer_p50_ms": percentile(peer_latencies, 50) * 1000,
               "peer_p99_ms": percentile(peer_latencies, 99) * 1000}
    report(f"{kind}: filings, 1 writer", n, elapsed, latencies)
    report(f"{kind}: peer, eventsourcing alone", n, peer_elapsed, peer_latencies)
    print(f"{kind}: ratio {figures['rate'] / figures['peer_rate']:.3f}", flush=True)
    return figures


def measure(kind: str, n: int) -> None:
    filings_beside_library(kind, n)
    with event_store(kind) as location:
        app, sealer = open_ledger(location, clock=lambda: CLOCK)
        timed_filings(app, range(n), random.Random(7))

        writers = [open_ledger(location, clock=lambda: CLOCK) for _ in range(4)]
        per_writer, parallel = n // 4, [[] for _ in range(4)]

        def write(w: int) -> None:
            first = n + w * per_writer
            parallel[w] = timed_filings(writers[w][0], range(first, first + per_writer), random.Random(100 + w))

        threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        report(f"{kind}: filings, 4 writers (own connections)", 4 * per_writer, time.perf_counter() - start,
               [x for w in parallel for x in w])
        for ledger, own in writers:
            ledger.close()
            own.log.close()

        total = sealer.log.head().seq
        sealer.log.db.rows("DELETE FROM sealed_log")
        fresh = SealedLog(location)
        start = time.perf_counter()
        Sealer(app, fresh, batch_size=1000).seal_pending()
        report(f"{kind}: sealer over the whole store", total, time.perf_counter() - start)
        start = time.perf_counter()
        read = sum(1 for _ in fresh.iterate())
        report(f"{kind}: sealed log read in order", read, time.perf_counter() - start)
        fresh.close()
        app.close()
        sealer.log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="事件库基准：SQLite 与 PostgreSQL")
    parser.add_argument("--filings", type=int, default=2000, help="备案决定数")
    parser.add_argument("--stores", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    for kind in args.stores:
        measure(kind, args.filings)


if __name__ == "__main__":
    main()
