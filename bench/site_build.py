"""Public-site build benchmark: prints figures, asserts nothing about speed.

    .venv/bin/python bench/site_build.py --sizes 5000 40000

For each size: a seeded synthetic ledger (bench/dataset.py); the disclosure snapshot (a fold of
the whole ledger, as the first publication makes it); a full Pelican build and the Pagefind index;
then one more decision (a change filing) and an incremental publication as ``eldercare site build
--incremental`` makes it — the record states saved at the first cut and the events since
(projections/saved_states.py), the snapshot, the site, the search shards — with how many files it
rewrote. The extra decision is recorded twice over: an hour after the ledger's last event (a
publication the same day, as a bureau publishing daily makes), then today (the synthetic ledger
ends years ago, so every term and deadline in between falls due at once). Beside it, measured in
the same run, the peer: a bare Pelican build (its own default theme and settings) of as many
Markdown pages as the site has pages.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dataset import Generator, write  # noqa: E402
from events.envelope import seal  # noqa: E402
from projections import saved_states  # noqa: E402
from projections.collector_pause import heap_frozen  # noqa: E402
from projections.disclosure import build_snapshot, write_snapshot  # noqa: E402
from public_site.build import build_site, index_search  # noqa: E402
from services.feeds import SealedLogFeed  # noqa: E402
from services.ledger.sealed_log import SealedLog  # noqa: E402
from services.publication import meanwhile  # noqa: E402


def timed(label: str, action):
    start = time.perf_counter()
    result = action()
    print(f"  {label:<60} {time.perf_counter() - start:8.1f} s", flush=True)
    return result


def one_more_decision(store: Path, recorded_at: datetime | None) -> None:
    """A change filing at the ledger's head, recorded at ``recorded_at`` (None: an hour after the
    ledger's last event)."""
    log = SealedLog(store)
    head = log.head()
    last = log.read(head.seq - 1, 1)[0].envelope
    recorded_at = recorded_at or datetime.fromisoformat(last["recorded_at"]) + timedelta(hours=1)
    filed = next(log.iterate_types(("InstitutionFiled",)))
    envelope = {
        "event_id": str(uuid.uuid4()), "event_type": "InstitutionChangeFiled", "schema_version": 1, "aggregate_type": "Institution",
        "aggregate_id": filed["aggregate_id"], "aggregate_version": 1000 + head.seq, "institution_id": filed["institution_id"],
        "occurred_at": recorded_at.date().isoformat(), "recorded_at": recorded_at.isoformat(),
        "actor": filed["actor"], "basis": {"document_no": "变更〔2026〕1号", "legal_basis": "《养老机构管理办法》"},
        "rule_version": "rules-2026-04-01", "command_id": None, "request_digest": None,
        "payload": {"changes": {"contact_phone": f"0511-8000{head.seq % 10000:04d}"}, "changed_on": recorded_at.date().isoformat()},
    }
    log.append(head, [(head.notification_id + 1, seal(envelope, head.seq + 1, head.hash))])
    log.close()


def bare_pelican(pages: int, workdir: Path) -> float:
    """Seconds for Pelican alone to build ``pages`` Markdown pages (default theme, no caches), in a
    process of its own: the site's plugins, once loaded, stay connected to Pelican's signals."""
    ran = subprocess.run([sys.executable, __file__, "--bare-pages", str(pages), "--bare-dir", str(workdir)],
                         capture_output=True, text=True, check=True)
    return float(ran.stdout.split()[-1])


def _bare_build(pages: int, workdir: Path) -> float:
    from pelican import Pelican
    from pelican.settings import read_settings

    content = workdir / "bare-content" / "pages"
    content.mkdir(parents=True, exist_ok=True)
    for n in range(pages):
        (content / f"p{n}.md").write_text(
            f"Title: 镇江市第{n}养老院\nSlug: p{n}\n\n地址：江苏省镇江市润州区人民路{n}号。备案回执 321111-B-{n:07d}，床位 60 张。\n\n"
            "| 项目 | 内容 |\n|---|---|\n| 备案机关 | 润州区民政局 |\n| 等级 | 三级 |\n", encoding="utf-8")
    settings = read_settings(None, override={
        "PATH": str(content.parent), "OUTPUT_PATH": str(workdir / "bare-output"), "SITEURL": "", "TIMEZONE": "Asia/Shanghai",
        "LOAD_CONTENT_CACHE": False, "FEED_ALL_ATOM": None, "CATEGORY_FEED_ATOM": None, "DELETE_OUTPUT_DIRECTORY": True,
        # The default theme lists every page in every page's menu: quadratic, 462 s for 6,262 pages.
        "DISPLAY_PAGES_ON_MENU": False, "DISPLAY_CATEGORIES_ON_MENU": False,
    })
    logging.getLogger("pelican").setLevel(logging.WARNING)
    start = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):
        Pelican(settings).run()
    return time.perf_counter() - start


