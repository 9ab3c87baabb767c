"""Grading 1–5: authority per province, recommendation for 4 and 5, eligibility from the standing,
scores, publicity, award, validity, lapse, downgrade and revocation with their lock-outs."""

from datetime import date

import pytest

from services.domain.actors import Actor
from services.domain.grading import GradingApplication
from services.ledger.application import Basis, Command
from services.ledger.scheduler import run_due
from tests.conftest import (
    command,
    county_officer,
    decide,
    discovery_request,
    filing_request,
    refused,
    unique_credit_code,
)
from tests.unit.test_api import bearer

COUNTY = county_officer()
CITY = Actor("civil_affairs", "city", "321100", "镇江市民政局")
PROVINCE = Actor("civil_affairs", "province", "320000", "江苏省民政厅")
BASIS = Basis("润民评〔2024〕1号", "GB/T 37276-2018；镇江市养老机构等级评定工作方案")
GOOD_SCORES = {"environment": 110, "facilities": 120, "operations": 130, "service": 480}  # 840: level 4 reached


def run(app, name, request, target=None, actor=COUNTY):
    return decide(app, name, request, target, actor, BASIS)




def compliant(app, institution, on="2024-01-10"):
    request = {"institution_id": institution, "standard": "GB 38600", "compliant": True, "failed_clauses": [],
               "assessed_on": on, "assessor": "润州区民政局"}
    run(app, "compliance.assess", request)


@pytest.fixture
def institution(ledger, clock):
    app, _ = ledger
    clock.set(date(2024, 6, 3))
    request = filing_request(first_resident_admitted_on="2023-03-01", application_received_on="2023-03-08", filed_on="2023-03-10")
    iid = str(app.file_new(command(request)).institution_id)
    compliant(app, iid)
    return iid


def apply(app, institution, level=3, on="2024-05-06", actor=COUNTY):
    return run(app, "grading.apply", {"institution_id": institution, "requested_level": level, "applied_on": on}, actor=actor).aggregate_id


def through_award(app, application, level, actor=COUNTY, start="2024-05-13"):
    run(app, "grading.review_eligibility", {"reviewed_on": "2024-05-08"}, application, actor)
    run(app, "grading.score", {"assessed_on": "2024-05-10", "scores": GOOD_SCORES}, application, actor)
    run(app, "grading.committee", {"decided_on": "2024-05-11", "approved_level": level}, application, actor)
    run(app, "grading.start_publicity", {"started_on": start}, application, actor)
    # 13 May + 5 working days = 20 May
    run(app, "grading.close_publicity", {"closed_on": "2024-05-20", "objection_upheld": False}, application, actor)
    return run(app, "grading.award", {"awarded_on": "2024-05-21", "certificate_no": f"证-{application}"}, application, actor)


def test_an_eligible_institution_is_graded_and_the_grade_lasts_three_years(ledger, institution, clock):
    app, _ = ledger
    application = apply(app, institution)
    assert through_award(app, application, 3).status == "awarded"
    graded = app.aggregate(GradingApplication, application)
    assert (graded.level, graded.valid_until) == (3, "2027-05-21")
    clock.set(date(2027, 5, 22))
    assert [r.aggregate_id for r in run_due(app)] == [application]
    assert app.aggregate(GradingApplication, application).status == "lapsed"


def test_levels_one_to_three_by_county_or_city_four_by_the_city_five_by_the_province(ledger, institution):
    app, _ = ledger
    refused(app, lambda: apply(app, institution, level=3, actor=PROVINCE), "GRADING_AUTHORITY_MISMATCH")
    refused(app, lambda: apply(app, institution, level=4, actor=COUNTY), "GRADING_AUTHORITY_MISMATCH")
    refused(app, lambda: apply(app, institution, level=5, actor=CITY), "GRADING_AUTHORITY_MISMATCH")
    assert apply(app, institution, level=3, actor=CITY)
    fire = Actor("fire_rescue", "county", "321111", "消防")
    refused(app, lambda: apply(app, institution, actor=fire), "DEPARTMENT_NOT_COMPETENT")


