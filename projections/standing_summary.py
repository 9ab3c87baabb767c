"""What every department's records say about an institution, summed up for its search document:
current grade, credit-list entries, open hazards, last inspection, penalties, standards compliance.

The document keeps, per related record (hazard, case, listing, grading, inspection, assessment),
the few facts of each of its decisions still standing; a retraction drops the latest, a correction
patches the facts it names. The summary is recomputed from those facts, so it never drifts from
the records however the decisions arrived.
"""

from __future__ import annotations

from typing import Any

RELATED_TYPES = ("Hazard", "SanctionCase", "CreditListing", "GradingApplication", "Inspection", "ComplianceAssessment")
# The payload facts the summary needs, per event type.
FACTS = {
    "HazardIdentified": ("severity",),
    "HazardVerified": ("outcome",),
    "PenaltyDecided": ("decided_on", "penalties"),
    "PenaltyDecisionReviewed": ("outcome", "penalties"),
    "CreditListingProposed": ("list",),
    "CreditListingDecided": ("outcome", "decided_on", "expires_on"),
    "GradeAwarded": ("level", "awarded_on", "valid_until"),
    "GradeDowngraded": ("new_level",),
    "InspectionConducted": ("conducted_on",),
    "ComplianceAssessed": ("standard", "compliant", "assessed_on"),
}
ENDS_GRADE = ("GradeRevoked", "GradeLapsed")
ENDS_LISTING = ("CreditListingRemovedEarly", "CreditListingExpired")


def record_fact(related: dict[str, list], envelope: dict[str, Any]) -> dict[str, list]:
    """The related-records facts after ``envelope`` (a decision on a related record)."""
    aggregate_id, event_type, payload = envelope["aggregate_id"], envelope["event_type"], envelope["payload"]
    entries = list(related.get(aggregate_id, []))
    if event_type == "DecisionRetracted":
        entries = [e for e in entries if e["event_id"] != payload["original_event_id"]]
    elif event_type == "DecisionCorrected":
        entries = [
            dict(e, **{k: v for k, v in payload["corrected"].items() if k in FACTS.get(e["type"], ())})
            if e["event_id"] == payload["original_event_id"] else e
            for e in entries
        ]
    else:
        facts = {k: payload[k] for k in FACTS.get(event_type, ()) if k in payload}
        entries.append({"event_id": envelope["event_id"], "type": event_type, **facts})
    out = dict(related)
    if entries:
        out[aggregate_id] = entries
    else:
        out.pop(aggregate_id, None)
    return out


def _of(entries: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [e for e in entries if e["type"] == event_type]


def summarize(related: dict[str, list]) -> dict[str, Any]:
    open_hazards = {"major": 0, "general": 0}
    grade = None
    listings: set[str] = set()
    inspections: list[str] = []
    penalties: list[str] = []
    compliance: dict[str, tuple[str, bool]] = {}
    for entries in related.values():
        kinds = {e["type"] for e in entries}
        if "HazardIdentified" in kinds:
            verdicts = _of(entries, "HazardVerified")
            if not (verdicts and verdicts[-1]["outcome"] == "closed"):
                open_hazards[_of(entries, "HazardIdentified")[0]["severity"]] += 1
        if "GradeAwarded" in kinds and not kinds & set(ENDS_GRADE):
            award = _of(entries, "GradeAwarded")[-1]
            downgrades = _of(entries, "GradeDowngraded")
            level = downgrades[-1]["new_level"] if downgrades else award["level"]
            if grade is None or award["awarded_on"] > grade["awarded_on"]:
                grade = {"level": level, "awarded_on": award["awarded_on"], "valid_until": award["valid_until"]}
        decided = _of(entries, "CreditListingDecided")
        if decided and decided[-1]["outcome"] == "listed" and not kinds & set(ENDS_LISTING):
            listings.add(_of(entries, "CreditListingProposed")[0]["list"])
        inspections += [e["conducted_on"] for e in _of(entries, "InspectionConducted")]
        decisions = _of(entries, "PenaltyDecided")
        reviews = _of(entries, "PenaltyDecisionReviewed")
        if decisions and not (reviews and reviews[-1]["outcome"] != "changed"):
            penalties.append(decisions[-1]["decided_on"])
        for e in _of(entries, "ComplianceAssessed"):
            if e["standard"] not in compliance or compliance[e["standard"]][0] <= e["assessed_on"]:
                compliance[e["standard"]] = (e["assessed_on"], e["compliant"])
    return {
        "open_hazards": open_hazards,
        "grade": grade,
        "grade_level": grade["level"] if grade else 0,
        "listings": sorted(listings),
        "last_inspection_on": max(inspections) if inspections else None,
        "penalties": len(penalties),
        "last_penalty_on": max(penalties) if penalties else None,
        "compliance": {standard: compliant for standard, (_, compliant) in sorted(compliance.items())},
    }
