"""What needs an officer's attention in a region today, as a query over record states
(projections/record_states.py), each as of today (a deadline passed today counts, whether or not
the scheduler has recorded it yet):

- hazards: open ones whose rectification deadline has passed (overdue), those due within the next
  seven days, and those identified without a rectification order yet;
- unfiled institutions whose handling deadline has passed or falls within the next fourteen days.

Retracted records are on no list.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from events.catalogue import Field
from events.hazards import CLOSED
from events.lifecycle import DISCOVERED, handling_deadline
from events.record_kinds import Record, state_on
from events.regions import full_name
from projections.hazard_lists import hazard_row

HAZARD_DAYS, HANDLING_DAYS = 7, 14
KINDS = ("Hazard", "Institution")
INSTITUTION_NAME = Field("institution_name", "string", "机构名称", public=True)
UNFILED_FIELDS = (
    Field("institution_id", "string", "机构编号", public=True),
    Field("name", "string", "机构名称", public=True),
    Field("region_code", "string", "行政区划", public=True),
    Field("region_name", "string", "所在地区", public=True),
    Field("handling_deadline", "string", "办结时限", public=True),
    Field("overdue", "boolean", "是否逾期", public=True),
)


def worklist(records: Iterable[Record], region_prefix: str, today: date) -> dict[str, Any]:
    day, week, fortnight = today.isoformat(), (today + timedelta(days=HAZARD_DAYS)).isoformat(), (today + timedelta(days=HANDLING_DAYS)).isoformat()
    overdue, due_soon, unordered, unfiled = [], [], [], []
    records = list(records)
    names = {r["id"]: r["state"]["profile"]["name"] for r in records if r["kind"] == "Institution" and r["state"].get("profile")}
    for record in records:
        state = state_on(record, day)
        if state is None or not (state.get("region_code") or "").startswith(region_prefix):
            continue
        if record["kind"] == "Hazard" and state["status"] != CLOSED:
            row = hazard_row(record["id"], state) | {"institution_name": names.get(state["institution_id"], "")}
            deadline = state.get("deadline")
            if deadline and not state.get("rectified_on") and deadline < day:
                overdue.append(row)
            elif deadline and not state.get("rectified_on") and deadline <= week:
                due_soon.append(row)
            elif not deadline and not state.get("rectified_on"):
                unordered.append(row)
        elif record["kind"] == "Institution" and state["status"] == DISCOVERED:
            deadline = handling_deadline(state)
            if deadline and deadline <= fortnight:
                unfiled.append({"institution_id": record["id"], "name": state["profile"]["name"], "region_code": state["region_code"],
                                "region_name": full_name(state["region_code"]), "handling_deadline": deadline, "overdue": deadline < day})
    key = lambda r: (r.get("deadline") or r.get("identified_on") or "", r["region_code"], r["hazard_id"])  # noqa: E731
    return {
        "region": region_prefix, "as_of": day,
        "hazards_overdue": sorted(overdue, key=key), "hazards_due_soon": sorted(due_soon, key=key),
        "hazards_without_order": sorted(unordered, key=key),
        "unfiled_handling": sorted(unfiled, key=lambda r: (r["handling_deadline"], r["region_code"], r["institution_id"])),
    }
