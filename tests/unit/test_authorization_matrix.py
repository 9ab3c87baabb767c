"""Authorization matrix: for each command, every department × level, inside and outside the
institution's region, is either allowed or refused with a 403-kind error — exactly as the
competence rules say ("谁审批谁监管、谁主管谁监管", jurisdiction by region). Commands run as dry runs
against one prepared ledger, so every actor meets the same state."""

from __future__ import annotations

from datetime import date

import pytest

from events.registration import DEPARTMENTS, LEVELS
from services.domain.actors import Actor
from services.domain.errors import NotCompetent
from services.domain.operations import OPERATIONS
from services.ledger.application import Basis, Command
from services.ledger.scheduler import run_due
from tests.conftest import county_officer, discovery_request, filing_request, unique_credit_code

IN_REGION = {"county": "321111", "city": "321100", "province": "320000"}
OUT_OF_REGION = {"county": "210302", "city": "210300", "province": "210000"}
BASIS = Basis("矩阵〔2024〕1号", "测试依据")
ALL_LEVELS = set(LEVELS)
CIVIL = county_officer()
FIRE = Actor("fire_rescue", "county", "321111", "消防")


def everyone(*departments: str, levels=ALL_LEVELS) -> set[tuple[str, str]]:
    return {(d, lvl) for d in (departments or DEPARTMENTS) for lvl in levels}


def prepared(app, clock):
    """One ledger holding a record in the state each command needs."""
    run = lambda name, request, target=None, actor=CIVIL: app.execute(name, Command(actor, BASIS, request), target).aggregate_id  # noqa: E731
    institution = str(run("institution.file_new", filing_request(first_resident_admitted_on="2023-03-01",
                                                                application_received_on="2023-03-08", filed_on="2023-03-10")))
    unfiled = run("institution.discover", discovery_request())
    hazard_request = {"institution_id": institution, "severity": "major", "category": "fire_safety", "criterion_ref": "MH2023-4.2",
                      "description": "消防设施不符合", "responsible_person": "院长", "identified_on": "2024-05-06"}
    hazard = run("hazard.identify", hazard_request, actor=FIRE)
    overdue = run("hazard.identify", hazard_request, actor=FIRE)
    run("hazard.order", {"measures": "整改", "ordered_on": "2024-05-06", "deadline": "2024-05-20"}, overdue, FIRE)
    run_due(app)
    plan = run("inspection_plan.plan", {"title": "抽查", "kind": "routine", "region_code": "321111", "year": 2024,
                                        "departments": ["civil_affairs", "fire_rescue"], "ratios": {"A": "100", "B": "100", "C": "100", "D": "100"},
                                        "inspectors_per_team": 2, "planned_on": "2024-05-06"})
    inspection = run("inspection.schedule", {"institution_id": institution, "kind": "special", "departments": ["civil_affairs"],
                                             "inspectors": ["ZF-1", "ZF-2"], "scheduled_on": "2024-05-13", "notice_given_on": "2024-05-07"})
    case = run("sanction.file", {"institution_id": institution, "ground": "MCA66-46.3", "facts_summary": "事实", "filed_on": "2024-05-06"})
    listing_case = run("sanction.file", {"institution_id": institution, "ground": "MCA66-46.7", "facts_summary": "事实", "filed_on": "2024-01-08"})
    run("sanction.notify", {"served_on": "2024-01-09", "penalties": [{"type": "fine", "amount": "9000"}], "facts": "经查", "legal_basis": "第46条"}, listing_case)
    run("sanction.decide", {"decision_no": "矩阵决-1", "decided_on": "2024-01-15", "violation_type": "侵权", "facts": "经查", "legal_basis": "第46条",
                            "penalties": [{"type": "fine", "amount": "9000"}], "compliance": "缴纳", "remedies": "复议", "deciding_authority": "民政局"},
        listing_case)
    grading = run("grading.apply", {"institution_id": institution, "requested_level": 3, "applied_on": "2024-05-06"})
    filing_event = next(r.envelope for r in app.sealer.log.iterate() if r.envelope["event_type"] == "InstitutionFiled")["event_id"]
    return {
        "institution": institution, "unfiled": unfiled, "hazard": hazard, "overdue": overdue, "plan": plan,
        "inspection": inspection, "case": case, "listing_case": str(listing_case), "grading": grading, "filing_event": filing_event,
    }


