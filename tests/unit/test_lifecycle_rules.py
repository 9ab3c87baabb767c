"""The institution's life after filing: change filing, 停业整顿 and resumption, 关停并转 with the
resettlement plan 60 days ahead and residents resettled before closure, rural legal-person
registration, 公建民营 contracts, and the handling of the unfiled list."""

from datetime import date

import pytest

from services.domain.actors import Actor
from services.ledger.application import Basis
from tests.conftest import (
    command,
    county_officer,
    decide,
    discovery_request,
    filing_request,
    refused,
    unique_credit_code,
)

CIVIL = county_officer()
BASIS = Basis("润民〔2024〕20号", "《养老机构管理办法》")


def run(app, name, request, target=None, actor=CIVIL):
    return decide(app, name, request, target, actor, BASIS)




@pytest.fixture
def institution(ledger):
    app, _ = ledger
    return app.file_new(command(filing_request())).aggregate_id


def test_a_change_filing_updates_the_particulars_and_keeps_the_rules(ledger, institution):
    app, _ = ledger
    run(app, "institution.change", {"changes": {"beds": 150, "nursing_beds": 100}, "changed_on": "2024-05-06"}, institution)
    assert app.institution(institution).profile["beds"] == 150
    refused(app, lambda: run(app, "institution.change", {"changes": {"nursing_beds": 151}, "changed_on": "2024-05-07"}, institution),
            "NURSING_BEDS_EXCEED_BEDS")
    refused(app, lambda: run(app, "institution.change", {"changes": {}, "changed_on": "2024-05-07"}, institution), "NOTHING_CHANGED")
    other = county_officer("321102")
    refused(app, lambda: run(app, "institution.change", {"changes": {"beds": 160}, "changed_on": "2024-05-07"}, institution, other),
            "FILING_AUTHORITY_MISMATCH")


def test_suspension_for_rectification_and_resumption(ledger, institution):
    app, _ = ledger
    order = {"ordered_on": "2024-05-06", "reason": "重大火灾隐患逾期未改", "rectify_by": "2024-06-30"}
    fire = Actor("fire_rescue", "county", "321111", "消防")
    refused(app, lambda: run(app, "institution.suspend", order, institution, fire), "DEPARTMENT_NOT_COMPETENT")
    assert run(app, "institution.suspend", order, institution).status == "suspended"
    refused(app, lambda: run(app, "institution.suspend", order, institution), "INSTITUTION_STATE_INVALID")
    assert run(app, "institution.resume", {"resumed_on": "2024-06-03", "verification": "验收合格"}, institution).status == "filed"


def test_closure_needs_the_plan_sixty_days_ahead_and_residents_resettled_first(ledger, institution, clock):
    app, _ = ledger
    plan = {"kind": "close", "plan_submitted_on": "2024-05-06", "effective_on": "2024-07-04", "residents": 35, "plan_summary": "分流至邻近机构"}
    refused(app, lambda: run(app, "institution.plan_closure", plan, institution), "PLAN_TOO_LATE")
    run(app, "institution.plan_closure", dict(plan, effective_on="2024-07-05"), institution)
    clock.set(date(2024, 7, 10))
    refused(app, lambda: run(app, "institution.close", {"kind": "close", "closed_on": "2024-07-05"}, institution), "RESIDENTS_NOT_RESETTLED")
    run(app, "institution.resettle", {"resettled_on": "2024-07-01", "residents": 35, "summary": "全部妥善安置"}, institution)
    refused(app, lambda: run(app, "institution.close", {"kind": "merge", "closed_on": "2024-07-05"}, institution), "CLOSURE_KIND_MISMATCH")
    refused(app, lambda: run(app, "institution.close", {"kind": "close", "closed_on": "2024-07-04"}, institution), "BEFORE_PLANNED_DATE")
    assert run(app, "institution.close", {"kind": "close", "closed_on": "2024-07-05"}, institution).status == "closed"
    refused(app, lambda: app.file(institution, command(filing_request(receipt_no="x", credit_code=unique_credit_code()))), "INSTITUTION_STATE_INVALID")


