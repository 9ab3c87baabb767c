"""What an institution's records add up to — open hazards, the grade it holds, its credit-list
entries, its last inspection, the penalties standing against it, its standards compliance — read
from the records' states (events/record_kinds.py), once, for everyone: the rules that look across
records (grading eligibility, listing grounds, the draw's risk classes), the institution's search
document and the public lists.

Each related record *contributes* a few facts derived from its own state alone; the summary is
derived from the contributions. A record's contribution changes only when its state does, so a
projection re-derives one record's contribution per event.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from events.credit import ACTIVE
from events.grading import HOLDING
from events.hazards import CLOSED as HAZARD_CLOSED
from events.record_kinds import RETRACTED, Record, State

RELATED_KINDS = ("Hazard", "SanctionCase", "CreditListing", "GradingApplication", "Inspection", "ComplianceAssessment")


def stands(record: Record) -> bool:
    return record["state"]["status"] != RETRACTED


def is_open_hazard(state: State) -> bool:
    return state["status"] not in (HAZARD_CLOSED, RETRACTED)


def holds_grade(state: State) -> bool:
    return state["status"] in HOLDING


def is_listed(state: State) -> bool:
    """A current entry on either credit list (decided, published or not)."""
    return state["status"] in ACTIVE


def is_published_listing(state: State) -> bool:
    """A current entry the public may see: published on the joint-punishment list."""
    return state["status"] == "published" and state["list"] == "joint_punishment"


def effective_penalties(state: State) -> list[dict[str, Any]]:
    """The penalties that stand: none if the decision was revoked or found unlawful or void."""
    decision, review = state.get("decision"), state.get("review")
    if decision is None or state["status"] == RETRACTED or (review and review["outcome"] != "changed"):
        return []
    return decision["penalties"]


def contribution(record: Record) -> dict[str, Any]:
    """What one related record adds to the summary while it stands. Lists, not tuples, so that it
    compares equal after a JSON round trip."""
    state, kind = record["state"], record["kind"]
    if not stands(record):
        return {}
    if kind == "Hazard":
        return {"hazard": state["severity"]} if is_open_hazard(state) else {}
    if kind == "GradingApplication" and state["status"] == "in_publicity":
        return {"publicity": {"application_id": record["id"], "level": state["approved_level"],
                              "started_on": state["publicity_started_on"], "ends_on": state["publicity_ends_on"]}}
    if kind == "GradingApplication" and holds_grade(state):
        return {"grade": {"level": state["level"], "awarded_on": state["awarded_on"], "valid_until": state["valid_until"],
                          "awarded_by": state.get("awarded_by")}}
    if kind == "CreditListing" and is_listed(state):
        return {"listing": state["list"], "public_listing": is_published_listing(state)}
    if kind == "Inspection" and state.get("conducted_on"):
        return {"inspection": state["conducted_on"]}
    if kind == "SanctionCase" and effective_penalties(state):
        return {"penalty": state["decision"]["decided_on"]}
    if kind == "ComplianceAssessment":
        return {"compliance": [state["standard"], state["assessed_on"], state["compliant"], record["id"]]}
    return {}


def summarize(contributions: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The summary of an institution's related records, from their contributions (in any order:
    ties are broken by the newer date, then the record id, so the order never matters)."""
    major = general = penalties = 0
    grade, inspection, last_penalty, publicity = None, None, None, None
    listings: set[str] = set()
    public_listings: set[str] = set()
    compliance: dict[str, list[Any]] = {}
    for c in contributions:
        if "hazard" in c:
            major, general = major + (c["hazard"] == "major"), general + (c["hazard"] == "general")
        if "grade" in c and (grade is None or (c["grade"]["awarded_on"], c["grade"]["level"]) > (grade["awarded_on"], grade["level"])):
            grade = c["grade"]
        if "publicity" in c and (publicity is None or (c["publicity"]["started_on"], c["publicity"]["application_id"])
                                 > (publicity["started_on"], publicity["application_id"])):
            publicity = c["publicity"]
        if "listing" in c:
            listings.add(c["listing"])
            if c["public_listing"]:
                public_listings.add(c["listing"])
        if "inspection" in c and (inspection is None or c["inspection"] > inspection):
            inspection = c["inspection"]
        if "penalty" in c:
            penalties += 1
            last_penalty = max(last_penalty or c["penalty"], c["penalty"])
        if "compliance" in c:
            standard, assessed_on, compliant, record_id = c["compliance"]
            if standard not in compliance or (assessed_on, record_id) > tuple(compliance[standard][:2]):
                compliance[standard] = [assessed_on, record_id, compliant]
    return {
        "open_hazards": {"major": major, "general": general},
        "grade": grade,
        "grade_level": grade["level"] if grade else 0,
        "grading_publicity": publicity,
        "listings": sorted(listings),
        "public_listings": sorted(public_listings),
        "last_inspection_on": inspection,
        "penalties": penalties,
        "last_penalty_on": last_penalty,
        "compliance": {standard: c[2] for standard, c in sorted(compliance.items())},
    }


def summary_of(records: Iterable[Record]) -> dict[str, Any]:
    return summarize(contribution(r) for r in records)


def current_grade(applications: Iterable[Record], on: str) -> Record | None:
    """The latest award still held on ``on`` (a later award replaces an earlier one)."""
    awarded = [a for a in applications if a["state"].get("awarded_on") and stands(a)]
    if not awarded:
        return None
    latest = max(awarded, key=lambda a: (a["state"]["awarded_on"], a["id"]))
    state = latest["state"]
    return latest if holds_grade(state) and state["valid_until"] >= on else None


def latest_compliance(assessments: Iterable[Record], standard: str) -> Record | None:
    matching = [a for a in assessments if a["state"]["standard"] == standard and stands(a)]
    return max(matching, key=lambda a: (a["state"]["assessed_on"], a["id"])) if matching else None
