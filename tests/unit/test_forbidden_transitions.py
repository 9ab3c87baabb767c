"""Forbidden transitions: each step refused from a state the procedure does not allow, by the
competent department, with a state-invalid code (dry runs on one prepared ledger)."""

from __future__ import annotations

from datetime import date

import pytest

from services.domain.actors import Actor
from services.domain.errors import Conflict, RuleViolation
from services.ledger.application import Basis, Command
from tests.conftest import county_officer
from tests.unit.test_authorization_matrix import prepared

CIVIL = county_officer()
FIRE = Actor("fire_rescue", "county", "321111", "消防")
BASIS = Basis("禁止〔2024〕1号", "测试依据")

# (operation, record in the prepared world, request, actor, expected code)
FORBIDDEN = [
    ("institution.resume", "institution", {"resumed_on": "2024-05-06", "verification": "合格"}, CIVIL, "INSTITUTION_STATE_INVALID"),
    ("institution.resettle", "institution", {"resettled_on": "2024-05-06", "residents": 1, "summary": "x"}, CIVIL, "INSTITUTION_STATE_INVALID"),
    ("institution.close", "institution", {"kind": "close", "closed_on": "2024-05-06"}, CIVIL, "INSTITUTION_STATE_INVALID"),
    ("institution.change", "unfiled", {"changes": {"beds": 30}, "changed_on": "2024-05-06"}, CIVIL, "INSTITUTION_STATE_INVALID"),
    ("institution.update_handling", "institution",
     {"handling": {"referred_to": [], "reason": "x", "measures": "x", "deadline": "2024-07-01", "responsible_person": "x"},
      "updated_on": "2024-05-06"}, CIVIL, "INSTITUTION_STATE_INVALID"),
    ("hazard.verify", "hazard", {"verified_on": "2024-05-06", "outcome": "closed"}, FIRE, "HAZARD_STATE_INVALID"),
    ("hazard.order", "hazard_closed", {"measures": "x", "ordered_on": "2024-05-06", "deadline": "2024-06-01"}, FIRE, "HAZARD_STATE_INVALID"),
    ("hazard.rectify", "hazard_closed", {"rectified_on": "2024-05-06", "measures_taken": "x"}, FIRE, "HAZARD_STATE_INVALID"),
    ("inspection.publish", "inspection", {"published_on": "2024-05-20", "public_summary": "x"}, CIVIL, "INSPECTION_STATE_INVALID"),
    ("inspection.conduct", "inspection_done", {"conducted_on": "2024-05-14", "inspectors_present": ["ZF-1", "ZF-2"], "findings": [],
                                               "summary": "x"}, CIVIL, "INSPECTION_STATE_INVALID"),
    ("sanction.decide", "case", {"decision_no": "禁-1", "decided_on": "2024-05-20", "violation_type": "x", "facts": "x", "legal_basis": "x",
                                 "penalties": [{"type": "warning"}], "compliance": "x", "remedies": "x", "deciding_authority": "x"},
     CIVIL, "CASE_STATE_INVALID"),
    ("sanction.serve", "case", {"served_on": "2024-05-20"}, CIVIL, "CASE_STATE_INVALID"),
    ("sanction.execute", "listing_case", {"executed_on": "2024-05-20", "details": "x"}, CIVIL, "CASE_STATE_INVALID"),
    ("sanction.publish", "case", {"published_on": "2024-05-20", "publication_class": "ordinary"}, CIVIL, "CASE_STATE_INVALID"),
    ("sanction.close", "case", {"closed_on": "2024-05-20", "outcome": "executed"}, CIVIL, "CASE_STATE_INVALID"),
    ("sanction.notify", "listing_case", {"served_on": "2024-05-20", "penalties": [{"type": "warning"}], "facts": "x", "legal_basis": "x"},
     CIVIL, "CASE_STATE_INVALID"),
    ("sanction.withdraw_publication", "listing_case", {"withdrawn_on": "2024-05-20", "reason": "x"}, CIVIL, "NOT_PUBLISHED"),
    ("listing.decide", "listing", {"outcome": "listed", "decided_on": "2024-05-20", "reasons": "x"}, CIVIL, "LISTING_STATE_INVALID"),
    ("listing.publish", "listing", {"published_on": "2024-05-20"}, CIVIL, "LISTING_STATE_INVALID"),
    ("listing.remove_early", "listing", {"applied_on": "2026-05-20", "removed_on": "2026-05-20", "basis_of_removal": "no_new_violation"},
     CIVIL, "LISTING_STATE_INVALID"),
    ("grading.score", "grading", {"assessed_on": "2024-05-10", "scores": {"environment": 1, "facilities": 1, "operations": 1, "service": 1}},
     CIVIL, "GRADING_STATE_INVALID"),
    ("grading.award", "grading", {"awarded_on": "2024-05-21", "certificate_no": "x"}, CIVIL, "GRADING_STATE_INVALID"),
    ("grading.downgrade", "grading", {"new_level": 1, "decided_on": "2024-05-21", "reason": "x"}, CIVIL, "GRADING_STATE_INVALID"),
    ("inspection_plan.draw", "plan_drawn", {"inspector_pool": [{"inspector_id": "A", "department": "civil_affairs"},
                                                              {"inspector_id": "B", "department": "civil_affairs"}], "drawn_on": "2024-05-08"},
     CIVIL, "ALREADY_DRAWN"),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from services.ledger.application import open_ledger
    from tests.conftest import Clock

    clock = Clock()
    app, _ = open_ledger(tmp_path_factory.mktemp("forbidden") / "ledger.sqlite", clock=clock)
    state = prepared(app, clock)
    run = lambda name, request, target, actor=CIVIL: app.execute(name, Command(actor, BASIS, request), target)  # noqa: E731
    closed = app.execute("hazard.identify", Command(FIRE, BASIS, {
        "institution_id": state["institution"], "severity": "general", "category": "other", "criterion_ref": "OTHER",
        "description": "x", "responsible_person": "x", "identified_on": "2024-05-06"})).aggregate_id
    run("hazard.rectify", {"rectified_on": "2024-05-06", "measures_taken": "x"}, closed, FIRE)
    run("hazard.verify", {"verified_on": "2024-05-06", "outcome": "closed"}, closed, FIRE)
    clock.set(date(2024, 6, 3))
    done = app.execute("inspection.schedule", Command(CIVIL, BASIS, {
        "institution_id": state["institution"], "kind": "special", "departments": ["civil_affairs"], "inspectors": ["ZF-1", "ZF-2"],
        "scheduled_on": "2024-05-13", "notice_given_on": "2024-05-07"})).aggregate_id
    run("inspection.conduct", {"conducted_on": "2024-05-13", "inspectors_present": ["ZF-1", "ZF-2"], "findings": [], "summary": "x"}, done)
    listing = app.execute("listing.propose", Command(CIVIL, BASIS, {
        "institution_id": state["institution"], "list": "key_attention", "ground": "elder_rights_harm", "grounding_kind": "sanction_case",
        "grounding_ref": state["listing_case"], "proposed_on": "2024-05-06"})).aggregate_id
    drawn = state["plan"]
    run("inspection_plan.draw", {"inspector_pool": [{"inspector_id": f"P{i}", "department": "civil_affairs"} for i in range(4)],
                                 "drawn_on": "2024-05-07"}, drawn)
    state.update(hazard_closed=closed, inspection_done=done, listing=listing, plan_drawn=drawn)
    yield app, state
    app.close()


@pytest.mark.parametrize("operation, record, request_, actor, code", FORBIDDEN, ids=[f"{f[0]}-{f[1]}" for f in FORBIDDEN])
def test_a_step_out_of_order_is_refused(world, operation, record, request_, actor, code):
    app, state = world
    with pytest.raises((Conflict, RuleViolation)) as refused:
        app.execute(operation, Command(actor, BASIS, request_), state[record], dry_run=True)
    assert refused.value.code == code
