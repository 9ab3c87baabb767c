"""The monthly "three lists" of the hazard ledger per region (问题清单、整改清单、责任清单), as
the ledger knows the month now ("挂图作战、照单销账"):

- problems: every hazard still open at month end;
- rectifications: every hazard under an order (or rectified, awaiting verification) at month end,
  and every hazard closed in the month, also one put right on the spot without an order;
- responsibilities: who answers for each open hazard, and which departments handle it.

A query over hazard record states (projections/record_states.py): each hazard's state on the last
day of the month is its standing decisions taken by then, with the deadlines that had passed by
then (an order whose deadline passed on the 15th is overdue on the month's list, whenever the
scheduler recorded it). A retracted hazard, or a retracted step, is on no list.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date
from typing import Any

from events.catalogue import Field
from events.hazards import CLOSED, HAZARD
from events.record_kinds import Record, state_on

# A list row: the hazard's state fields on the day, and what the lists add.
ROW_FIELDS = (
    Field("hazard_id", "string", "隐患编号", public=True),
    Field("status", "string", "状态", public=True),
    Field("status_name", "string", "状态名称", public=True),
    *HAZARD.fields,
)
RESPONSIBILITY_FIELDS = (
    Field("hazard_id", "string", "隐患编号", public=True),
    Field("institution_id", "string", "机构编号", public=True),
    Field("region_code", "string", "行政区划", public=True),
    Field("responsible_person", "string", "整改责任人", public=True),
    Field("departments", "array", "负责部门", public=True, items=Field("department", "string", "部门", public=True)),
)


def hazard_row(hazard_id: str, state: dict[str, Any]) -> dict[str, Any]:
    """A hazard as a list shows it: its state on the day, its id and its status's name."""
    return {"hazard_id": hazard_id, **state, "status_name": HAZARD.state_name(state["status"])}


def month_bounds(month: str) -> tuple[str, str]:
    year, mon = (int(p) for p in month.split("-"))
    return date(year, mon, 1).isoformat(), date(year, mon, calendar.monthrange(year, mon)[1]).isoformat()


def _under_rectification(row: dict[str, Any], month_start: str) -> bool:
    """On the month's rectification list: ordered or rectified and still open at month end, or
    closed in the month (also a hazard put right on the spot, without an order)."""
    if row["status"] == CLOSED:
        return row["closed_on"] >= month_start
    return bool(row["deadline"] or row["rectified_on"])


def monthly_lists(hazards: Iterable[Record], region_prefix: str, month: str) -> dict[str, Any]:
    start, end = month_bounds(month)
    rows = []
    for record in hazards:
        state = state_on(record, end)
        if state is None or not state["region_code"].startswith(region_prefix):
            continue
        rows.append(hazard_row(record["id"], state))
    rows.sort(key=lambda h: (h["region_code"], h["identified_on"], h["hazard_id"]))
    open_hazards = [h for h in rows if h["status"] != CLOSED]
    return {
        "region": region_prefix,
        "month": month,
        "as_of": end,
        "problems": open_hazards,
        "rectifications": [h for h in rows if _under_rectification(h, start)],
        "responsibilities": [
            {
                "hazard_id": h["hazard_id"], "institution_id": h["institution_id"], "region_code": h["region_code"],
                "responsible_person": h["responsible_person"],
                "departments": sorted({h["identified_by"], h["ordered_by"] or h["identified_by"], "civil_affairs"}),
            }
            for h in open_hazards
        ],
    }
