"""Public-site build benchmark: prints figures, asserts nothing about speed.

    .venv/bin/python bench/site_build.py --sizes 5000 40000

For each size: a seeded synthetic ledger (bench/dataset.py); the disclosure snapshot; a full
Pelican build and the Pagefind index; then one more decision (a change filing) and an incremental
rebuild, with how many files it rewrote.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dataset import Generator, write  # noqa: E402
from events.envelope import seal  # noqa: E402
from projections.disclosure import snapshot_at, write_snapshot  # noqa: E402
from public_site.build import build_site, index_search  # noqa: E402
from services.ledger.sealed_log import SealedLog  # noqa: E402


def timed(label: str, action):
    start = time.perf_counter()
    result = action()
    print(f"  {label:<52} {time.perf_counter() - start:8.1f} s", flush=True)
    return result


def one_more_decision(store: Path) -> None:
    log = SealedLog(store)
    head = log.head()
    filed = next(log.iterate_types(("InstitutionFiled",)))
    envelope = {
        "event_id": str(uuid.uuid4()), "event_type": "InstitutionChangeFiled", "schema_version": 1, "aggregate_type": "Institution",
        "aggregate_id": filed["aggregate_id"], "aggregate_version": 99, "institution_id": filed["institution_id"],
        "occurred_at": "2026-11-20", "recorded_at": datetime.now().astimezone().isoformat(),
        "actor": filed["actor"], "basis": {"document_no": "变更〔2026〕1号", "legal_basis": "《养老机构管理办法》"},
        "rule_version": "rules-2026-04-01", "command_id": None, "request_digest": None,
        "payload": {"changes": {"contact_phone": "0511-80001234"}, "changed_on": "2026-11-20"},
    }
    log.append(head, [(head.notification_id + 1, seal(envelope, head.seq + 1, head.hash))])
    log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="公开网站生成基准测试")
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 40000])
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; {datetime.now().isoformat(timespec='seconds')}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            store, site = Path(tmp) / f"ledger-{size}.sqlite", Path(tmp) / f"site-{size}"
            events, _ = write(store, Generator(20261124, size, None, "32" if size <= 5000 else None).envelopes())
            print(f"\n{size} institutions, {events} events")
            snapshot = timed("disclosure snapshot (fold the whole ledger)", lambda: snapshot_at(r.envelope for r in SealedLog(store).iterate()))
            path = timed("write snapshot JSON", lambda: write_snapshot(snapshot, Path(tmp) / f"snapshots-{size}"))
            written = timed("full Pelican build", lambda: build_site(path, site, search=False))
            timed("Pagefind index", lambda: index_search(site))
            files = sum(1 for p in site.rglob("*") if p.is_file())
            size_mb = sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) / 1e6
            print(f"  {'site':<52} {files} files, {size_mb:.0f} MB ({written} pages and downloads)")
            one_more_decision(store)
            start = time.perf_counter()
            snapshot = snapshot_at(r.envelope for r in SealedLog(store).iterate())
            path = write_snapshot(snapshot, Path(tmp) / f"snapshots-{size}")
            written = build_site(path, site, incremental=True, search=False)
            pelican = time.perf_counter() - start
            timed("incremental: Pagefind index again", lambda: index_search(site))
            print(f"  {'incremental after one decision (snapshot + build)':<52} {pelican:8.1f} s, {written} files rewritten")


if __name__ == "__main__":
    main()
