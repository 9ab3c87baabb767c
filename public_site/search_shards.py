"""The site's search index, one Pagefind bundle per province (``pagefind/<province code>/``).

The site's search merges every province's bundle in the browser (Pagefind's ``mergeIndex``), so a
search finds the same homes as one index over the whole country would. Sharded, a build re-indexes
only the provinces whose institution pages changed: after one decision, one province's pages
(2,500 at most at 40,000 institutions: 3 s) instead of every page (35 s). A shard is rebuilt from
scratch from its pages, so a kept shard is byte for byte what a full build would make (Pagefind's
output is a function of its input), and an incremental site equals a full one.

The page plan (``PLAN``, written by the site build) names each province's institution pages and a
digest of their content; ``pagefind/shards.json`` (published, read by site.js) lists the shards with
the digest each was built from.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

PLAN = ".disclosure-search.json"  # the site build's page plan for the search index (not published)
FOLDER = "pagefind"
CATALOGUE = "shards.json"
FORMAT = "eldercare-search-shards/1"


def plan(pages: Iterable[tuple[str, str]], digests: Mapping[str, str]) -> dict[str, dict[str, object]]:
    """Each province's shard from ``(institution page path, province code)`` pairs and the pages'
    content digests: its pages in path order and one digest over them."""
    by_province: dict[str, list[str]] = {}
    for path, province in pages:
        by_province.setdefault(province, []).append(path)
    shards = {}
    for province, paths in sorted(by_province.items()):
        paths.sort()
        digest = hashlib.sha256("".join(f"{p}\t{digests[p]}\n" for p in paths).encode()).hexdigest()
        shards[province] = {"pages": paths, "digest": digest}
    return shards


def write_plan(output_dir: Path, shards: dict[str, dict[str, object]]) -> None:
    (output_dir / PLAN).write_text(json.dumps({"format": FORMAT, "shards": shards}, sort_keys=True) + "\n")


def _built(output_dir: Path) -> dict[str, str]:
    """The shards on disk and the digest each was built from (none if the catalogue is unreadable)."""
    try:
        catalogue = json.loads((output_dir / FOLDER / CATALOGUE).read_text())
    except (OSError, ValueError):
        return {}
    if catalogue.get("format") != FORMAT:
        return {}
    return {s["province"]: s["digest"] for s in catalogue["shards"] if (output_dir / FOLDER / s["province"]).is_dir()}


def index(output_dir: Path, *, workers: int | None = None) -> list[str]:
    """Bring ``pagefind/`` up to the page plan: build every shard whose pages changed (or is missing),
    drop the shards of provinces no longer on the site; return the provinces (re)built."""
    shards = json.loads((output_dir / PLAN).read_text())["shards"]
    built = _built(output_dir)
    folder = output_dir / FOLDER
    folder.mkdir(exist_ok=True)
    stale = [p for p in shards if built.get(p) != shards[p]["digest"]]
    for entry in folder.iterdir():  # provinces no longer on the site, and an unsharded index of before
        if entry.name not in shards and entry.name != CATALOGUE:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    (folder / CATALOGUE).unlink(missing_ok=True)  # until every shard below is in place
    _build(output_dir, {p: shards[p]["pages"] for p in stale}, workers or os.cpu_count() or 1)
    catalogue = {"format": FORMAT, "shards": [{"province": p, "pages": len(s["pages"]), "digest": s["digest"]} for p, s in sorted(shards.items())]}
    (folder / CATALOGUE).write_text(json.dumps(catalogue, ensure_ascii=False, indent=1) + "\n")
    return stale


def _build(output_dir: Path, stale: dict[str, list[str]], workers: int) -> None:
    """Pagefind over each stale shard's pages, ``workers`` shards at a time. Each shard's pages are
    linked into a directory of their own beside the site (Pagefind indexes a directory) and its
    bundle is written beside the old one, then put in its place."""
    if not stale:
        return
    folder = output_dir / FOLDER
    with tempfile.TemporaryDirectory(dir=output_dir.parent, prefix=f".{output_dir.name}-search-") as staging:
        running: list[tuple[str, subprocess.Popen[str]]] = []
        failures: list[str] = []

        def finish(province: str, process: subprocess.Popen[str]) -> None:
            out, _ = process.communicate()
            if process.returncode != 0:
                failures.append(f"{province}: {out.strip()}")
                return
            shutil.rmtree(folder / province, ignore_errors=True)
            os.replace(Path(staging) / f"{province}.bundle", folder / province)

        try:
            for province, pages in stale.items():
                site = Path(staging) / province
                for page in pages:
                    target = site / page
                    target.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        os.link(output_dir / page, target)
                    except OSError:  # another file system, or links not allowed: a copy does the same
                        shutil.copyfile(output_dir / page, target)
                while len(running) >= workers:
                    finish(*running.pop(0))
                running.append((province, subprocess.Popen(
                    [sys.executable, "-m", "pagefind", "--site", str(site), "--glob", "institutions/*.html",
                     "--force-language", "zh-cn", "--quiet", "--output-path", str(Path(staging) / f"{province}.bundle")],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        finally:
            while running:
                finish(*running.pop(0))
    if failures:
        raise RuntimeError("pagefind failed: " + "; ".join(failures))
