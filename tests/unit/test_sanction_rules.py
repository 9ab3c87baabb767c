"""Administrative penalties as 《行政处罚法》 and 66号令 set them out, and the publication periods of
the rules in force on the decision date (2019 / 2023-05-01 / 2026-04-01)."""

from datetime import date

import pytest

from services.domain.actors import Actor
from services.ledger.application import Basis
from services.ledger.scheduler import run_due
from tests.conftest import command, county_officer, decide, filing_request, refused

CIVIL = county_officer()
FIRE = Actor("fire_rescue", "county", "321111", "消防监督员")
BASIS = Basis("润民罚〔2024〕1号", "《养老机构管理办法》第四十六条")


@pytest.fixture
def institution(ledger):
    app, _ = ledger
    return str(app.file_new(command(filing_request())).institution_id)


def run(app, name, request, target=None, actor=CIVIL):
    return decide(app, name, request, target, actor, BASIS)




def open_case(app, institution, ground="MCA66-46.3", filed_on="2024-01-08", actor=CIVIL):
    request = {"institution_id": institution, "ground": ground, "facts_summary": "未按强制性国家标准提供服务", "filed_on": filed_on}
    return run(app, "sanction.file", request, actor=actor).aggregate_id


def notify(app, case, penalties, served_on="2024-01-15", actor=CIVIL):
    request = {"served_on": served_on, "penalties": penalties, "facts": "经查……", "legal_basis": "66号令第四十六条第（三）项"}
    return run(app, "sanction.notify", request, case, actor)


def decision(penalties, decided_on="2024-01-29", number="润民罚决〔2024〕1号", **changes):
    return {
        "decision_no": number, "decided_on": decided_on, "violation_type": "未按照强制性国家标准提供服务",
        "facts": "经查，该院未落实防跌倒措施", "legal_basis": "《养老机构管理办法》第四十六条第（三）项",
        "penalties": penalties, "compliance": "自收到决定书之日起15日内缴纳罚款", "remedies": "可于60日内申请复议或6个月内起诉",
        "deciding_authority": "镇江市润州区民政局", **changes,
    }


FINE = [{"type": "warning"}, {"type": "fine", "amount": "8000"}]


def test_a_case_runs_from_filing_to_closure(ledger, institution, clock):
    app, _ = ledger
    case = open_case(app, institution)
    notice = notify(app, case, FINE)
    assert notice.status == "noticed"
    run(app, "sanction.decide", decision(FINE), case)
    run(app, "sanction.serve", {"served_on": "2024-01-30"}, case)
    run(app, "sanction.execute", {"executed_on": "2024-02-10", "details": "罚款已缴清"}, case)
    assert run(app, "sanction.close", {"closed_on": "2024-02-11", "outcome": "executed"}, case).status == "closed"


def test_only_the_department_competent_for_the_ground_files_the_case(ledger, institution):
    app, _ = ledger
    refused(app, lambda: open_case(app, institution, ground="FIRE"), "DEPARTMENT_NOT_COMPETENT")
    refused(app, lambda: open_case(app, institution, actor=FIRE), "DEPARTMENT_NOT_COMPETENT")
    assert open_case(app, institution, ground="FIRE", actor=FIRE)


def test_66_46_fines_are_at_most_30000_yuan(ledger, institution):
    app, _ = ledger
    case = open_case(app, institution)
    refused(app, lambda: notify(app, case, [{"type": "fine", "amount": "30000.01"}]), "FINE_ABOVE_LIMIT")
    refused(app, lambda: notify(app, case, [{"type": "fine"}]), "FINE_AMOUNT_MISSING")


def test_the_decision_waits_for_the_statement_period_and_is_never_heavier_than_notified(ledger, institution):
    app, _ = ledger
    case = open_case(app, institution)
    notify(app, case, FINE)  # served 15 Jan: statement until 18 Jan; 8000 < 10000, so no hearing right
    refused(app, lambda: run(app, "sanction.decide", decision(FINE, decided_on="2024-01-18"), case), "RIGHTS_PERIOD_OPEN")
    heavier = [{"type": "fine", "amount": "9000"}]
    refused(app, lambda: run(app, "sanction.decide", decision(heavier), case), "PENALTY_HEAVIER_THAN_NOTIFIED")
    other_type = [{"type": "suspension_ordered"}]
    refused(app, lambda: run(app, "sanction.decide", decision(other_type), case), "PENALTY_HEAVIER_THAN_NOTIFIED")
    lighter = [{"type": "fine", "amount": "5000"}]
    assert run(app, "sanction.decide", decision(lighter, decided_on="2024-01-19"), case).status == "decided"


