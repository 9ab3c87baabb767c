"""What every department's records say about an institution, summed up for its search document:
current grade, credit-list entries, open hazards, last inspection, penalties, standards compliance.

The document keeps, per related record (hazard, case, listing, grading, inspection, assessment),
the few facts of each of its decisions still standing; a retraction drops the latest, a correction
patches the facts it names. Each record's contribution to the summary is derived from its facts
alone and the summary from the contributions, so it never drifts from the records however the
decisions arrived; one decision re-derives only its own record's contribution (a long history
costs the same per event as a short one).
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


# -- one related record's contribution ------------------------------------------------------------


def contribution(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """What one related record adds to the summary while its decisions stand: an open hazard's
    severity, a standing grade, a current credit-list entry, inspection dates, a standing penalty,
    standards assessments. Lists, not tuples, so that it compares equal after a JSON round trip."""
    out: dict[str, Any] = {}
    kinds = {e["type"] for e in entries}
    if "HazardIdentified" in kinds:
        verdicts = _of(entries, "HazardVerified")
        if not (verdicts and verdicts[-1]["outcome"] == "closed"):
            out["hazard"] = _of(entries, "HazardIdentified")[0]["severity"]
    if "GradeAwarded" in kinds and not kinds & set(ENDS_GRADE):
        award = _of(entries, "GradeAwarded")[-1]
        downgrades = _of(entries, "GradeDowngraded")
        level = downgrades[-1]["new_level"] if downgrades else award["level"]
        out["grade"] = {"level": level, "awarded_on": award["awarded_on"], "valid_until": award["valid_until"]}
    decided = _of(entries, "CreditListingDecided")
    proposed = _of(entries, "CreditListingProposed")
    if decided and proposed and decided[-1]["outcome"] == "listed" and not kinds & set(ENDS_LISTING):
        out["listing"] = proposed[0]["list"]
    inspections = [e["conducted_on"] for e in _of(entries, "InspectionConducted")]
    if inspections:
        out["inspections"] = inspections
    decisions = _of(entries, "PenaltyDecided")
    reviews = _of(entries, "PenaltyDecisionReviewed")
    if decisions and not (reviews and reviews[-1]["outcome"] != "changed"):
        out["penalty"] = decisions[-1]["decided_on"]
    assessed = [[e["standard"], e["assessed_on"], e["compliant"]] for e in _of(entries, "ComplianceAssessed")]
    if assessed:
        out["compliance"] = assessed
    return out


# -- the tally of all contributions, and the summary it gives -----------------------------------


def empty_tally() -> dict[str, Any]:
    return {"major": 0, "general": 0, "grade": None, "listings": {}, "inspection": None, "penalties": 0,
            "last_penalty": None, "compliance": {}}


def _copy(tally: dict[str, Any]) -> dict[str, Any]:
    return {**tally, "listings": dict(tally["listings"]), "compliance": dict(tally["compliance"])}


def _add(tally: dict[str, Any], c: dict[str, Any]) -> None:
    """Add one contribution, as the records are met in order (a later grade must be strictly
    newer to win; a later assessment of the same standard wins if not older)."""
    if "hazard" in c:
        tally[c["hazard"]] += 1
    if "grade" in c and (tally["grade"] is None or c["grade"]["awarded_on"] > tally["grade"]["awarded_on"]):
        tally["grade"] = c["grade"]
    if "listing" in c:
        tally["listings"][c["listing"]] = True
    if "inspections" in c:
        latest = max(c["inspections"])
        if tally["inspection"] is None or latest > tally["inspection"]:
            tally["inspection"] = latest
    if "penalty" in c:
        tally["penalties"] += 1
        if tally["last_penalty"] is None or c["penalty"] > tally["last_penalty"]:
            tally["last_penalty"] = c["penalty"]
    for standard, assessed_on, compliant in c.get("compliance", ()):
        if standard not in tally["compliance"] or tally["compliance"][standard][0] <= assessed_on:
            tally["compliance"][standard] = [assessed_on, compliant]


def combine(contributions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    tally = empty_tally()
    for c in contributions.values():
        _add(tally, c)
    return tally


ORDER_SENSITIVE = ("grade", "compliance")


def retally(tally: dict[str, Any], contributions: dict[str, dict[str, Any]],
            before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """The tally after one record's contribution went from ``before`` to ``after`` (None: the
    record was not / is no longer among the related records). ``contributions`` is already the new
    set, in the related records' order. Cheap for what happens most (a new record, a hazard
    closing); anything else is recombined from all contributions."""
    if before == after:
        return tally
    if after and not before and (before is None or not any(k in after for k in ORDER_SENSITIVE)):
        new = _copy(tally)  # a record appended at the end, or order does not matter for what it adds
        _add(new, after)
        return new
    if before is not None and after is not None and _without_hazard(before) == _without_hazard(after):
        new = dict(tally)
        if "hazard" in before:
            new[before["hazard"]] -= 1
        if "hazard" in after:
            new[after["hazard"]] += 1
        return new
    return combine(contributions)


def _without_hazard(c: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in c.items() if k != "hazard"}


def summary_of(tally: dict[str, Any]) -> dict[str, Any]:
    grade = tally["grade"]
    return {
        "open_hazards": {"major": tally["major"], "general": tally["general"]},
        "grade": grade,
        "grade_level": grade["level"] if grade else 0,
        "listings": sorted(tally["listings"]),
        "last_inspection_on": tally["inspection"],
        "penalties": tally["penalties"],
        "last_penalty_on": tally["last_penalty"],
        "compliance": {standard: compliant for standard, (_, compliant) in sorted(tally["compliance"].items())},
    }


def summarize(related: dict[str, list]) -> dict[str, Any]:
    """The summary of a set of related records, from scratch."""
    return summary_of(combine({aggregate_id: contribution(entries) for aggregate_id, entries in related.items()}))
