"""Build the site from one disclosure snapshot: ``build_site(snapshot, output_dir)``."""

from __future__ import annotations

import logging
from pathlib import Path

from pelican import Pelican
from pelican.settings import read_settings

CONF = Path(__file__).parent / "pelicanconf.py"


def build_site(snapshot_path: Path, output_dir: Path) -> Path:
    settings = read_settings(
        str(CONF),
        override={"OUTPUT_PATH": str(output_dir), "DISCLOSURE_SNAPSHOT": str(snapshot_path)},
    )
    logging.getLogger("pelican").setLevel(logging.WARNING)
    Pelican(settings).run()
    return output_dir
