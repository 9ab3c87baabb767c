"""Every benchmark that has a peer, run one after the other, and one table of what they measured:
figure, ours, the peer measured in the same run, the ratio, the goal. Asserts nothing about speed.

    make bench                                   # = .venv/bin/python bench/summary.py
    .venv/bin/python bench/summary.py --quick    # smaller runs, a few minutes

Needs the local Kafka, Elasticsearch and PostgreSQL (deploy/local/servers; each bench starts them
if down and stops them again). The benches themselves print their details as they go; the table
comes last. The README carries the latest table with its date and machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import decisions_http, event_store, lookup, projection, relay, replay, searchable, site_build  # noqa: E402
from tests.cluster_run import local_servers  # noqa: E402

# Measured by their own benches at the goal's scale, not in this table (figures in the README).
ELSEWHERE = (
    ("auditors at 10M events: any list as of any seq < 5 s; a full replay < 5 min, < 2 GiB",
     "bench/replay.py --events 10000000 (this table replays 200,000 or 1,000,000)"),
)


def rows(quick: bool) -> list[tuple[str, str, str, str, str]]:
    """(figure, ours, peer, ratio, goal) for each measurement."""
    table = []
    filings = 500 if quick else 2000
    for kind, label in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        print(f"\n== filings in process, {label}", flush=True)
        f = event_store.filings_beside_library(kind, filings)
        table.append((f"filing in process ({label}): rules, save + seal in one transaction",
                      f"{f['rate']:,.0f}/s p99 {f['p99_ms']:.1f} ms", f"eventsourcing alone {f['peer_rate']:,.0f}/s",
                      f"{f['rate'] / f['peer_rate']:.2f}", ">= 0.5"))
    print("\n== decisions over HTTP, embedded", flush=True)
    levels = [1, 10, 100]
    for clients, (ours, peer) in decisions_http.measure(levels, 5.0 if quick else 10.0).items():
        table.append((f"decisions over HTTP, embedded, {clients} client{'s' if clients > 1 else ''}",
                      f"{ours['rate']:,.0f}/s p99 {ours['p99_ms']:.0f} ms", f"bare FastAPI + SQLite {peer['rate']:,.0f}/s p99 {peer['p99_ms']:.0f} ms",
                      f"{ours['rate'] / peer['rate']:.2f}", ">= 1,000/s, p99 < 50 ms" if clients > 1 else "—"))
    print("\n== decisions over HTTP, cluster (PostgreSQL), 2 API processes", flush=True)
    for clients, (ours, peer) in decisions_http.measure([10, 100], 5.0 if quick else 10.0, profile="cluster", api_processes=2).items():
        table.append((f"decisions over HTTP, cluster, 2 API processes, {clients} clients",
                      f"{ours['rate']:,.0f}/s p99 {ours['p99_ms']:.0f} ms", f"bare FastAPI + SQLite {peer['rate']:,.0f}/s p99 {peer['p99_ms']:.0f} ms",
                      f"{ours['rate'] / peer['rate']:.2f}", ">= 1,000/s, p99 < 50 ms"))
    print("\n== decision -> searchable, cluster", flush=True)
    for load in (0, 10):
        d = searchable.measure(50 if quick else 200, load)
        table.append((f"decision -> searchable, cluster{f', {load} clients deciding meanwhile' if load else ''}",
                      f"p50 {d['p50_s'] * 1000:.0f} ms, p99 {d['p99_s'] * 1000:.0f} ms", "—", "—", "p99 < 1 s"))
    print("\n== relay", flush=True)
    r = relay.measure(50_000 if quick else 200_000)
    peer_text = f"perf tool {r['tool_rate']:,.0f}/s" if r["tool_rate"] else f"kafka-python alone {r['bare_rate']:,.0f}/s"
    table.append(("relay, sealed log -> Kafka (transactional, acks=all)", f"{r['rate']:,.0f} ev/s", peer_text,
                  f"{r['rate'] / (r['tool_rate'] or r['bare_rate']):.2f}", ">= 20,000 ev/s, >= 0.6"))
    print("\n== projection", flush=True)
    p = projection.measure(20_000 if quick else 100_000)
    table.append(("projection, Kafka -> Elasticsearch", f"{p['rate']:,.0f} ev/s", f"streaming_bulk {p['peer_rate']:,.0f} ev/s",
                  f"{p['rate'] / p['peer_rate']:.2f}", ">= 10,000 ev/s, >= 0.8"))
    print("\n== embedded lookups", flush=True)
    size = 5000 if quick else 40_000
    with tempfile.TemporaryDirectory() as tmp:
        q = lookup.embedded(size, 20 if quick else 50, Path(tmp))
    table.append((f"embedded lookups, {size:,} institutions, the mix of department queries",
                  f"p50 {q['p50_ms']:.1f} ms, p99 {q['p99_ms']:.1f} ms (slowest: {q['worst']}, p99 {q['worst_p99_ms']:.1f} ms)",
                  "—", "—", "p99 < 50 ms at 40,000" if size == 40_000 else "p99 < 50 ms"))
    print("\n== auditors' replay", flush=True)
    events = 200_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        a = replay.measure(events, Path(tmp))
    table.append((f"replay every public list as of the head, {events:,} events, {a['institutions']:,} institutions",
                  f"{a['rate']:,.0f} ev/s ({a['seconds']:.0f} s), peak {a['peak_gib']:.1f} GiB",
                  f"reading the same envelopes alone {a['bare_rate']:,.0f} ev/s", f"{a['rate'] / a['bare_rate']:.2f}",
                  "10M in < 5 min (>= 33,000 ev/s), < 2 GiB"))
    table.append(("one institution as of a seq", f"p99 {a['institution_p99_ms']:.1f} ms", "—", "—", "< 5 s at 10M events"))
    print("\n== public site", flush=True)
    size = 5000 if quick else 40_000
    with tempfile.TemporaryDirectory() as tmp:
        w = site_build.measure(size, Path(tmp))
    table.append((f"site, {size:,} institutions, full build with search index", f"{w['full_s']:.0f} s ({w['pages']:,.0f} pages)",
                  f"bare Pelican, same page count {w['peer_s']:.0f} s", f"{w['peer_s'] / w['full_s']:.2f}",
                  "< 60 s at 40,000" if size == 40_000 else "—"))
    table.append((f"site, {size:,} institutions, after one decision the same day", f"{w['incremental_s']:.1f} s", "—", "—",
                  "< 10 s at 40,000" if size == 40_000 else "—"))
    table.append((f"site, {size:,} institutions, after one decision years after the last", f"{w['incremental_later_s']:.1f} s", "—", "—",
                  "< 10 s at 40,000" if size == 40_000 else "—"))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description="全部基准测试，一张对照表")
    parser.add_argument("--quick", action="store_true", help="较小规模，几分钟内完成")
    args = parser.parse_args()
    machine = f"{os.cpu_count()} cores, {platform.machine()}, python {sys.version.split()[0]}"
    with local_servers():  # started once for every bench (and stopped at the end if they were down)
        table = rows(args.quick)
    print(f"\n{datetime.now().astimezone().isoformat(timespec='minutes')} · {machine}{' · --quick' if args.quick else ''}\n")
    header = ("figure", "ours", "peer (same run)", "ratio", "goal")
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(5)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in table:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    print("\nNot in this table yet (their own benches; no peer measured beside them yet):")
    for goal, where in ELSEWHERE:
        print(f"  {where}: {goal}")


if __name__ == "__main__":
    main()
