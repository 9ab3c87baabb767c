"""Registration rules (《养老机构管理办法》, 民政部令第66号), each tested as the clause reads."""

from datetime import date

import pytest

from services.domain.actors import Actor
from services.domain.errors import Conflict, NotCompetent, RuleViolation
from services.ledger.sealed_log import SealedLog
from tests.conftest import command, county_officer, discovery_request, filing_request, unique_credit_code


def sealed_count(sealer) -> int:
    return sealer.log.head().seq


def refuse(app, sealer, call, code: str):
    before = app.recorder.max_notification_id() or 0
    with pytest.raises((RuleViolation, NotCompetent, Conflict)) as refused:
        call()
    assert refused.value.code == code
    assert (app.recorder.max_notification_id() or 0) == before, "a refused command stored an event"
    return refused.value


def test_a_complete_on_time_filing_is_recorded_with_its_receipt_and_deadlines(ledger):
    app, sealer = ledger
    result = app.file_new(command(filing_request()))
    institution = app.institution(result.institution_id)
    assert institution.status == "filed"
    assert institution.profile["receipt_no"] == "321111-2024-0012"
    # admitted 2024-03-01 (Fri): the 10th working day after is Friday 2024-03-15
    assert institution.profile["filing_due_by"] == "2024-03-15"
    assert institution.profile["late_working_days"] == 0
    # filed 2024-03-12: the first on-site inspection is due 20 working days later
    assert institution.profile["inspection_due_by"] == "2024-04-10"
    envelope = SealedLog(sealer.log.location).read(0, 1)[0].envelope
    assert envelope["rule_version"] == "rules-2023-05-01+320000-2020-01-01+321100-2020-01-01"
    assert envelope["basis"] == {"document_no": "润民养备〔2024〕12号", "legal_basis": "《养老机构管理办法》第九条"}
    assert envelope["actor"]["department"] == "civil_affairs"


# 第9条: for-profit institutions file with the county civil affairs where the service site is.
def test_a_for_profit_filing_by_another_department_is_refused(ledger):
    app, sealer = ledger
    fire = Actor("fire_rescue", "county", "321111", "消防员")
    refuse(app, sealer, lambda: app.file_new(command(filing_request(), fire)), "DEPARTMENT_NOT_COMPETENT")


def test_a_for_profit_filing_with_the_civil_affairs_of_another_county_is_refused(ledger):
    app, sealer = ledger
    other_county = county_officer("321102")
    refuse(app, sealer, lambda: app.file_new(command(filing_request(), other_county)), "FILING_AUTHORITY_MISMATCH")


def test_a_for_profit_filing_with_the_city_civil_affairs_is_refused(ledger):
    app, sealer = ledger
    city = Actor("civil_affairs", "city", "321100", "市局")
    refuse(app, sealer, lambda: app.file_new(command(filing_request(), city)), "FILING_AUTHORITY_MISMATCH")


# Non-profit institutions file with the civil affairs at the level of their registration authority.
def test_a_non_profit_registered_at_city_level_files_with_the_city_civil_affairs(ledger):
    app, _ = ledger
    request = filing_request(
        nature="non_profit", credit_code=unique_credit_code(prefix="52"),
        registration_authority={"kind": "civil_affairs", "level": "city", "region_code": "321100"},
    )
    refuse(app, ledger[1], lambda: app.file_new(command(request, county_officer())), "FILING_AUTHORITY_MISMATCH")
    city = Actor("civil_affairs", "city", "321100", "市局")
    assert app.file_new(command(request, city)).status == "filed"


def test_a_non_profit_registration_authority_must_cover_the_site(ledger):
    app, sealer = ledger
    anshan = Actor("civil_affairs", "city", "210300", "鞍山市局")
    request = filing_request(
        nature="non_profit", registration_authority={"kind": "civil_affairs", "level": "city", "region_code": "210300"}
    )
    refuse(app, sealer, lambda: app.file_new(command(request, anshan)), "OUTSIDE_JURISDICTION")


def test_a_viewer_cannot_file(ledger):
    app, sealer = ledger
    viewer = Actor("civil_affairs", "county", "321111", "查询员", "viewer")
    refuse(app, sealer, lambda: app.file_new(command(filing_request(), viewer)), "ROLE_NOT_PERMITTED")


def test_a_bad_credit_code_is_refused(ledger):
    app, sealer = ledger
    refuse(app, sealer, lambda: app.file_new(command(filing_request(credit_code="91321111MA1N2P3Q4E"))), "CREDIT_CODE_INVALID")


# 第9条: file within 10 working days of admitting the first resident.
def test_a_late_filing_without_explanation_is_refused_naming_the_deadline(ledger):
    app, sealer = ledger
    late = filing_request(first_resident_admitted_on="2024-02-01", application_received_on="2024-03-08")
    error = refuse(app, sealer, lambda: app.file_new(command(late)), "FILING_LATE")
    # 2024-02-01 + 10 working days crosses the Spring Festival (10-17 Feb off, Sundays 4 and 18 Feb
    # worked): due 2024-02-20; received 2024-03-08, 13 working days after that.
    assert error.details["filing_due_by"] == "2024-02-20"
    assert error.details["late_working_days"] == 13


