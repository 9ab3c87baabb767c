"""Read-model benchmark: the hazard "three lists" and inspection obligations as the ledger grows —
prints figures, asserts nothing about speed.

    .venv/bin/python -m bench.read_models --institutions 5000,40000 --repeat 500
    .venv/bin/python -m bench.read_models --institutions 500          # smoke run, well under a minute

Both reads are queries over the record-state projection (``runtime.search.states(StateQuery(...))``,
projections/record_states.py), not a fold of the events per request, so their cost should follow the
region asked about and not the size of the ledger. To show exactly that, every ledger holds the same
seeded institutions in one province (``--province``, ``--in-province`` of them: the same counties,
hazards and inspections at every size) and the rest of its institutions in the other provinces
(bench/dataset.py's generator for both parts, merged in decision order and sealed). The county with
the most hazards in that province, and its city, are the regions read.

For each size: the embedded search index (SQLite FTS5) projected from the sealed log, then, per read,
calls interleaved round-robin:

- ``route``: the route's own function from services/api/queries.py (states query + the projection's
  list function + the visibility gate), called directly: no HTTP, auth or JSON encoding;
- ``states()``: only the ``runtime.search.states`` part of it (SQL + decoding the documents);
- ``peer``: the bare libraries doing that fetch — one plain sqlite3 query with the same filters over
  the same tables, and orjson.loads (the decoder the index itself uses, so the ratio is our layer's).
"""

from __future__ import annotations

import argparse
import heapq
import os
import sqlite3
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dataset import Generator, _timestamp, write  # noqa: E402
from events.regions import full_name, prefix_of  # noqa: E402
from projections.hazard_lists import month_bounds  # noqa: E402
from projections.projector import SearchProjector  # noqa: E402
from projections.record_states import StateQuery  # noqa: E402
from projections.search.sqlite_fts import SqliteSearchIndex  # noqa: E402
from services.api.queries import hazard_lists, inspection_obligations  # noqa: E402
from services.domain.actors import Actor  # noqa: E402
from services.feeds import SealedLogFeed  # noqa: E402
from services.ledger.sealed_log import SealedLog  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def ledger(seed: int, size: int, province: str, in_province: int):
    """``in_province`` institutions in ``province`` (the same at every size), the rest elsewhere,
    in decision order with fresh recording times, as one ledger would hold them."""
    inside = Generator(seed, min(size, in_province), None, province)
    parts = [inside.envelopes()]
    if size > in_province:
        outside = Generator(seed + 1, size - in_province, None, None)
        outside.counties = [c for c in outside.counties if not c.startswith(province)]
        parts.append(outside.envelopes())
    for n, envelope in enumerate(heapq.merge(*parts, key=lambda e: e["occurred_at"]), start=1):
        envelope["recorded_at"] = _timestamp(n)
        yield envelope


def busiest_county(db: sqlite3.Connection, province: str) -> str:
    return db.execute(
        "SELECT region_code FROM states WHERE kind = 'Hazard' AND region_code LIKE ? "
        "GROUP BY region_code ORDER BY count(*) DESC, region_code LIMIT 1", (province + "%",)
    ).fetchone()[0]


def peer_states(db: sqlite3.Connection, kind: str, region: str, between: tuple[str, str] | None = None) -> list[dict]:
    """The states fetch with nothing of ours: one SQL statement and orjson."""
    prefix = prefix_of(region)
    sql = ("SELECT doc FROM states JOIN state_docs USING (id) WHERE kind = ? AND region_code >= ? AND region_code < ? "
           "AND status != 'retracted'")
    params = [kind, prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)]
    if between is not None:
        sql += " AND opened_on <= ? AND (ended_on IS NULL OR ended_on >= ?)"
        params += [between[1], between[0]]
    return [orjson.loads(doc) for (doc,) in db.execute(sql + " ORDER BY id", params)]


