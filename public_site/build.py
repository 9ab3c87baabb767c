"""Build the site from one disclosure snapshot, then its Pagefind search index.

``build_site(snapshot, output_dir)`` rebuilds everything; with ``incremental=True`` only pages whose
content changed are written (the plugin keeps a manifest), and only the search shards of provinces whose pages changed are re-indexed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from pathlib import Path
from typing import Any

from pelican import Pelican
from pelican.settings import read_settings

from public_site import search_shards
from public_site.identity import DEMO, SiteIdentity

CONF = Path(__file__).parent / "pelicanconf.py"


def build_site(snapshot: Path | dict[str, Any], output_dir: Path, *, incremental: bool = False, search: bool = True,
               site: SiteIdentity = DEMO, workers: int | None = None) -> int:
    """Return how many pages and downloads were written. ``snapshot``: the snapshot file, or the
    snapshot itself as it is written to one (the same site; it saves reading 150 MB back at 40,000
    institutions). ``site`` says who publishes it and where; ``workers``: processes to render pages
    in (default: several for a large build, else one)."""
    given = {"DISCLOSURE_SNAPSHOT_DATA": snapshot} if isinstance(snapshot, dict) else {"DISCLOSURE_SNAPSHOT": str(snapshot)}
    settings = read_settings(
        str(CONF),
        override={
            "OUTPUT_PATH": str(output_dir), **given,
            "DISCLOSURE_INCREMENTAL": incremental, "DELETE_OUTPUT_DIRECTORY": not incremental,
            "DISCLOSURE_SITE": site.as_dict(), "SITEURL": site.site_url.rstrip("/"), "AUTHOR": site.publisher,
            "DISCLOSURE_WORKERS": workers,
        },
    )
    logging.getLogger("pelican").setLevel(logging.WARNING)
    with contextlib.redirect_stdout(sys.stderr):  # Pelican's console summary is not the caller's output
        Pelican(settings).run()
    report_path = output_dir / ".disclosure-build.json"
    report = json.loads(report_path.read_text())
    if search:
        report["search_shards"] = index_search(output_dir)  # the provinces re-indexed
        report_path.write_text(json.dumps(report) + "\n")
    return report["written"]


def index_search(output_dir: Path) -> list[str]:
    """Pagefind (extended build: it segments Chinese) over the institution pages, one bundle per
    province, rebuilding only the provinces whose pages changed (public_site/search_shards.py);
    returns those provinces."""
    return search_shards.index(output_dir)
