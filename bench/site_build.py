"""Public-site build benchmark: prints figures, asserts nothing about speed.

    .venv/bin/python bench/site_build.py --sizes 5000 40000

For each size: a seeded synthetic ledger (bench/dataset.py); the disclosure snapshot; a full
Pelican build and the Pagefind index; then one more decision (a change filing) and an incremental
rebuild, with how many files it rewrote. Beside it, measured in the same run, the peer: a bare
Pelican build (its own default theme and settings) of as many Markdown pages as the site has pages.
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


def measure(size: int, workdir: Path) -> dict[str, float]:
    """The site for ``size`` institutions, full and after one decision, beside bare Pelican: seconds
    and pages, printed and returned."""
    store, site = workdir / f"ledger-{size}.sqlite", workdir / f"site-{size}"
    events, _ = write(store, Generator(20261124, size, None, "32" if size <= 5000 else None).envelopes())
    print(f"\n{size} institutions, {events} events")
    start = time.perf_counter()
    snapshot = timed("disclosure snapshot (fold the whole ledger)", lambda: snapshot_at(r.envelope for r in SealedLog(store).iterate()))
    path = timed("write snapshot JSON", lambda: write_snapshot(snapshot, workdir / f"snapshots-{size}"))
    written = timed("full Pelican build", lambda: build_site(path, site, search=False))
    timed("Pagefind index (a shard per province)", lambda: index_search(site))
    full = time.perf_counter() - start
    files = sum(1 for p in site.rglob("*") if p.is_file())
    size_mb = sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) / 1e6
    print(f"  {'site':<52} {files} files, {size_mb:.0f} MB ({written} pages and downloads)")
    one_more_decision(store)
    start = time.perf_counter()
    snapshot = snapshot_at(r.envelope for r in SealedLog(store).iterate())
    path = write_snapshot(snapshot, workdir / f"snapshots-{size}")
    rewritten = build_site(path, site, incremental=True, search=False)
    pelican = time.perf_counter() - start
    shards = timed("incremental: Pagefind, the shards whose pages changed", lambda: index_search(site))
    incremental = time.perf_counter() - start
    patched = json.loads((site / ".disclosure-build.json").read_text()).get("cut_patched", 0)
    print(f"  {'incremental after one decision (snapshot + build)':<52} {pelican:8.1f} s, {rewritten} files rewritten "
          f"({patched} of them only the cut, patched in), search shards re-indexed: {', '.join(shards) or 'none'}")
    peer = timed(f"peer: bare Pelican, {written} Markdown pages", lambda: bare_pelican(written, workdir / f"bare-{size}"))
    return {"full_s": full, "incremental_s": incremental, "pages": float(written), "peer_s": peer}


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
