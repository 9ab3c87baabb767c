"""The hazard ledger (隐患台账): each step as the seeds and 66号令 describe it, and every forbidden
transition refused without recording anything."""

from datetime import date

import pytest

from services.domain.actors import Actor
from services.domain.hazard import Hazard
from services.ledger.application import Basis, Command
from services.ledger.scheduler import run_due
from tests.conftest import command, county_officer, filing_request, refused

FIRE = Actor("fire_rescue", "county", "321111", "消防监督员")
CITY_CIVIL = Actor("civil_affairs", "city", "321100", "市民政局")


@pytest.fixture
def institution(ledger):
    app, _ = ledger
    return str(app.file_new(command(filing_request())).institution_id)


def identify(app, institution, actor=FIRE, **changes):
    request = {
        "institution_id": institution, "severity": "major", "category": "fire_safety", "criterion_ref": "MH2023-4.2",
        "description": "疏散通道堵塞，自动喷水灭火系统损坏", "responsible_person": "院长王某",
        "identified_on": "2024-05-20", **changes,
    }
    return app.execute("hazard.identify", command(request, actor))


def step(app, name, hazard_id, request, actor=FIRE, key=None):
    return app.execute(f"hazard.{name}", Command(actor, Basis("消防责改〔2024〕8号", "《消防法》第六十条"), request, key), hazard_id)




def test_a_hazard_goes_from_found_to_closed(ledger, institution):
    app, _ = ledger
    hazard = identify(app, institution).aggregate_id
    step(app, "order", hazard, {"measures": "清理通道，修复喷淋", "ordered_on": "2024-05-20", "deadline": "2024-05-31"})
    step(app, "rectify", hazard, {"rectified_on": "2024-05-28", "measures_taken": "已清理并修复", "evidence": ["照片-001"]})
    result = step(app, "verify", hazard, {"verified_on": "2024-06-03", "outcome": "closed"})
    assert result.status == "closed" and result.institution_id == institution


def test_a_major_hazard_criterion_makes_the_hazard_major(ledger, institution):
    app, _ = ledger
    refused(app, lambda: identify(app, institution, severity="general"), "SEVERITY_MISMATCH")


def test_an_unknown_criterion_is_refused(ledger, institution):
    app, _ = ledger
    refused(app, lambda: identify(app, institution, criterion_ref="MH2099-1"), "CRITERION_UNKNOWN")


def test_only_departments_covering_the_institution_may_record_its_hazards(ledger, institution):
    app, _ = ledger
    anshan = Actor("fire_rescue", "city", "210300", "鞍山消防")
    refused(app, lambda: identify(app, institution, actor=anshan), "OUTSIDE_JURISDICTION")
    refused(app, lambda: identify(app, "00000000-0000-0000-0000-000000000000"), "INSTITUTION_NOT_FOUND")


def test_orders_come_from_the_department_that_found_it_or_civil_affairs(ledger, institution):
    app, _ = ledger
    hazard = identify(app, institution).aggregate_id
    health = Actor("health", "county", "321111", "卫健")
    order = {"measures": "整改", "ordered_on": "2024-05-21", "deadline": "2024-06-30"}
    refused(app, lambda: step(app, "order", hazard, order, health), "DEPARTMENT_NOT_COMPETENT")
    assert step(app, "order", hazard, order, CITY_CIVIL).status == "ordered"


def test_a_deadline_before_the_order_is_refused(ledger, institution):
    app, _ = ledger
    hazard = identify(app, institution).aggregate_id
    order = {"measures": "整改", "ordered_on": "2024-05-21", "deadline": "2024-05-20"}
    refused(app, lambda: step(app, "order", hazard, order), "DEADLINE_BEFORE_ORDER")


def test_a_hazard_is_closed_only_after_a_reported_rectification(ledger, institution):
    app, _ = ledger
    hazard = identify(app, institution).aggregate_id
    refused(app, lambda: step(app, "verify", hazard, {"verified_on": "2024-05-22", "outcome": "closed"}), "HAZARD_STATE_INVALID")


