"""The monthly "three lists" of the hazard ledger per region (问题清单、整改清单、责任清单),
as the ledger stood at the end of the month ("挂图作战、照单销账").

- problems: every hazard still open at month end;
- rectifications: every hazard under an order at month end, and every hazard closed in the month;
- responsibilities: who answers for each open hazard, and which departments handle it.
A pure fold of the hazard events whose legal date (``occurred_at``) falls on or before month end.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date
from typing import Any

HAZARD_EVENTS = (
    "HazardIdentified", "HazardRectificationOrdered", "HazardRectified", "HazardVerified", "HazardOverdue", "HazardEscalated",
)


def month_end(month: str) -> date:
    year, mon = (int(p) for p in month.split("-"))
    return date(year, mon, calendar.monthrange(year, mon)[1])


def _status_after(entry: dict[str, Any], envelope: dict[str, Any]) -> str:
    event_type, payload = envelope["event_type"], envelope["payload"]
    if event_type == "HazardRectificationOrdered":
        return "ordered"
    if event_type == "HazardRectified":
        return "rectified"
    if event_type == "HazardOverdue":
        return "overdue"
    if event_type == "HazardVerified":
        if payload["outcome"] == "closed":
            return "closed"
        deadline = entry.get("deadline")
        if deadline is None:
            return "identified"
        return "overdue" if payload["verified_on"] > deadline else "ordered"
    return entry["status"]  # HazardEscalated changes measures, not the hazard's state


def monthly_lists(envelopes: Iterable[dict[str, Any]], region_prefix: str, month: str) -> dict[str, Any]:
    end = month_end(month).isoformat()
    start = f"{month}-01"
    hazards: dict[str, dict[str, Any]] = {}
    for envelope in envelopes:
        if envelope["event_type"] not in HAZARD_EVENTS or envelope["occurred_at"] > end:
            continue
        hazard_id = envelope["aggregate_id"]
        if envelope["event_type"] == "HazardIdentified":
            p = envelope["payload"]
            if not p["region_code"].startswith(region_prefix):
                continue
            hazards[hazard_id] = {
                "hazard_id": hazard_id, "institution_id": p["institution_id"], "region_code": p["region_code"],
                "severity": p["severity"], "category": p["category"], "criterion_ref": p["criterion_ref"],
                "description": p["description"], "identified_on": p["identified_on"],
                "responsible_person": p["responsible_person"], "identified_by": envelope["actor"]["department"],
                "status": "identified", "escalations": [],
            }
            continue
        entry = hazards.get(hazard_id)
        if entry is None:
            continue
        entry["status"] = _status_after(entry, envelope)
        p = envelope["payload"]
        if envelope["event_type"] == "HazardRectificationOrdered":
            entry.update(measures=p["measures"], deadline=p["deadline"], ordered_by=envelope["actor"]["department"])
        elif envelope["event_type"] == "HazardVerified" and p["outcome"] == "closed":
            entry["closed_on"] = p["verified_on"]
        elif envelope["event_type"] == "HazardEscalated":
            entry["escalations"].append(p["step"])
    ordered = sorted(hazards.values(), key=lambda h: (h["region_code"], h["identified_on"], h["hazard_id"]))
    open_hazards = [h for h in ordered if h["status"] != "closed"]
    return {
        "region": region_prefix,
        "month": month,
        "as_of": end,
        "problems": open_hazards,
        "rectifications": [h for h in ordered if "deadline" in h and (h["status"] != "closed" or h.get("closed_on", "") >= start)],
        "responsibilities": [
            {
                "hazard_id": h["hazard_id"], "institution_id": h["institution_id"], "responsible_person": h["responsible_person"],
                "departments": sorted({h["identified_by"], h.get("ordered_by", h["identified_by"]), "civil_affairs"}),
            }
            for h in open_hazards
        ],
    }
