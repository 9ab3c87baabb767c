"""Inspection obligations per region: the mandatory first on-site inspection within 20 working
days of each filing or discovery (66号令), and the yearly coverage (every operating institution at
least once a calendar year).

A query over record states: the region's institutions and inspections, each as of the day asked
for. Only standing decisions count: a retracted filing creates no duty, a retracted inspection
covers nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from events.lifecycle import DISCOVERED, OPERATING
from events.record_kinds import Record, state_on
from events.working_days import recomputed_due

TRIGGERS = ("InstitutionDiscovered", "InstitutionFiled")


def obligations(institutions: Iterable[Record], inspections: Iterable[Record], region_prefix: str, as_of: str, year: int) -> dict[str, Any]:
    visits: dict[str, list[str]] = defaultdict(list)
    for record in inspections:
        state = state_on(record, as_of)
        if state is not None and state["conducted_on"]:
            visits[record["institution_id"]].append(state["conducted_on"])
    known: dict[str, dict[str, Any]] = {}
    first = []
    for record in institutions:
        state = state_on(record, as_of)
        if state is None or not state["region_code"].startswith(region_prefix):
            continue
        profile = state["profile"]
        entry = {"institution_id": record["id"], "name": profile["name"], "region_code": state["region_code"]}
        if state["status"] in (DISCOVERED, *OPERATING):
            known[record["id"]] = entry
        for decision in record["decisions"]:
            if decision["event_type"] not in TRIGGERS or decision["occurred_at"][:10] > as_of:
                continue
            triggered_on = decision["occurred_at"][:10]
            # a due date judged on a provisional calendar follows the official one once it is known
            due_by = recomputed_due(triggered_on, decision["payload"]["inspection_due_by"], decision["payload"].get("calendar"))
            after = sorted(d for d in visits[record["id"]] if d >= triggered_on)
            if after and after[0] <= due_by:
                progress = "met"
            elif after:
                progress = "met_late"
            else:
                progress = "overdue" if due_by < as_of else "pending"
            first.append({**entry, "trigger": decision["event_type"], "triggered_on": triggered_on, "due_by": due_by,
                          "state": progress, "inspected_on": after[0] if after else None})
    year_start, year_end = f"{year}-01-01", f"{year}-12-31"
    covered = sorted(i for i in known if any(year_start <= d <= year_end for d in visits[i]))
    uncovered = sorted(set(known) - set(covered))
    return {
        "region": region_prefix,
        "as_of": as_of,
        "first_inspections": sorted(first, key=lambda f: (f["due_by"], f["institution_id"])),
        "coverage": {
            "year": year,
            "institutions": len(known),
            "inspected": len(covered),
            "ratio": round(len(covered) / len(known), 4) if known else None,
            "not_inspected": [known[i] for i in uncovered],
        },
    }