def test_a_first_application_is_at_most_level_three(ledger, institution):
    app, sealer = ledger
    application = apply(app, institution, level=4, actor=CITY)
    refused(app, lambda: run(app, "grading.review_eligibility", {"reviewed_on": "2024-05-08"}, application, CITY), "GRADING_STATE_INVALID")
    # level 4 needs a recommendation first, and the candidate must hold level 3
    recommendation = {"recommended_on": "2024-05-07", "remarks": "推荐参评四级"}
    refused(app, lambda: run(app, "grading.recommend", recommendation, application, COUNTY), "CANDIDATE_LEVEL_MISMATCH")


def test_a_level_three_institution_is_recommended_by_the_county_and_graded_four_by_the_city(ledger, institution, clock):
    app, _ = ledger
    through_award(app, apply(app, institution), 3)
    clock.set(date(2025, 6, 3))
    candidate = apply(app, institution, level=4, on="2025-06-02", actor=CITY)
    recommendation = {"recommended_on": "2025-06-03", "remarks": "推荐参评四级"}
    refused(app, lambda: run(app, "grading.recommend", recommendation, candidate, PROVINCE), "GRADING_AUTHORITY_MISMATCH")
    assert run(app, "grading.recommend", recommendation, candidate, COUNTY).status == "recommended"
    assert run(app, "grading.review_eligibility", {"reviewed_on": "2025-06-03"}, candidate, CITY).status == "eligible"


def test_eligibility_is_judged_from_the_standing(ledger, institution):
    app, sealer = ledger
    fire = Actor("fire_rescue", "county", "321111", "消防")
    app.execute("hazard.identify", Command(fire, BASIS, {
        "institution_id": institution, "severity": "major", "category": "fire_safety", "criterion_ref": "MH2023-4.2",
        "description": "消防设施不符合", "responsible_person": "院长", "identified_on": "2024-05-02"}))
    run(app, "compliance.assess", {"institution_id": institution, "standard": "GB 38600", "compliant": False,
                                   "failed_clauses": ["GB38600-6.6"], "assessed_on": "2024-05-03", "assessor": "第三方"})
    application = apply(app, institution)
    assert run(app, "grading.review_eligibility", {"reviewed_on": "2024-05-08"}, application).status == "ineligible"
    reasons = sealer.log.read(sealer.log.head().seq - 1, 1)[0].envelope["payload"]["reasons"]
    assert reasons == ["open_major_hazard", "not_gb38600_compliant"]
    refused(app, lambda: run(app, "grading.score", {"assessed_on": "2024-05-10", "scores": GOOD_SCORES}, application), "GRADING_STATE_INVALID")


def test_an_institution_operating_under_a_year_is_not_eligible(ledger, clock):
    app, sealer = ledger
    recent = str(app.file_new(command(filing_request())).institution_id)  # first resident 2024-03-01
    compliant(app, recent, on="2024-04-01")
    application = apply(app, recent)
    run(app, "grading.review_eligibility", {"reviewed_on": "2024-05-08"}, application)
    assert sealer.log.read(sealer.log.head().seq - 1, 1)[0].envelope["payload"]["reasons"] == ["operating_under_one_year"]


def test_the_committee_cannot_approve_above_the_score(ledger, institution):
    app, _ = ledger
    application = apply(app, institution)
    run(app, "grading.review_eligibility", {"reviewed_on": "2024-05-08"}, application)
    low = {"environment": 60, "facilities": 60, "operations": 60, "service": 300}  # 480: level 2
    run(app, "grading.score", {"assessed_on": "2024-05-10", "scores": low}, application)
    refused(app, lambda: run(app, "grading.committee", {"decided_on": "2024-05-11", "approved_level": 3}, application), "LEVEL_ABOVE_SCORE")
    assert run(app, "grading.committee", {"decided_on": "2024-05-11", "approved_level": 2}, application).status == "approved"


def test_section_scores_are_capped_by_the_rule_table(ledger, institution):
    app, _ = ledger
    application = apply(app, institution)
    run(app, "grading.review_eligibility", {"reviewed_on": "2024-05-08"}, application)
    refused(app, lambda: run(app, "grading.score", {"assessed_on": "2024-05-10", "scores": {**GOOD_SCORES, "service": 601}}, application),
            "SCORE_ABOVE_MAXIMUM")