def test_a_closed_hazard_takes_no_more_orders(ledger, institution):
    app, _ = ledger
    hazard = identify(app, institution).aggregate_id
    step(app, "rectify", hazard, {"rectified_on": "2024-05-21", "measures_taken": "当场整改"})
    step(app, "verify", hazard, {"verified_on": "2024-05-22", "outcome": "closed"})
    order = {"measures": "整改", "ordered_on": "2024-05-23", "deadline": "2024-06-30"}
    refused(app, lambda: step(app, "order", hazard, order), "HAZARD_STATE_INVALID")


def test_a_failed_verification_sends_the_hazard_back_to_its_order(ledger, institution):
    app, _ = ledger
    hazard = identify(app, institution).aggregate_id
    step(app, "order", hazard, {"measures": "整改", "ordered_on": "2024-05-20", "deadline": "2024-06-30"})
    step(app, "rectify", hazard, {"rectified_on": "2024-05-28", "measures_taken": "部分整改"})
    assert step(app, "verify", hazard, {"verified_on": "2024-06-01", "outcome": "not_rectified"}).status == "ordered"


def test_the_scheduler_marks_an_order_overdue_the_day_after_its_deadline_once(ledger, institution, clock):
    app, _ = ledger
    hazard = identify(app, institution).aggregate_id
    step(app, "order", hazard, {"measures": "整改", "ordered_on": "2024-05-20", "deadline": "2024-06-03"})
    assert run_due(app) == []  # 3 June: the deadline is today, not passed
    clock.set(date(2024, 6, 4))
    recorded = run_due(app)
    assert [r.aggregate_id for r in recorded] == [hazard]
    assert app.aggregate(Hazard, hazard).status == "overdue"
    assert run_due(app) == []  # idempotent
    envelope = app.sealer.log.read(app.sealer.log.head().seq - 1, 1)[0].envelope
    assert envelope["event_type"] == "HazardOverdue"
    assert envelope["actor"] == {"department": "fire_rescue", "level": "county", "region": "321111", "user": "system:scheduler"}
    assert envelope["payload"]["deadline"] == "2024-06-03"


def test_people_cannot_record_what_only_the_scheduler_may(ledger, institution, clock):
    app, _ = ledger
    hazard = identify(app, institution).aggregate_id
    step(app, "order", hazard, {"measures": "整改", "ordered_on": "2024-05-20", "deadline": "2024-05-31"})
    refused(app, lambda: step(app, "mark_overdue", hazard, {}), "SYSTEM_ONLY")


def test_an_overdue_major_hazard_escalates_to_suspension_and_closure_after_resettlement(ledger, institution, clock):
    """Zhenjiang (seed 000 §三（四）) closes a home that refuses its rectification order by joint
    enforcement, without a suspension first; the residents are resettled first everywhere."""
    app, _ = ledger
    hazard = identify(app, institution).aggregate_id
    step(app, "order", hazard, {"measures": "整改", "ordered_on": "2024-05-20", "deadline": "2024-05-31"})
    civil = county_officer()
    early = {"step": "suspension_ordered", "decided_on": "2024-05-30", "reason": "逾期不改", "rectify_by": "2024-07-31"}
    refused(app, lambda: step(app, "escalate", hazard, early, civil), "HAZARD_STATE_INVALID")
    run_due(app)
    closure = {"step": "closure_ordered", "decided_on": "2024-06-03", "reason": "拒不整治，报请区政府组织联合执法"}
    refused(app, lambda: step(app, "escalate", hazard, closure, civil), "RESIDENTS_NOT_RESETTLED")
    refused(app, lambda: step(app, "escalate", hazard, dict(early, decided_on="2024-06-03"), FIRE), "DEPARTMENT_NOT_COMPETENT")
    refused(app, lambda: step(app, "escalate", hazard, dict(early, decided_on="2024-06-03", rectify_by="2024-06-01"), civil),
            "DEADLINE_BEFORE_ORDER")
    step(app, "escalate", hazard, dict(early, decided_on="2024-06-03"), civil)
    # the same decision suspended the institution, in the same transaction
    assert app.institution(institution).status == "suspended"
    suspension = app.sealer.log.read(app.sealer.log.head().seq - 1, 1)[0].envelope
    assert suspension["event_type"] == "InstitutionSuspensionOrdered" and suspension["payload"]["hazard_id"] == str(hazard)
    refused(app, lambda: step(app, "escalate", hazard, dict(early, decided_on="2024-06-03"), civil), "ALREADY_ESCALATED")
    refused(app, lambda: step(app, "escalate", hazard, closure, civil), "RESIDENTS_NOT_RESETTLED")


