"""Inspection obligations per region: the mandatory first on-site inspection within 20 working
days of each filing or discovery (66号令), and the yearly coverage (every operating institution at
least once a calendar year). A pure fold of registration and InspectionConducted events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

EVENTS = ("InstitutionDiscovered", "InstitutionFiled", "InspectionConducted")


def obligations(envelopes: Iterable[dict[str, Any]], region_prefix: str, as_of: str, year: int) -> dict[str, Any]:
    institutions: dict[str, dict[str, Any]] = {}
    triggers: list[dict[str, Any]] = []
    visits: dict[str, list[str]] = {}
    for e in envelopes:
        if e["occurred_at"] > as_of:
            continue
        p, iid = e["payload"], e["institution_id"]
        if e["event_type"] == "InspectionConducted":
            visits.setdefault(iid, []).append(p["conducted_on"])
            continue
        institutions[iid] = {"institution_id": iid, "name": p["name"], "region_code": p["region_code"]}
        triggered_on = p.get("filed_on") or p["discovered_on"]
        triggers.append({"institution_id": iid, "trigger": e["event_type"], "triggered_on": triggered_on, "due_by": p["inspection_due_by"]})
    in_region = {i for i, v in institutions.items() if v["region_code"].startswith(region_prefix)}

    first = []
    for t in triggers:
        if t["institution_id"] not in in_region:
            continue
        after = sorted(d for d in visits.get(t["institution_id"], []) if d >= t["triggered_on"])
        if after and after[0] <= t["due_by"]:
            state = "met"
        elif after:
            state = "met_late"
        else:
            state = "overdue" if t["due_by"] < as_of else "pending"
        first.append({**institutions[t["institution_id"]], **t, "state": state, "inspected_on": after[0] if after else None})

    year_start, year_end = f"{year}-01-01", f"{year}-12-31"
    covered = sorted(i for i in in_region if any(year_start <= d <= year_end for d in visits.get(i, [])))
    uncovered = sorted(in_region - set(covered))
    return {
        "region": region_prefix,
        "as_of": as_of,
        "first_inspections": sorted(first, key=lambda f: (f["due_by"], f["institution_id"])),
        "coverage": {
            "year": year,
            "institutions": len(in_region),
            "inspected": len(covered),
            "ratio": round(len(covered) / len(in_region), 4) if in_region else None,
            "not_inspected": [institutions[i] for i in uncovered],
        },
    }
