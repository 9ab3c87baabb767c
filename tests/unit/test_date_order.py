"""Dates that cannot run backwards (issue #12): in every multi-step family a step dated before the
step it follows is refused, by one shared check in the command pipeline, and records nothing; a
correction cannot move a decision's date past its neighbours; steps the scheduler records when a
date passes do not hold back a step that happened before them."""

from datetime import date

import pytest

from services.domain.actors import Actor
from services.domain.credit_code import with_check_character
from services.domain.hazard import Hazard
from services.ledger.application import Basis, Command
from services.ledger.scheduler import run_due
from tests.conftest import command, county_officer, decide, discovery_request, filing_request, refused
from tests.unit.test_credit_listing_rules import penalty_case, proposal

FIRE = Actor("fire_rescue", "county", "321111", "消防监督员")
CIVIL = county_officer()
BASIS = Basis("润消责〔2024〕9号", "《消防法》第六十条")


@pytest.fixture
def institution(ledger):
    app, _ = ledger
    return str(app.file_new(command(filing_request())).institution_id)


def run(app, name, request, target=None, actor=FIRE):
    return app.execute(name, Command(actor, BASIS, request), target)


def hazard(app, institution, identified_on="2024-05-20"):
    return run(app, "hazard.identify", {
        "institution_id": institution, "severity": "general", "category": "fire_safety", "criterion_ref": "GB38600-4",
        "description": "灭火器过期", "responsible_person": "院长", "identified_on": identified_on}).aggregate_id


def test_each_hazard_step_follows_the_one_before(ledger, institution):
    app, _ = ledger
    found = hazard(app, institution)
    error = refused(app, lambda: run(app, "hazard.order", {"measures": "更换", "ordered_on": "2024-05-19", "deadline": "2024-05-31"}, found),
                    "DATE_ORDER_INVALID")
    assert "发现" in error.message_zh or "2024-05-20" in error.message_zh
    assert error.details["neighbour_date"] == "2024-05-20"
    run(app, "hazard.order", {"measures": "更换", "ordered_on": "2024-05-20", "deadline": "2024-05-31"}, found)  # same day: fine
    refused(app, lambda: run(app, "hazard.rectify", {"rectified_on": "2024-05-18", "measures_taken": "已更换", "evidence": []}, found),
            "DATE_ORDER_INVALID")
    run(app, "hazard.rectify", {"rectified_on": "2024-05-25", "measures_taken": "已更换", "evidence": []}, found)
    refused(app, lambda: run(app, "hazard.verify", {"verified_on": "2024-05-24", "outcome": "closed"}, found), "DATE_ORDER_INVALID")
    assert run(app, "hazard.verify", {"verified_on": "2024-05-27", "outcome": "closed"}, found).status == "closed"


def test_a_filing_of_a_known_unfiled_institution_is_not_dated_before_its_discovery(ledger):
    app, _ = ledger
    found = app.discover(command(discovery_request(discovered_on="2024-03-20"))).institution_id
    early = filing_request(first_resident_admitted_on="2024-03-01", application_received_on="2024-03-08", filed_on="2024-03-12")
    refused(app, lambda: app.file(found, command(early)), "DATE_ORDER_INVALID")
    on_time = filing_request(first_resident_admitted_on="2024-03-10", application_received_on="2024-03-20", filed_on="2024-03-22")
    assert app.file(found, command(on_time)).status == "filed"


def test_a_grading_step_follows_the_one_before(ledger, institution, clock):
    app, _ = ledger
    application = decide(app, "grading.apply", {"institution_id": institution, "requested_level": 1, "applied_on": "2024-05-06"}).aggregate_id
    refused(app, lambda: decide(app, "grading.review_eligibility", {"reviewed_on": "2024-05-05"}, application), "DATE_ORDER_INVALID")


def test_a_credit_listing_step_follows_the_one_before(ledger, institution):
    app, _ = ledger
    case = penalty_case(app, institution)
    listing = decide(app, "listing.propose", proposal(institution, case)).aggregate_id
    refused(app, lambda: decide(app, "listing.notify", {"served_on": "2024-01-21"}, listing), "DATE_ORDER_INVALID")
    assert decide(app, "listing.notify", {"served_on": "2024-01-22"}, listing).status == "noticed"


def test_a_correction_cannot_move_a_date_past_its_neighbours(ledger, institution):
    app, sealer = ledger
    found = hazard(app, institution)
    run(app, "hazard.order", {"measures": "更换", "ordered_on": "2024-05-21", "deadline": "2024-05-31"}, found)
    order = sealer.log.read(sealer.log.head().seq - 1, 1)[0].envelope["event_id"]
    run(app, "hazard.rectify", {"rectified_on": "2024-05-25", "measures_taken": "已更换", "evidence": []}, found)
    correction = {"original_event_id": order, "reason": "日期笔误", "approver": "大队长", "corrected_on": "2024-05-28"}
    refused(app, lambda: run(app, "record.correct", dict(correction, corrected={"ordered_on": "2024-05-26"}), found), "DATE_ORDER_INVALID")
    refused(app, lambda: run(app, "record.correct", dict(correction, corrected={"ordered_on": "2024-05-19"}), found), "DATE_ORDER_INVALID")
    run(app, "record.correct", dict(correction, corrected={"ordered_on": "2024-05-22"}), found)
    assert app.aggregate(Hazard, found).ordered_on == "2024-05-22"


def test_a_rectification_done_in_time_is_recorded_after_the_overdue_mark(ledger, institution, clock):
    app, _ = ledger
    found = hazard(app, institution)
    run(app, "hazard.order", {"measures": "更换", "ordered_on": "2024-05-20", "deadline": "2024-05-31"}, found)
    clock.set(date(2024, 6, 5))
    assert [r.aggregate_id for r in run_due(app)] == [found]
    # rectified on the 30th, reported late: the scheduler's mark on 1 June does not hold it back
    assert run(app, "hazard.rectify", {"rectified_on": "2024-05-30", "measures_taken": "已更换", "evidence": []}, found).status == "rectified"


def test_an_outside_fact_may_predate_and_a_correction_may_not_pass_what_followed(ledger):
    """Found by a review: a legal-person registration (an outside fact) dated before the filing was
    refused; a filing's date corrected past a change filing made in the state it created was
    accepted. Now the first records and the second is refused."""
    app, sealer = ledger
    home = app.file_new(command(filing_request(ownership_type="特困供养设施"))).institution_id  # filed 2024-03-12
    filing_id = next(sealer.log.iterate_types(("InstitutionFiled",)))["event_id"]
    code = with_check_character("12321111MB1234567")
    decide(app, "institution.register_legal_person", {"registered_on": "2023-05-01", "legal_person_code": code}, home)
    decide(app, "institution.change", {"changes": {"beds": 130}, "changed_on": "2024-03-20"}, home)
    correction = {"original_event_id": filing_id, "reason": "日期笔误", "approver": "科长", "corrected_on": "2024-05-31"}
    refused(app, lambda: decide(app, "record.correct", dict(correction, corrected={"filed_on": "2024-03-25"}), home), "DATE_ORDER_INVALID")
    decide(app, "record.correct", dict(correction, corrected={"filed_on": "2024-03-14"}), home)