def test_a_general_hazard_does_not_escalate(ledger, institution):
    app, _ = ledger
    hazard = identify(app, institution, severity="general", criterion_ref="GB38600-6.6").aggregate_id
    step(app, "order", hazard, {"measures": "加装扶手", "ordered_on": "2024-05-20", "deadline": "2024-05-31"})
    run_due(app)
    request = {"step": "suspension_ordered", "decided_on": "2024-06-03", "reason": "逾期"}
    refused(app, lambda: step(app, "escalate", hazard, request, county_officer()), "ESCALATION_NOT_ALLOWED")


def test_open_major_hazards_show_in_the_institutions_standing(ledger, institution):
    app, _ = ledger
    hazard = identify(app, institution).aggregate_id
    identify(app, institution, severity="general", criterion_ref="GB38600-6.6")
    standing = app.standing(institution)
    assert [h.id for h in standing.open_major_hazards] == [hazard]


def test_the_monthly_three_lists_show_the_region_as_it_stood_at_month_end(ledger, institution, clock):
    from projections.hazard_lists import monthly_lists
    from projections.record_states import fold

    app, sealer = ledger
    fixed = identify(app, institution, severity="general", criterion_ref="GB38600-6.6", identified_on="2024-05-06").aggregate_id
    step(app, "order", fixed, {"measures": "加装扶手", "ordered_on": "2024-05-06", "deadline": "2024-05-20"})
    step(app, "rectify", fixed, {"rectified_on": "2024-05-15", "measures_taken": "已加装"})
    step(app, "verify", fixed, {"verified_on": "2024-05-16", "outcome": "closed"})
    open_one = identify(app, institution, identified_on="2024-05-20").aggregate_id
    step(app, "order", open_one, {"measures": "修复喷淋", "ordered_on": "2024-05-21", "deadline": "2024-06-28"})
    june = identify(app, institution, identified_on="2024-06-03").aggregate_id

    hazards = [r for r in fold(r.envelope for r in sealer.log.iterate())[0].values() if r["kind"] == "Hazard"]
    may = monthly_lists(hazards, "3211", "2024-05")
    assert [h["hazard_id"] for h in may["problems"]] == [str(open_one)]
    assert {h["hazard_id"] for h in may["rectifications"]} == {str(fixed), str(open_one)}
    assert may["responsibilities"][0]["responsible_person"] == "院长王某"
    assert may["responsibilities"][0]["departments"] == ["civil_affairs", "fire_rescue"]
    assert str(june) not in {h["hazard_id"] for h in may["problems"]}
    assert monthly_lists(hazards, "2103", "2024-05")["problems"] == []


def test_the_service_records_due_transitions_without_anyone_calling(tmp_path, clock):
    import time

    from services.bootstrap import build_runtime
    from services.settings import Settings

    settings = Settings.from_env({"ELDERCARE_DATA_DIR": str(tmp_path / "svc"), "ELDERCARE_JWT_SECRET": "x" * 40})
    runtime = build_runtime(settings, clock=clock)
    app = runtime.ledger
    institution = str(app.file_new(command(filing_request())).institution_id)
    hazard = identify(app, institution).aggregate_id
    step(app, "order", hazard, {"measures": "整改", "ordered_on": "2024-05-20", "deadline": "2024-05-31"})
    runtime.start_background(schedule_every_s=0.05)
    try:
        deadline = time.monotonic() + 10
        while app.aggregate(Hazard, hazard).status != "overdue" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert app.aggregate(Hazard, hazard).status == "overdue"
    finally:
        runtime.close()