# (operation, target key or None, request builder, who may do it)
SCENARIOS = [
    ("institution.discover", None, lambda s: discovery_request(), everyone()),
    ("institution.file_new", None, lambda s: filing_request(credit_code=unique_credit_code(), receipt_no="m-1"),
     everyone("civil_affairs", levels={"county"})),
    ("institution.file", "unfiled", lambda s: filing_request(credit_code=unique_credit_code(), receipt_no="m-2"),
     everyone("civil_affairs", levels={"county"})),
    ("institution.change", "institution", lambda s: {"changes": {"beds": 130}, "changed_on": "2024-05-06"},
     everyone("civil_affairs", levels={"county"})),
    ("institution.suspend", "institution", lambda s: {"ordered_on": "2024-05-06", "reason": "隐患", "rectify_by": "2024-06-30"},
     everyone("civil_affairs")),
    ("institution.update_handling", "unfiled", lambda s: {"handling": {"referred_to": ["health"], "reason": "未登记", "measures": "检查",
                                                                       "deadline": "2024-07-01", "responsible_person": "张"},
                                                          "updated_on": "2024-05-06"}, everyone("civil_affairs")),
    ("hazard.identify", None, lambda s: {"institution_id": s["institution"], "severity": "general", "category": "other", "criterion_ref": "OTHER",
                                         "description": "地面湿滑", "responsible_person": "院长", "identified_on": "2024-05-06"}, everyone()),
    ("hazard.order", "hazard", lambda s: {"measures": "整改", "ordered_on": "2024-05-06", "deadline": "2024-05-31"},
     everyone("fire_rescue", "civil_affairs")),
    ("hazard.escalate", "overdue", lambda s: {"step": "suspension_ordered", "decided_on": "2024-06-03", "reason": "逾期",
                                              "rectify_by": "2024-07-31"},
     everyone("civil_affairs")),
    ("inspection_plan.plan", None, lambda s: {"title": "抽查", "kind": "special", "region_code": "321111", "year": 2024,
                                              "departments": ["civil_affairs", "fire_rescue", "market_regulation", "health", "housing",
                                                              "emergency", "tcm", "hr"],
                                              "ratios": {"A": "10", "B": "10", "C": "10", "D": "10"}, "inspectors_per_team": 2,
                                              "planned_on": "2024-05-06"}, everyone()),
    ("inspection_plan.draw", "plan", lambda s: {"inspector_pool": [{"inspector_id": "P1", "department": "civil_affairs"},
                                                                   {"inspector_id": "P2", "department": "fire_rescue"}], "drawn_on": "2024-05-07"},
     everyone("civil_affairs", "fire_rescue")),
    ("inspection.conduct", "inspection", lambda s: {"conducted_on": "2024-05-13", "inspectors_present": ["ZF-1", "ZF-2"], "findings": [],
                                                    "summary": "合格"}, everyone("civil_affairs")),
    ("sanction.file", None, lambda s: {"institution_id": s["institution"], "ground": "FIRE", "facts_summary": "消防违法", "filed_on": "2024-05-06"},
     everyone("fire_rescue")),
    ("sanction.notify", "case", lambda s: {"served_on": "2024-05-08", "penalties": [{"type": "warning"}], "facts": "经查", "legal_basis": "第46条"},
     everyone("civil_affairs")),
    ("listing.propose", None, lambda s: {"institution_id": s["institution"], "list": "key_attention", "ground": "elder_rights_harm",
                                         "grounding_kind": "sanction_case", "grounding_ref": s["listing_case"], "proposed_on": "2024-05-06"},
     everyone("civil_affairs")),
    ("grading.apply", None, lambda s: {"institution_id": s["institution"], "requested_level": 5, "applied_on": "2024-05-06"},
     everyone("civil_affairs", levels={"province"})),
    ("grading.review_eligibility", "grading", lambda s: {"reviewed_on": "2024-05-08"}, everyone("civil_affairs", levels={"county", "city"})),
    ("compliance.assess", None, lambda s: {"institution_id": s["institution"], "standard": "GB/T 35796", "compliant": True, "failed_clauses": [],
                                           "assessed_on": "2024-05-06", "assessor": "第三方"}, everyone("civil_affairs")),
    ("record.correct", "institution", lambda s: {"original_event_id": s["filing_event"], "reason": "笔误", "approver": "科长",
                                                 "corrected": {"contact_phone": "0511-80000000"}, "corrected_on": "2024-05-06"},
     everyone("civil_affairs", levels={"county", "city", "province"})),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from services.ledger.application import open_ledger
    from tests.conftest import Clock

    clock = Clock()
    app, _ = open_ledger(tmp_path_factory.mktemp("matrix") / "ledger.sqlite", clock=clock)
    state = prepared(app, clock)
    clock.set(date(2024, 6, 3))
    yield app, state
    app.close()


@pytest.mark.parametrize("operation, target, request_for, allowed", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_each_department_and_level_inside_and_outside_the_region(world, operation, target, request_for, allowed):
    app, state = world
    before = app.recorder.max_notification_id()
    outcomes = {}
    for department in DEPARTMENTS:
        for level in LEVELS:
            for inside in (True, False):
                actor = Actor(department, level, (IN_REGION if inside else OUT_OF_REGION)[level], "矩阵测试员")
                target_id = state[target] if target else None
                try:
                    app.execute(operation, Command(actor, BASIS, request_for(state)), target_id, dry_run=True)
                    outcomes[(department, level, inside)] = "allowed"
                except NotCompetent:
                    outcomes[(department, level, inside)] = "forbidden"
    expected = {
        (d, lvl, inside): "allowed" if inside and (d, lvl) in allowed else "forbidden"
        for d in DEPARTMENTS for lvl in LEVELS for inside in (True, False)
    }
    assert outcomes == expected
    assert app.recorder.max_notification_id() == before  # dry runs record nothing


def test_the_matrix_covers_every_family_of_commands():
    families = {name.split(".")[0] for name in OPERATIONS}
    covered = {s[0].split(".")[0] for s in SCENARIOS}
    assert families - covered <= {"campaign"}, families - covered


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_viewers_and_auditors_decide_nothing(world, role):
    app, state = world
    for operation, target, request_for, _ in SCENARIOS:
        actor = Actor("civil_affairs", "county", "321111", "查询员", role)
        with pytest.raises(NotCompetent) as refused:
            app.execute(operation, Command(actor, BASIS, request_for(state)), state[target] if target else None, dry_run=True)
        assert refused.value.code == "ROLE_NOT_PERMITTED", operation