def test_publicity_runs_its_working_days_and_an_upheld_objection_rejects(ledger, institution):
    app, _ = ledger
    application = apply(app, institution)
    run(app, "grading.review_eligibility", {"reviewed_on": "2024-05-08"}, application)
    run(app, "grading.score", {"assessed_on": "2024-05-10", "scores": GOOD_SCORES}, application)
    run(app, "grading.committee", {"decided_on": "2024-05-11", "approved_level": 3}, application)
    run(app, "grading.start_publicity", {"started_on": "2024-05-13"}, application)
    refused(app, lambda: run(app, "grading.close_publicity", {"closed_on": "2024-05-17", "objection_upheld": False}, application),
            "PUBLICITY_NOT_OVER")
    objection = {"received_on": "2024-05-21", "summary": "该院夜间值班人员不足", "objector": "家属李某"}
    refused(app, lambda: run(app, "grading.receive_objection", objection, application), "OBJECTION_OUT_OF_PERIOD")
    run(app, "grading.receive_objection", dict(objection, received_on="2024-05-16"), application)
    received = app.aggregate(GradingApplication, application).objections[0]["event_id"]
    refused(app, lambda: run(app, "grading.close_publicity", {"closed_on": "2024-05-20", "objection_upheld": True}, application),
            "OBJECTIONS_PENDING")
    handled = {"objection_event_id": received, "handled_on": "2024-05-20", "upheld": True, "reasons": "经核查，夜间值班人员配备不符合要求"}
    run(app, "grading.handle_objection", handled, application)
    refused(app, lambda: run(app, "grading.handle_objection", handled, application), "OBJECTION_ALREADY_HANDLED")
    refused(app, lambda: run(app, "grading.close_publicity", {"closed_on": "2024-05-20", "objection_upheld": False}, application),
            "OBJECTION_OUTCOME_MISMATCH")
    assert run(app, "grading.close_publicity", {"closed_on": "2024-05-20", "objection_upheld": True}, application).status == "rejected"
    refused(app, lambda: run(app, "grading.award", {"awarded_on": "2024-05-21", "certificate_no": "x"}, application), "GRADING_STATE_INVALID")


def test_after_a_downgrade_no_upgrade_for_a_year_and_after_revocation_no_application_for_three(ledger, institution, clock):
    app, sealer = ledger
    first = apply(app, institution)
    through_award(app, first, 3)
    run(app, "grading.downgrade", {"new_level": 2, "decided_on": "2024-05-28", "reason": "发生重大安全事故"}, first)
    # the lock-out refuses the application itself, naming the date it ends
    error = refused(app, lambda: apply(app, institution, level=3, on="2024-06-03"), "UPGRADE_LOCKED")
    assert "2025-05-28" in error.message_zh
    lodged_before = apply(app, institution, level=2, on="2024-06-03")  # the same level is no upgrade
    run(app, "grading.revoke", {"decided_on": "2024-06-03", "reason": "存在重大风险隐患"}, first)
    error = refused(app, lambda: apply(app, institution, level=1, on="2024-06-03"), "APPLICATION_LOCKED")
    assert "2027-06-03" in error.message_zh
    # an application lodged before the lock-out is found ineligible at review, with the reason on the application
    run(app, "grading.review_eligibility", {"reviewed_on": "2024-06-03"}, lodged_before)
    assert sealer.log.read(sealer.log.head().seq - 1, 1)[0].envelope["payload"]["reasons"] == ["application_locked"]
    assert app.aggregate(GradingApplication, lodged_before).reasons == ["application_locked"]


def test_a_downgrade_by_the_wrong_level_names_the_downgrade(ledger, institution):
    app, _ = ledger
    first = apply(app, institution)
    through_award(app, first, 3)
    error = refused(app, lambda: run(app, "grading.downgrade", {"new_level": 2, "decided_on": "2024-05-28", "reason": "事故"}, first,
                                     PROVINCE), "GRADING_AUTHORITY_MISMATCH")
    assert "降低等级" in error.message_zh and "评定" not in error.message_zh