def test_a_large_fine_carries_the_hearing_right_within_five_days_and_seven_days_notice(ledger, institution):
    app, _ = ledger
    case = open_case(app, institution)
    big = [{"type": "fine", "amount": "20000"}]
    notify(app, case, big)  # served 15 Jan: hearing request until 20 Jan
    refused(app, lambda: run(app, "sanction.request_hearing", {"requested_on": "2024-01-21"}, case), "HEARING_REQUEST_LATE")
    run(app, "sanction.request_hearing", {"requested_on": "2024-01-19"}, case)
    refused(app, lambda: run(app, "sanction.decide", decision(big), case), "CASE_STATE_INVALID")
    short = {"notified_on": "2024-01-22", "hearing_on": "2024-01-28"}
    assert refused(app, lambda: run(app, "sanction.schedule_hearing", short, case), "HEARING_NOTICE_TOO_SHORT").details["earliest"] == "2024-01-29"
    run(app, "sanction.schedule_hearing", dict(short, hearing_on="2024-01-29"), case)
    run(app, "sanction.hold_hearing", {"held_on": "2024-01-29", "record_ref": "听证笔录-1"}, case)
    assert run(app, "sanction.decide", decision(big, decided_on="2024-02-01"), case).status == "decided"


def test_no_hearing_request_without_the_right(ledger, institution):
    app, _ = ledger
    case = open_case(app, institution)
    notify(app, case, FINE)
    refused(app, lambda: run(app, "sanction.request_hearing", {"requested_on": "2024-01-16"}, case), "NO_HEARING_RIGHT")


def test_a_decision_after_ninety_days_needs_an_approved_extension(ledger, institution):
    app, _ = ledger
    case = open_case(app, institution)  # filed 8 Jan 2024: decide by 7 April
    notify(app, case, FINE)
    refused(app, lambda: run(app, "sanction.decide", decision(FINE, decided_on="2024-04-08"), case), "DECISION_OVERDUE")
    late = decision(FINE, decided_on="2024-04-08", extension_approved_by="局长李某")
    assert run(app, "sanction.decide", late, case).status == "decided"


def test_a_decision_number_names_one_decision(ledger, institution):
    app, _ = ledger
    first, second = open_case(app, institution), open_case(app, institution)
    for case in (first, second):
        notify(app, case, FINE)
    run(app, "sanction.decide", decision(FINE), first)
    refused(app, lambda: run(app, "sanction.decide", decision(FINE), second), "DECISION_NO_IN_USE")


def decided_case(app, institution, penalties=FINE, decided_on="2024-01-29", ground="MCA66-46.3", actor=CIVIL):
    case = open_case(app, institution, ground=ground, actor=actor)
    notify(app, case, penalties, actor=actor)
    run(app, "sanction.decide", decision(penalties, decided_on=decided_on, number=f"决-{case}"), case, actor)
    return case


def test_warning_only_penalties_are_not_published(ledger, institution):
    app, _ = ledger
    case = decided_case(app, institution, [{"type": "warning"}])
    publish = {"published_on": "2024-02-01", "publication_class": "ordinary"}
    refused(app, lambda: run(app, "sanction.publish", publish, case), "WARNING_NOT_PUBLISHED")


def test_publication_period_follows_the_2023_rules_on_the_decision_date(ledger, institution):
    app, sealer = ledger
    case = decided_case(app, institution)
    run(app, "sanction.publish", {"published_on": "2024-02-01", "publication_class": "ordinary"}, case)
    payload = sealer.log.read(sealer.log.head().seq - 1, 1)[0].envelope
    assert payload["rule_version"] == "rules-2023-05-01+320000-2020-01-01+321100-2020-01-01"
    # 58号令: an ordinary entry 3 months at least, a year at most
    assert payload["payload"]["earliest_repair_on"] == "2024-04-29" and payload["payload"]["publish_until"] == "2025-01-29"


def test_fire_safety_penalties_have_no_longer_minimum_outside_shenzhen(ledger, institution):
    """The one-year minimum for fire-safety entries is Shenzhen's own rule (a regional row), not
    Zhenjiang's: there an ordinary fire-safety entry may be repaired after three months."""
    app, sealer = ledger
    case = decided_case(app, institution, ground="FIRE", actor=FIRE)
    run(app, "sanction.publish", {"published_on": "2024-02-01", "publication_class": "ordinary"}, case, FIRE)
    assert sealer.log.read(sealer.log.head().seq - 1, 1)[0].envelope["payload"]["earliest_repair_on"] == "2024-04-29"


