"""Pelican plugin: renders the disclosure lists from one snapshot file. It makes no decision about
what is on a list; projections/disclosure.py did that. It only reads and renders."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pelican import signals
from pelican.generators import Generator

BEIJING = timezone(timedelta(hours=8))
SNAPSHOT_FORMAT = "eldercare-disclosure-snapshot/1"

NATURE_NAMES = {"for_profit": "营利性", "non_profit": "非营利性"}
DEPARTMENT_NAMES = {
    "civil_affairs": "民政", "fire_rescue": "消防救援", "market_regulation": "市场监管", "health": "卫生健康",
    "housing": "住房城乡建设", "emergency": "应急管理", "tcm": "中医药", "hr": "人力资源社会保障",
}  # fmt: skip


def beijing_time(iso: str | None) -> str:
    if not iso:
        return "（台账为空）"
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


class DisclosureGenerator(Generator):
    def generate_context(self) -> None:
        path = Path(self.settings["DISCLOSURE_SNAPSHOT"])
        snapshot = json.loads(path.read_text(encoding="utf-8"))
        if snapshot.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"{path} is not a {SNAPSHOT_FORMAT} file")
        cut = snapshot["cut"]
        self.context["disclosure"] = snapshot
        self.context["cut"] = dict(cut, beijing_time=beijing_time(cut["recorded_at"]))
        self.context["regions"] = snapshot["regions"]
        self.context["nature_names"] = NATURE_NAMES
        self.context["department_names"] = DEPARTMENT_NAMES

    def generate_output(self, writer) -> None:
        lists = self.context["disclosure"]["lists"]
        pages = [
            ("index.html", "home", ""),
            ("filed/index.html", "filed", "../"),
            ("unfiled/index.html", "unfiled", "../"),
        ]
        for name, template, root in pages:
            writer.write_file(
                name, self.get_template(template), self.context, relative_urls=False,
                root=root, filed=lists["filed"], unfiled=lists["unfiled"], page_name=template,
            )


def get_generators(pelican_object):
    return DisclosureGenerator


def register() -> None:
    signals.get_generators.connect(get_generators)