def test_a_merger_names_an_existing_institution(ledger, institution):
    app, _ = ledger
    plan = {"kind": "merge", "plan_submitted_on": "2024-03-01", "effective_on": "2024-05-01", "residents": 0, "plan_summary": "并入"}
    refused(app, lambda: run(app, "institution.plan_closure", plan, institution), "MERGE_TARGET_MISSING")
    refused(app, lambda: run(app, "institution.plan_closure", dict(plan, merge_into="00000000-0000-0000-0000-000000000000"), institution),
            "INSTITUTION_NOT_FOUND")


def test_rural_homes_record_their_legal_person_registration_or_why_not(ledger):
    app, _ = ledger
    home = app.file_new(command(filing_request(ownership_type="特困供养设施", nature="non_profit",
                                               credit_code=unique_credit_code(prefix="12"),
                                               registration_authority={"kind": "establishment_office", "level": "county", "region_code": "321111"}))).aggregate_id
    pending = {"reason": "编办审批中", "measures": "协调编办", "deadline": "2024-11-30", "responsible_person": "李某", "recorded_on": "2024-05-06"}
    run(app, "institution.legal_person_pending", pending, home)
    code = unique_credit_code(prefix="12")
    run(app, "institution.register_legal_person", {"registered_on": "2024-05-20", "legal_person_code": code}, home)
    assert app.institution(home).profile["legal_person_code"] == code


def test_legal_person_registration_is_for_rural_homes_only(ledger, institution):
    app, _ = ledger
    refused(app, lambda: run(app, "institution.register_legal_person", {"registered_on": "2024-05-20", "legal_person_code": unique_credit_code()},
                             institution), "NOT_A_RURAL_HOME")


def test_a_publicly_built_privately_run_contract_has_a_term_and_exit(ledger):
    app, _ = ledger
    home = app.file_new(command(filing_request(ownership_type="公建民营", credit_code=unique_credit_code(), receipt_no="ppp-1"))).aggregate_id
    contract = {"operator": "某养老服务公司", "operator_credit_code": unique_credit_code(), "contract_start": "2024-01-01",
                "contract_end": "2023-12-31", "exit_terms": "到期评估后退出", "recorded_on": "2024-05-06"}
    refused(app, lambda: run(app, "institution.record_contract", contract, home), "CONTRACT_TERM_INVALID")
    run(app, "institution.record_contract", dict(contract, contract_end="2028-12-31"), home)
    assert app.institution(home).contract["contract_end"] == "2028-12-31"


def test_the_unfiled_list_handling_is_updated_with_referrals(ledger):
    app, _ = ledger
    found = app.discover(command(discovery_request())).aggregate_id
    handling = {"referred_to": ["fire_rescue", "market_regulation", "health"], "reason": "未办理登记", "measures": "联合检查",
                "deadline": "2024-07-31", "responsible_person": "张明"}
    run(app, "institution.update_handling", {"handling": handling, "updated_on": "2024-05-20"}, found)
    assert app.institution(found).profile["handling"]["referred_to"] == ["fire_rescue", "market_regulation", "health"]


def test_a_closed_institution_leaves_the_published_filed_list(ledger, institution, clock):
    from projections.disclosure import snapshot_at

    app, sealer = ledger
    run(app, "institution.suspend", {"ordered_on": "2024-05-06", "reason": "隐患", "rectify_by": "2024-06-30"}, institution)
    snapshot = snapshot_at(r.envelope for r in sealer.log.iterate())
    assert [e["status_name"] for e in snapshot["lists"]["filed"]] == ["停业整顿"]
    plan = {"kind": "close", "plan_submitted_on": "2024-05-06", "effective_on": "2024-07-05", "residents": 0, "plan_summary": "无在住老人"}
    run(app, "institution.plan_closure", plan, institution)
    clock.set(date(2024, 7, 5))
    run(app, "institution.close", {"kind": "close", "closed_on": "2024-07-05"}, institution)
    assert snapshot_at(r.envelope for r in sealer.log.iterate())["lists"]["filed"] == []