def test_a_late_filing_with_its_circumstances_stated_is_recorded_as_late(ledger):
    app, _ = ledger
    late = filing_request(
        first_resident_admitted_on="2024-02-01", application_received_on="2024-03-08", late_filing_reason="举办者不了解备案时限"
    )
    institution = app.institution(app.file_new(command(late)).institution_id)
    assert institution.profile["late_working_days"] == 13


def test_filing_on_the_tenth_working_day_is_on_time(ledger):
    app, _ = ledger
    on_time = filing_request(first_resident_admitted_on="2020-09-28", application_received_on="2020-10-19", filed_on="2020-11-02")
    assert app.institution(app.file_new(command(on_time)).institution_id).profile["late_working_days"] == 0


# 66号令: complete materials get a receipt; incomplete ones get guidance (补正), not a filing.
def test_incomplete_materials_are_refused_with_the_missing_items(ledger):
    app, sealer = ledger
    request = filing_request(materials={"application_form": True, "registration_certificate": False, "compliance_commitment": False})
    error = refuse(app, sealer, lambda: app.file_new(command(request)), "FILING_MATERIALS_INCOMPLETE")
    assert error.details["missing"] == ["registration_certificate", "compliance_commitment"]
    assert "补正" in error.message_zh


# 第2条: an elderly-care institution has 10 beds or more.
def test_fewer_than_ten_beds_is_not_an_institution(ledger):
    app, sealer = ledger
    refuse(app, sealer, lambda: app.file_new(command(filing_request(beds=9, nursing_beds=5))), "BEDS_BELOW_MINIMUM")


def test_nursing_beds_cannot_exceed_beds(ledger):
    app, sealer = ledger
    refuse(app, sealer, lambda: app.file_new(command(filing_request(beds=20, nursing_beds=21))), "NURSING_BEDS_EXCEED_BEDS")


def test_a_filing_dated_in_the_future_is_refused(ledger):
    app, sealer = ledger
    refuse(app, sealer, lambda: app.file_new(command(filing_request(filed_on="2024-06-04"))), "DATE_IN_FUTURE")


def test_dates_out_of_order_are_refused(ledger):
    app, sealer = ledger
    request = filing_request(application_received_on="2024-02-28")
    refuse(app, sealer, lambda: app.file_new(command(request)), "DATE_ORDER_INVALID")


def test_a_filing_before_the_rules_took_effect_is_refused(ledger):
    app, sealer = ledger
    old = filing_request(first_resident_admitted_on="2018-12-03", application_received_on="2018-12-05", filed_on="2018-12-06")
    refuse(app, sealer, lambda: app.file_new(command(old)), "RULE_NOT_IN_FORCE")


def test_fields_the_ledger_computes_cannot_be_supplied(ledger):
    app, sealer = ledger
    refuse(app, sealer, lambda: app.file_new(command(filing_request(inspection_due_by="2099-01-01"))), "PAYLOAD_INVALID")


def test_a_credit_code_belongs_to_one_institution_only(ledger):
    app, sealer = ledger
    app.file_new(command(filing_request()))
    again = filing_request(receipt_no="321111-2024-0099", name="另一家养老院")
    refuse(app, sealer, lambda: app.file_new(command(again)), "CREDIT_CODE_IN_USE")


def test_a_receipt_number_belongs_to_one_institution_only(ledger):
    app, sealer = ledger
    app.file_new(command(filing_request()))
    again = filing_request(credit_code=unique_credit_code(), name="另一家养老院")
    refuse(app, sealer, lambda: app.file_new(command(again)), "RECEIPT_NO_IN_USE")


# Known unfiled institutions: recorded, then filed; the first inspection falls due on discovery.
def test_a_discovered_institution_is_on_the_unfiled_list_until_filed(ledger):
    app, _ = ledger
    found = app.discover(command(discovery_request()))
    institution = app.institution(found.institution_id)
    assert institution.status == "discovered"
    # discovered Monday 2024-03-04: 20 working days later
    assert institution.profile["inspection_due_by"] == "2024-04-01"
    filed = app.file(found.institution_id, command(filing_request(name=institution.profile["name"])))
    assert filed.status == "filed" and filed.version == 2


def test_any_department_may_report_an_unfiled_institution_in_its_jurisdiction(ledger):
    app, sealer = ledger
    fire_city = Actor("fire_rescue", "city", "321100", "消防支队")
    assert app.discover(command(discovery_request(), fire_city)).status == "discovered"
    fire_anshan = Actor("fire_rescue", "city", "210300", "鞍山消防")
    refuse(app, sealer, lambda: app.discover(command(discovery_request(), fire_anshan)), "OUTSIDE_JURISDICTION")


