"""Credit lists (民发〔2019〕103号): grounds and their grounding decisions, the defence window in
Chinese working days, the 3-year term, expiry by the scheduler, early removal after 2 years."""

from datetime import date

import pytest

from services.domain.actors import Actor
from services.domain.credit_listing import CreditListing
from services.ledger.application import Basis, Command
from services.ledger.scheduler import run_due
from tests.conftest import command, county_officer, decide, filing_request, refused

CIVIL = county_officer()
BASIS = Basis("润民信〔2024〕1号", "民发〔2019〕103号")


def run(app, name, request, target=None, actor=CIVIL):
    return decide(app, name, request, target, actor, BASIS)




@pytest.fixture
def institution(ledger):
    app, _ = ledger
    return str(app.file_new(command(filing_request())).institution_id)


def penalty_case(app, institution):
    case = run(app, "sanction.file", {"institution_id": institution, "ground": "MCA66-46.7", "facts_summary": "虐待老人", "filed_on": "2024-01-08"}).aggregate_id
    run(app, "sanction.notify", {"served_on": "2024-01-09", "penalties": [{"type": "fine", "amount": "9000"}], "facts": "经查", "legal_basis": "第46条"}, case)
    run(app, "sanction.decide", {
        "decision_no": "润民罚决〔2024〕7号", "decided_on": "2024-01-15", "violation_type": "侵害老年人权益", "facts": "经查",
        "legal_basis": "第46条", "penalties": [{"type": "fine", "amount": "9000"}], "compliance": "15日内缴纳",
        "remedies": "复议或诉讼", "deciding_authority": "润州区民政局",
    }, case)
    return str(case)


def proposal(institution, case, **changes):
    return {
        "institution_id": institution, "list": "joint_punishment", "ground": "elder_rights_harm",
        "grounding_kind": "sanction_case", "grounding_ref": case, "proposed_on": "2024-01-22",
        "persons": [{"name": "王某", "role": "法定代表人", "id_no": "320102195001011234"}], **changes,
    }


def test_a_listing_runs_from_proposal_to_expiry_after_three_years(ledger, institution, clock):
    app, _ = ledger
    case = penalty_case(app, institution)
    listing = run(app, "listing.propose", proposal(institution, case)).aggregate_id
    # served Friday 2 Feb 2024: 5 working days counting Sunday 4 Feb (make-up day) end on 8 Feb
    run(app, "listing.notify", {"served_on": "2024-02-02"}, listing)
    assert app.aggregate(CreditListing, listing).defence_deadline == "2024-02-08"
    refused(app, lambda: run(app, "listing.decide", {"outcome": "listed", "decided_on": "2024-02-08", "reasons": "事实清楚"}, listing),
            "DEFENCE_PERIOD_OPEN")
    run(app, "listing.decide", {"outcome": "listed", "decided_on": "2024-02-19", "reasons": "事实清楚"}, listing)
    run(app, "listing.publish", {"published_on": "2024-02-20"}, listing)
    assert app.standing(institution).on_joint_punishment_list
    clock.set(date(2027, 2, 19))
    assert run_due(app) == []
    clock.set(date(2027, 2, 20))
    assert [r.aggregate_id for r in run_due(app)] == [listing]
    assert not app.standing(institution).listed


def test_a_defence_after_the_working_day_window_is_refused(ledger, institution):
    app, _ = ledger
    listing = run(app, "listing.propose", proposal(institution, penalty_case(app, institution))).aggregate_id
    run(app, "listing.notify", {"served_on": "2024-02-02"}, listing)
    refused(app, lambda: run(app, "listing.receive_defence", {"received_on": "2024-02-09", "summary": "不服"}, listing), "DEFENCE_LATE")
    assert run(app, "listing.receive_defence", {"received_on": "2024-02-08", "summary": "不服"}, listing).status == "defended"


