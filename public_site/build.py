"""Build the site from one disclosure snapshot, then its Pagefind search index.

``build_site(snapshot, output_dir)`` rebuilds everything; with ``incremental=True`` only pages whose
content changed are written (the plugin keeps a manifest), and the search index is rebuilt.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

from pelican import Pelican
from pelican.settings import read_settings

from public_site.identity import DEMO, SiteIdentity

CONF = Path(__file__).parent / "pelicanconf.py"


def build_site(snapshot_path: Path, output_dir: Path, *, incremental: bool = False, search: bool = True,
               site: SiteIdentity = DEMO, workers: int | None = None) -> int:
    """Return how many pages and downloads were written. ``site`` says who publishes it and where;
    ``workers``: processes to render pages in (default: several for a large build, else one)."""
    settings = read_settings(
        str(CONF),
        override={
            "OUTPUT_PATH": str(output_dir), "DISCLOSURE_SNAPSHOT": str(snapshot_path),
            "DISCLOSURE_INCREMENTAL": incremental, "DELETE_OUTPUT_DIRECTORY": not incremental,
            "DISCLOSURE_SITE": site.as_dict(), "SITEURL": site.site_url.rstrip("/"), "AUTHOR": site.publisher,
            "DISCLOSURE_WORKERS": workers,
        },
    )
    logging.getLogger("pelican").setLevel(logging.WARNING)
    with contextlib.redirect_stdout(sys.stderr):  # Pelican's console summary is not the caller's output
        Pelican(settings).run()
    if search:
        index_search(output_dir)
    return json.loads((output_dir / ".disclosure-build.json").read_text())["written"]


def index_search(output_dir: Path) -> None:
    """Pagefind (extended build: it segments Chinese) over the institution pages, from scratch."""
    shutil.rmtree(output_dir / "pagefind", ignore_errors=True)
    done = subprocess.run(
        [sys.executable, "-m", "pagefind", "--site", str(output_dir), "--glob", "institutions/*.html", "--force-language", "zh-cn", "--quiet"],
        capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pagefind failed: {done.stderr or done.stdout}")