def test_the_reasons_of_an_ineligible_review_are_shown_on_the_application_in_chinese(api):
    client, runtime = api
    app = runtime.ledger
    recent = str(app.file_new(command(filing_request())).institution_id)  # first resident 2024-03-01
    application = apply(app, recent)
    run(app, "grading.review_eligibility", {"reviewed_on": "2024-05-08"}, application)
    shown = client.get(f"/v1/records/{application}", headers=bearer(runtime)).json()
    assert shown["status_name"] == "资格审查未通过"
    assert shown["state"]["reasons"] == ["operating_under_one_year", "not_gb38600_compliant"]
    assert shown["state"]["reasons_name"] == ["开办运营不满规定年限", "未达到《养老机构服务安全基本规范》（GB 38600）"]


def test_compliance_findings_must_name_real_clauses(ledger, institution):
    app, _ = ledger
    bad = {"institution_id": institution, "standard": "GB 38600", "compliant": False, "failed_clauses": ["GB38600-99"],
           "assessed_on": "2024-05-03", "assessor": "第三方"}
    refused(app, lambda: run(app, "compliance.assess", bad), "CLAUSE_UNKNOWN")
    refused(app, lambda: run(app, "compliance.assess", dict(bad, failed_clauses=[])), "COMPLIANCE_INCONSISTENT")


def test_campaign_progress_compares_the_ledger_with_the_regions_targets(ledger, institution):
    from projections.campaign_progress import KINDS, progress
    from projections.record_states import fold

    app, sealer = ledger
    run(app, "campaign.set_target", {"region_code": "321100", "year": 2024, "metric": "gb38600_compliant",
                                     "target_percent": "60", "source": "镇江市专项行动方案"}, actor=CITY)
    run(app, "campaign.set_target", {"region_code": "321100", "year": 2024, "metric": "filed", "target_percent": "100",
                                     "source": "镇江市专项行动方案"}, actor=CITY)
    app.discover(command(discovery_request()))
    records = [r for r in fold(r.envelope for r in sealer.log.iterate())[0].values() if r["kind"] in KINDS]
    report = progress(records, "321100", 2024, "2024-06-03")
    by_metric = {m["metric"]: m for m in report["metrics"]}
    assert (by_metric["filed"]["count"], by_metric["filed"]["of"], by_metric["filed"]["percent"]) == (1, 2, "50.0")
    assert by_metric["filed"]["met"] is False
    assert by_metric["gb38600_compliant"]["percent"] == "100.0" and by_metric["gb38600_compliant"]["met"] is True
    assert by_metric["graded"]["target"] is None and by_metric["graded"]["met"] is None


def test_outside_zhenjiang_an_upgrade_waits_a_year_after_the_last_award(ledger, clock):
    """The national default (unconfirmed) holds where no regional row replaces it: Nanjing is in
    Jiangsu but not Zhenjiang, so the province's authority applies and the city's timing does not."""
    app, sealer = ledger
    clock.set(date(2024, 6, 3))
    nanjing = county_officer("320102")
    request = filing_request(region_code="320102", credit_code=unique_credit_code("320102"), receipt_no="320102-2023-0001",
                             registration_authority={"kind": "market_regulation", "level": "county", "region_code": "320102"},
                             first_resident_admitted_on="2023-03-01", application_received_on="2023-03-08", filed_on="2023-03-10")
    iid = str(app.file_new(command(request, nanjing)).institution_id)
    run(app, "compliance.assess", {"institution_id": iid, "standard": "GB 38600", "compliant": True, "failed_clauses": [],
                                   "assessed_on": "2024-01-10", "assessor": "玄武区民政局"}, actor=nanjing)
    through_award(app, apply(app, iid, actor=nanjing), 3, actor=nanjing)
    city = Actor("civil_affairs", "city", "320100", "南京市民政局")
    candidate = apply(app, iid, level=4, on="2024-06-03", actor=city)
    run(app, "grading.recommend", {"recommended_on": "2024-06-03", "remarks": "推荐参评四级"}, candidate, nanjing)
    run(app, "grading.review_eligibility", {"reviewed_on": "2024-06-03"}, candidate, city)
    envelope = sealer.log.read(sealer.log.head().seq - 1, 1)[0].envelope
    assert envelope["payload"]["reasons"] == ["upgrade_too_soon"]
    assert envelope["rule_version"] == "rules-2023-05-01+320000-2020-01-01"