def test_only_the_supervising_civil_affairs_lists(ledger, institution):
    app, _ = ledger
    case = penalty_case(app, institution)
    fire = Actor("fire_rescue", "county", "321111", "消防")
    refused(app, lambda: run(app, "listing.propose", proposal(institution, case), actor=fire), "DEPARTMENT_NOT_COMPETENT")
    anshan = Actor("civil_affairs", "city", "210300", "鞍山")
    refused(app, lambda: run(app, "listing.propose", proposal(institution, case), actor=anshan), "OUTSIDE_JURISDICTION")


def test_each_listing_cites_a_decision_that_stands(ledger, institution):
    app, _ = ledger
    case = penalty_case(app, institution)
    refused(app, lambda: run(app, "listing.propose", proposal(institution, "00000000-0000-0000-0000-000000000000")), "SANCTION_CASE_NOT_FOUND")
    court = proposal(institution, case, ground="court_designation")
    refused(app, lambda: run(app, "listing.propose", court), "GROUNDING_MISMATCH")
    run(app, "sanction.review", {"outcome": "revoked", "authority": "市民政局", "document_no": "复-1", "decided_on": "2024-01-20", "penalties": []}, case)
    refused(app, lambda: run(app, "listing.propose", proposal(institution, case)), "GROUNDING_NOT_DECIDED")


def test_a_fire_hazard_grounds_a_listing_only_when_major_and_overdue(ledger, institution, clock):
    app, _ = ledger
    fire = Actor("fire_rescue", "county", "321111", "消防")
    hazard = str(app.execute("hazard.identify", Command(fire, BASIS, {
        "institution_id": institution, "severity": "major", "category": "fire_safety", "criterion_ref": "MH2023-4.2",
        "description": "消防设施不具备条件", "responsible_person": "院长", "identified_on": "2024-05-06"}), None).aggregate_id)
    app.execute("hazard.order", Command(fire, BASIS, {"measures": "整改", "ordered_on": "2024-05-06", "deadline": "2024-05-20"}), hazard)
    request = proposal(institution, hazard, ground="fire_hazard_unfixed", grounding_kind="hazard", proposed_on="2024-06-03")
    refused(app, lambda: run(app, "listing.propose", request), "GROUNDING_NOT_DECIDED")
    run_due(app)
    assert run(app, "listing.propose", request).status == "proposed"


def test_a_court_designation_lists_without_the_defence_window(ledger, institution):
    app, _ = ledger
    court = proposal(institution, "(2024)苏1111执123号", ground="court_designation", grounding_kind="court_judgment")
    listing = run(app, "listing.propose", court).aggregate_id
    refused(app, lambda: run(app, "listing.decide", {"outcome": "not_listed", "decided_on": "2024-01-23", "reasons": "不列入"}, listing),
            "COURT_DESIGNATION_MANDATORY")
    assert run(app, "listing.decide", {"outcome": "listed", "decided_on": "2024-01-23", "reasons": "法院认定"}, listing).status == "listed"


def test_early_removal_after_two_years_without_a_new_violation(ledger, institution, clock):
    app, _ = ledger
    listing = run(app, "listing.propose", proposal(institution, penalty_case(app, institution))).aggregate_id
    run(app, "listing.notify", {"served_on": "2024-02-02"}, listing)
    run(app, "listing.decide", {"outcome": "listed", "decided_on": "2024-02-19", "reasons": "事实清楚"}, listing)
    clock.set(date(2026, 3, 2))
    removal = {"applied_on": "2026-02-18", "removed_on": "2026-03-02", "basis_of_removal": "no_new_violation"}
    refused(app, lambda: run(app, "listing.remove_early", removal, listing), "EARLY_REMOVAL_TOO_SOON")
    assert run(app, "listing.remove_early", dict(removal, applied_on="2026-02-19"), listing).status == "removed"


def test_people_cannot_record_the_expiry(ledger, institution):
    app, _ = ledger
    listing = run(app, "listing.propose", proposal(institution, penalty_case(app, institution))).aggregate_id
    refused(app, lambda: run(app, "listing.expire", {}, listing), "SYSTEM_ONLY")