def reads(index: SqliteSearchIndex, db: sqlite3.Connection, region: str, month: str, as_of: date) -> dict[str, dict]:
    """Per read: the three ways of doing it, and how many rows the read works over."""
    actor = Actor("civil_affairs", "city", region[:4] + "00", "bench")
    runtime = SimpleNamespace(search=index)  # all the two routes use of the runtime when as_of is given
    between = month_bounds(month)

    def states(kind: str, **extra) -> list[dict]:
        return list(index.states(StateQuery(kinds=(kind,), region=region, **extra)))

    return {
        "hazard lists": {
            "route": lambda: hazard_lists(actor, runtime, region, month),
            "states()": lambda: states("Hazard", between=between),
            "peer": lambda: peer_states(db, "Hazard", region, between),
        },
        "inspection obligations": {
            "route": lambda: inspection_obligations(actor, runtime, region, as_of, as_of.year),
            "states()": lambda: states("Institution") + states("Inspection"),
            "peer": lambda: peer_states(db, "Institution", region) + peer_states(db, "Inspection", region),
        },
    }


def measure(ways: dict, repeat: int) -> dict[str, list[float]]:
    """Round-robin over the ways, so that drift and noise fall on all of them alike."""
    for run in ways.values():
        run()  # warm
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(repeat):
        for name, run in ways.items():
            t = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t)
    return times


def one_size(tmp: Path, size: int, args) -> None:
    store = tmp / f"ledger-{size}.sqlite"
    events, seconds = write(store, ledger(args.seed, size, args.province, args.in_province))
    index = SqliteSearchIndex(tmp / f"search-{size}.sqlite")
    t = time.perf_counter()
    SearchProjector(SealedLogFeed(SealedLog(store)), index, batch_size=2000).catch_up()
    projected = time.perf_counter() - t
    db = sqlite3.connect(f"file:{tmp / f'search-{size}.sqlite'}?mode=ro", uri=True)
    kinds = dict(db.execute("SELECT kind, count(*) FROM states GROUP BY kind").fetchall())
    print(f"\n{size:,} institutions: {events:,} events (sealed in {seconds:.1f} s, projected in {projected:.1f} s); "
          f"record states: {kinds.get('Hazard', 0):,} hazards, {kinds.get('Inspection', 0):,} inspections, "
          f"{sum(kinds.values()):,} in all", flush=True)
    county = busiest_county(db, args.province)
    print(f"  {'read':<23} {'region':<7} {'states':>6}   {'route p50 / p99':>17}   {'states() p50 / p99':>18}   "
          f"{'peer p50 / p99':>17}   route/peer p50")
    for region in (county, county[:4] + "00"):
        for read, ways in reads(index, db, region, args.month, args.as_of).items():
            rows = len(ways["peer"]())
            times = measure(ways, args.repeat)
            figures = "   ".join(f"{pct(v, 50):8.2f} / {pct(v, 99):6.2f}" for v in times.values())
            ratio = pct(times["route"], 50) / pct(times["peer"], 50)
            print(f"  {read:<23} {region:<7} {rows:>6}   {figures}   {ratio:8.1f}x", flush=True)
    print(f"  ({county} is {full_name(county)}, the county of {full_name(args.province)} with the most hazards)")
    db.close()
    index.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="读模型（隐患三个清单、检查义务）基准测试")
    parser.add_argument("--institutions", default="500", help="comma-separated ledger sizes, e.g. 5000,40000")
    parser.add_argument("--repeat", type=int, default=200, help="calls per read and way")
    parser.add_argument("--province", default="32", help="the province read (its institutions are the same at every size)")
    parser.add_argument("--in-province", type=int, default=5000, help="institutions in that province")
    parser.add_argument("--month", default="2024-06", help="the hazard lists' month")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2024, 12, 31), help="the obligations' day")
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()
    sizes = [int(s) for s in args.institutions.split(",")]
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; sqlite {sqlite3.sqlite_version}; "
          f"{datetime.now().isoformat(timespec='seconds')}")
    print(f"each read: p50 / p99 in ms over {args.repeat} calls; hazard lists for {args.month}, obligations as of {args.as_of}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            one_size(Path(tmp), size, args)


if __name__ == "__main__":
    main()