def publish(store: Path, snapshots: Path, site: Path, incremental: bool) -> tuple[int, int | None]:
    """What ``eldercare site build`` does for the site (services/publication.publish_site), step by
    step with each step's time: (files written, the cut the fold resumed from)."""
    feed = SealedLogFeed(SealedLog(store))
    try:
        folded = timed("record states: " + ("saved at the last cut + the events since" if incremental else "fold the whole ledger"),
                       lambda: saved_states.states_at(feed, snapshots))
        snapshot = timed(f"snapshot ({'institutions remade where changed' if incremental else 'every institution'})",
                         lambda: build_snapshot(folded.states.values(), folded.cut, parts=folded.parts))
        # As the publication does it (services/publication._site_of): the site from the snapshot in
        # memory, the heap frozen, while a forked process writes the snapshot file and saves the record states.
        with heap_frozen(), meanwhile(lambda: write_snapshot(snapshot, snapshots), lambda: saved_states.save(snapshots, feed, folded)):
            written = timed(f"{'incremental' if incremental else 'full'} Pelican build (snapshot file, saved states: meanwhile)",
                            lambda: build_site(snapshot, site, incremental=incremental, search=False))
            shards = timed("Pagefind index (" + ("the shards whose pages changed" if incremental else "a shard per province") + ")",
                           lambda: index_search(site))
            waiting = time.perf_counter()
        print(f"  {'then waiting for the snapshot file and the saved states':<60} {time.perf_counter() - waiting:8.1f} s", flush=True)
    finally:
        feed.close()
    if incremental:
        patched = json.loads((site / ".disclosure-build.json").read_text()).get("cut_patched", 0)
        print(f"  {'':<60} {written} files rewritten ({patched} of them only the cut, patched in); "
              f"{folded.parts.remade} institutions remade; search shards re-indexed: {', '.join(shards) or 'none'}")
    return written, folded.resumed_from


def measure(size: int, workdir: Path) -> dict[str, float]:
    """The site for ``size`` institutions, full and after one decision (the same day, then years
    later), beside bare Pelican: seconds and pages, printed and returned."""
    store, site, snapshots = workdir / f"ledger-{size}.sqlite", workdir / f"site-{size}", workdir / f"snapshots-{size}"
    events, _ = write(store, Generator(20261124, size, None, "32" if size <= 5000 else None).envelopes())
    print(f"\n{size} institutions, {events} events")
    start = time.perf_counter()
    written, _ = publish(store, snapshots, site, incremental=False)
    full = time.perf_counter() - start
    files = sum(1 for p in site.rglob("*") if p.is_file())
    size_mb = sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) / 1e6
    print(f"  {'full publication':<52} {full:8.1f} s: {files} files, {size_mb:.0f} MB ({written} pages and downloads)")
    figures = {"full_s": full, "pages": float(written)}
    for label, key, recorded_at in (("one decision the same day", "incremental_s", None),
                                    ("one decision today, years after the last", "incremental_later_s", datetime.now().astimezone())):
        one_more_decision(store, recorded_at)
        print(f"  after {label}:")
        start = time.perf_counter()
        _, resumed = publish(store, snapshots, site, incremental=True)
        figures[key] = time.perf_counter() - start
        assert resumed is not None, "the incremental publication folded the whole ledger"
        print(f"  {'incremental publication, ' + label:<52} {figures[key]:8.1f} s")
    figures["peer_s"] = timed(f"peer: bare Pelican, {written} Markdown pages", lambda: bare_pelican(written, workdir / f"bare-{size}"))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description="公开网站生成基准测试")
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 40000])
    parser.add_argument("--bare-pages", type=int, help=argparse.SUPPRESS)  # the peer's own process (bare_pelican)
    parser.add_argument("--bare-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_pages is not None:
        print(_bare_build(args.bare_pages, args.bare_dir))
        return
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; {datetime.now().isoformat(timespec='seconds')}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            measure(size, Path(tmp))

if __name__ == "__main__":
    main()
