"""The institution document's summary of every department's records is kept incrementally (one
record's contribution re-derived per decision); for any sequence of decisions, retractions and
corrections it equals the summary derived from scratch — and survives a JSON round trip of the
document in between, as the search backends store it."""

from __future__ import annotations

import json
import uuid

from hypothesis import example, given, settings
from hypothesis import strategies as st

from projections.institution_document import fold
from projections.standing_summary import summarize

INSTITUTION = "00000000-0000-4000-8000-000000000001"
DISCOVERED = {
    "event_id": "e-0", "event_type": "InstitutionDiscovered", "aggregate_type": "Institution", "aggregate_id": INSTITUTION,
    "aggregate_version": 1, "institution_id": INSTITUTION, "seq": 1, "hash": "0" * 64, "recorded_at": "2024-01-01T00:00:00+00:00",
    "payload": {"name": "镇江市润州区测试养老院", "address": "镇江市润州区测试路1号", "region_code": "321111",
                "discovered_on": "2024-01-01", "source": "inspection", "residents": 5, "inspection_due_by": "2024-01-30",
                "calendar": "chinese_calendar 1.11.0"},
}
DAYS = st.sampled_from(["2024-01-05", "2024-03-01", "2024-03-01", "2024-06-30", "2025-02-10"])
DECISIONS = st.one_of(
    st.tuples(st.just("Hazard"), st.just("HazardIdentified"), st.fixed_dictionaries({"severity": st.sampled_from(["major", "general"])})),
    st.tuples(st.just("Hazard"), st.just("HazardVerified"), st.fixed_dictionaries({"outcome": st.sampled_from(["closed", "reopened"])})),
    st.tuples(st.just("Inspection"), st.just("InspectionConducted"), st.fixed_dictionaries({"conducted_on": DAYS})),
    st.tuples(st.just("ComplianceAssessment"), st.just("ComplianceAssessed"), st.fixed_dictionaries(
        {"standard": st.sampled_from(["GB 38600", "GB/T 35796"]), "compliant": st.booleans(), "assessed_on": DAYS})),
    st.tuples(st.just("GradingApplication"), st.just("GradeAwarded"), st.fixed_dictionaries(
        {"level": st.integers(1, 5), "awarded_on": DAYS, "valid_until": st.just("2027-12-31")})),
    st.tuples(st.just("GradingApplication"), st.just("GradeDowngraded"), st.fixed_dictionaries({"new_level": st.integers(1, 4)})),
    st.tuples(st.just("GradingApplication"), st.just("GradeRevoked"), st.just({})),
    st.tuples(st.just("CreditListing"), st.just("CreditListingProposed"), st.fixed_dictionaries(
        {"list": st.sampled_from(["joint_punishment", "key_attention"])})),
    st.tuples(st.just("CreditListing"), st.just("CreditListingDecided"), st.fixed_dictionaries(
        {"outcome": st.sampled_from(["listed", "not_listed"]), "decided_on": DAYS, "expires_on": st.just("2027-01-01")})),
    st.tuples(st.just("CreditListing"), st.just("CreditListingExpired"), st.just({})),
    st.tuples(st.just("SanctionCase"), st.just("PenaltyDecided"), st.fixed_dictionaries({"decided_on": DAYS, "penalties": st.just([])})),
    st.tuples(st.just("SanctionCase"), st.just("PenaltyDecisionReviewed"), st.fixed_dictionaries(
        {"outcome": st.sampled_from(["changed", "revoked"]), "penalties": st.just([])})),
)
STEPS = st.lists(st.tuples(st.sampled_from(["decide", "decide", "retract", "correct"]), st.integers(0, 1), DECISIONS,
                           st.integers(0, 50), st.booleans()), min_size=4, max_size=40)


TIED_GRADES = [  # an earlier record gains a grade awarded the same day as a later one's: order decides
    ("decide", 0, ("GradingApplication", "GradeDowngraded", {"new_level": 2}), 0, False),
    ("decide", 1, ("GradingApplication", "GradeAwarded", {"level": 3, "awarded_on": "2024-03-01", "valid_until": "2027-12-31"}), 0, False),
    ("decide", 0, ("GradingApplication", "GradeAwarded", {"level": 5, "awarded_on": "2024-03-01", "valid_until": "2027-12-31"}), 0, True),
]


@settings(max_examples=500, deadline=None)
@example(TIED_GRADES)
@given(STEPS)
def test_the_incremental_summary_equals_the_summary_from_scratch(steps):
    doc = fold(None, DISCOVERED)
    decided: list[tuple[str, str, str]] = []  # (aggregate id, event id, event type) of standing decisions
    for n, (action, record, (aggregate_type, event_type, payload), pick, round_trip) in enumerate(steps, start=2):
        aggregate_id = f"{aggregate_type}-{record}"
        envelope = {"event_id": f"e-{n}", "aggregate_type": aggregate_type, "aggregate_id": aggregate_id,
                    "aggregate_version": n, "institution_id": INSTITUTION, "seq": n, "hash": uuid.uuid4().hex * 2,
                    "recorded_at": "2024-01-02T00:00:00+00:00"}
        if action == "decide" or not decided:
            envelope |= {"event_type": event_type, "payload": payload}
            decided.append((aggregate_id, envelope["event_id"], event_type))
        else:
            target_aggregate, original, original_type = decided[pick % len(decided)]
            envelope["aggregate_id"] = target_aggregate
            if action == "retract":
                envelope |= {"event_type": "DecisionRetracted", "payload": {"original_event_id": original}}
            else:
                envelope |= {"event_type": "DecisionCorrected", "payload": {"original_event_id": original, "corrected": payload}}
        doc = fold(doc, envelope)
        if round_trip:
            doc = json.loads(json.dumps(doc))
        assert doc["summary"] == summarize(doc["related"])
