"""The shapes of the API's path and query parameters, declared once: every route takes its ledger
positions, region codes and months from here, so the same bound holds everywhere and an
out-of-shape value is a 422 ``QUERY_INVALID`` naming the parameter (services/api/errors.py), never
a storage error.

A ledger position is bounded by what the ledger can write exactly (canonical JSON integers,
events/canonical.py): a larger one names nothing and is refused before any lookup.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path, Query

from events.canonical import SAFE_INTEGER
from services.domain.errors import RuleViolation

MAX_POSITION = SAFE_INTEGER - 1
DIGITS = re.compile(r"[0-9]+")


def position_query(description: str, *, ge: int = 0, alias: str | None = None):
    return Query(ge=ge, le=MAX_POSITION, alias=alias, description=description)


SeqQuery = Annotated[int | None, position_query("台账序号")]
TreeSizePath = Annotated[int, Path(ge=0, le=MAX_POSITION, title="树规模")]
RegionQuery = Annotated[str, Query(description="省、市或县级行政区划代码", pattern=r"^[0-9]{6}$")]
MonthQuery = Annotated[str, Query(description="月份 YYYY-MM，清单截至该月末", pattern=r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$")]


def ledger_seq(text: str, name: str) -> int | None:
    """``text`` as a ledger position if it is one (ASCII digits within range), else None."""
    if not DIGITS.fullmatch(text):
        return None
    if len(text) > len(str(MAX_POSITION)) or int(text) > MAX_POSITION:
        raise RuleViolation("QUERY_INVALID", f"查询参数 {name} 超出台账序号范围", f"query parameter {name} is beyond any ledger position", field=name)
    return int(text)