def test_an_institution_is_filed_only_once(ledger):
    app, sealer = ledger
    found = app.discover(command(discovery_request()))
    app.file(found.institution_id, command(filing_request()))
    again = filing_request(receipt_no="321111-2024-0100", credit_code=unique_credit_code())
    refuse(app, sealer, lambda: app.file(found.institution_id, command(again)), "ALREADY_FILED")


def test_a_discovery_must_name_a_county_level_site(ledger):
    app, sealer = ledger
    refuse(app, sealer, lambda: app.discover(command(discovery_request(region_code="321100"))), "REGION_CODE_WRONG_LEVEL")
    refuse(app, sealer, lambda: app.discover(command(discovery_request(region_code="991111"))), "REGION_CODE_INVALID")


@pytest.mark.parametrize("code", ["321171", "329911", "990101"])
def test_a_site_must_be_a_real_gbt2260_county(ledger, code):
    app, sealer = ledger
    refuse(app, sealer, lambda: app.discover(command(discovery_request(region_code=code))), "REGION_CODE_INVALID")


def test_region_names_come_from_the_gbt2260_table():
    from events.regions import full_name, name_of

    assert full_name("321111") == "江苏省镇江市润州区"
    assert name_of("350404") == "三元区" and name_of("440305") == "南山区"


def test_the_scheduler_marks_unfiled_handling_overdue_dated_by_its_deadline(ledger, clock):
    """Seed 002 二（三）: an unregistered facility's handling states a deadline and a responsible
    person; once the deadline passes unfiled, the ledger marks it overdue from the next day — the
    unfiled list says so even before the scheduler ran, and a new deadline starts afresh."""
    from events.record_kinds import state_on
    from services.ledger.scheduler import run_due

    app, sealer = ledger
    found = app.discover(command(discovery_request())).institution_id  # handling deadline 2024-04-30
    assert state_on(app.institution(found).record, "2024-05-02")["handling_overdue_since"] == "2024-05-01"
    clock.set(date(2024, 4, 30))
    assert run_due(app) == []
    clock.set(date(2024, 5, 10))
    assert [str(r.aggregate_id) for r in run_due(app)] == [str(found)] and run_due(app) == []
    envelope = sealer.log.read(sealer.log.head().seq - 1, 1)[0].envelope
    assert (envelope["event_type"], envelope["occurred_at"], envelope["actor"]["user"]) == ("UnfiledHandlingOverdue", "2024-05-01", "system:scheduler")
    assert app.institution(found).handling_overdue_since == "2024-05-01"
    handling = dict(discovery_request()["handling"], deadline="2024-06-28")
    app.execute("institution.update_handling", command({"handling": handling, "updated_on": "2024-05-10"}), found)
    assert app.institution(found).handling_overdue_since is None
    clock.set(date(2024, 7, 1))
    assert [str(r.aggregate_id) for r in run_due(app)] == [str(found)]
    assert app.institution(found).handling_overdue_since == "2024-06-29"


def test_a_retracted_overdue_mark_falls_due_again_while_its_deadline_stands(ledger, clock):
    """The scheduler's mark follows from the deadline: retracting it (rather than correcting the
    deadline) does not make the deadline not have passed; the next run records it again."""
    from services.ledger.scheduler import run_due

    app, sealer = ledger
    found = app.discover(command(discovery_request())).institution_id
    clock.set(date(2024, 5, 10))
    run_due(app)
    mark = sealer.log.read(sealer.log.head().seq - 1, 1)[0].envelope["event_id"]
    app.execute("record.retract", command({"original_event_id": mark, "reason": "误判", "approver": "科长", "retracted_on": "2024-05-10"}),
                found)
    assert app.institution(found).handling_overdue_since is None
    assert [str(r.aggregate_id) for r in run_due(app)] == [str(found)]
    assert app.institution(found).handling_overdue_since == "2024-05-01"


def test_a_corrected_handling_deadline_takes_back_the_overdue_mark_it_no_longer_bears_out(ledger, clock):
    """Found by a review: correcting the handling deadline to a later day after the scheduler marked
    it overdue showed 逾期未办结 from the day after the new deadline; now the mark lapses with the
    deadline it judged, and the scheduler judges the corrected one when it passes."""
    from services.ledger.scheduler import run_due

    app, sealer = ledger
    found = app.discover(command(discovery_request())).institution_id  # handling deadline 2024-04-30
    discovered = sealer.log.read(sealer.log.head().seq - 1, 1)[0].envelope["event_id"]
    clock.set(date(2024, 5, 10))
    run_due(app)
    assert app.institution(found).handling_overdue_since == "2024-05-01"
    handling = dict(discovery_request()["handling"], deadline="2024-09-30")
    app.execute("record.correct", command({"original_event_id": discovered, "reason": "办结时限笔误", "approver": "科长",
                                           "corrected": {"handling": handling}, "corrected_on": "2024-05-10"}), found)
    assert app.institution(found).handling_overdue_since is None
    assert run_due(app) == []
    clock.set(date(2024, 10, 8))
    assert [str(r.aggregate_id) for r in run_due(app)] == [str(found)]
    assert app.institution(found).handling_overdue_since == "2024-10-01"