def test_under_the_2026_rules_minor_entries_are_published_only_where_necessary_for_three_months(ledger, institution, clock):
    app, sealer = ledger
    clock.set(date(2026, 5, 20))
    case = open_case(app, institution, filed_on="2026-04-20")
    notify(app, case, FINE, served_on="2026-04-22")
    run(app, "sanction.decide", decision(FINE, decided_on="2026-05-06"), case)
    minor = {"published_on": "2026-05-08", "publication_class": "minor"}
    error = refused(app, lambda: run(app, "sanction.publish", minor, case), "MINOR_NOT_PUBLISHED")
    assert "原则上不予公示" in error.message_zh
    assert run(app, "sanction.publish", dict(minor, necessity_reason="涉及老年人人身安全，社会关注度高"), case)
    published = sealer.log.read(sealer.log.head().seq - 1, 1)[0].envelope["payload"]
    assert (published["earliest_repair_on"], published["publish_until"]) == ("2026-05-06", "2026-08-06")


def test_publication_is_due_within_twenty_working_days(ledger, institution, clock):
    app, _ = ledger
    clock.set(date(2024, 4, 1))
    # decided 29 Jan 2024; 10-17 Feb are Spring Festival holidays, Sundays 4 and 18 Feb are worked
    case = decided_case(app, institution)
    late = {"published_on": "2024-03-15", "publication_class": "ordinary"}
    assert refused(app, lambda: run(app, "sanction.publish", late, case), "PUBLICATION_LATE").details["publish_due_by"] == "2024-02-29"
    assert run(app, "sanction.publish", dict(late, late_reason="复核中"), case)


def test_suspension_penalties_are_serious_and_never_repaired_early(ledger, institution, clock):
    app, _ = ledger
    suspension = [{"type": "suspension_ordered"}]
    case = decided_case(app, institution, suspension)
    refused(app, lambda: run(app, "sanction.publish", {"published_on": "2024-02-01", "publication_class": "ordinary"}, case),
            "PUBLICATION_CLASS_INVALID")
    run(app, "sanction.publish", {"published_on": "2024-02-01", "publication_class": "serious"}, case)
    run(app, "sanction.serve", {"served_on": "2024-01-30"}, case)
    run(app, "sanction.execute", {"executed_on": "2024-03-01", "details": "已停业整顿"}, case)
    clock.set(date(2025, 6, 1))
    refused(app, lambda: run(app, "sanction.end_publication_early", {"ended_on": "2025-06-01", "credit_commitment_ref": "承诺-1"}, case),
            "NO_EARLY_STOP")


def test_early_stop_after_the_minimum_period_once_the_penalty_is_fulfilled(ledger, institution, clock):
    app, _ = ledger
    case = decided_case(app, institution)
    run(app, "sanction.publish", {"published_on": "2024-02-01", "publication_class": "ordinary"}, case)
    repair = {"ended_on": "2024-05-06", "credit_commitment_ref": "信用承诺-2024-1"}
    clock.set(date(2024, 5, 6))
    refused(app, lambda: run(app, "sanction.end_publication_early", repair, case), "OBLIGATIONS_NOT_MET")
    run(app, "sanction.serve", {"served_on": "2024-01-30"}, case)
    run(app, "sanction.execute", {"executed_on": "2024-02-10", "details": "罚款已缴清"}, case)
    refused(app, lambda: run(app, "sanction.end_publication_early", dict(repair, ended_on="2024-04-28"), case), "MINIMUM_PERIOD_NOT_SERVED")
    assert run(app, "sanction.end_publication_early", repair, case)


def test_a_revoked_decision_is_withdrawn_within_three_days_and_no_longer_counts(ledger, institution, clock):
    app, sealer = ledger
    case = decided_case(app, institution)
    run(app, "sanction.publish", {"published_on": "2024-02-01", "publication_class": "ordinary"}, case)
    withdraw = {"withdrawn_on": "2024-05-10", "reason": "复议撤销"}
    refused(app, lambda: run(app, "sanction.withdraw_publication", withdraw, case), "NOT_REVIEWED")
    revoked = {"outcome": "revoked", "authority": "镇江市民政局", "document_no": "镇民复〔2024〕2号", "decided_on": "2024-05-06", "penalties": []}
    refused(app, lambda: run(app, "sanction.review", dict(revoked, penalties=FINE), case), "REVIEW_PENALTIES_INVALID")
    run(app, "sanction.review", revoked, case)
    run(app, "sanction.withdraw_publication", withdraw, case)
    envelope = sealer.log.read(sealer.log.head().seq - 1, 1)[0].envelope
    assert envelope["payload"]["late_days"] == 1  # 6 May + 3 days = 9 May
    from services.domain.sanction import SanctionCase

    assert app.aggregate(SanctionCase, case).effective_penalties == []


def test_the_scheduler_ends_a_publication_at_its_maximum_period(ledger, institution, clock):
    app, _ = ledger
    case = decided_case(app, institution)
    run(app, "sanction.publish", {"published_on": "2024-02-01", "publication_class": "ordinary"}, case)
    clock.set(date(2025, 1, 29))
    assert run_due(app) == []
    clock.set(date(2025, 1, 30))
    assert [r.aggregate_id for r in run_due(app)] == [case]
    assert run_due(app) == []
