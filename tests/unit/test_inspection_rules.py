"""Inspections: reproducible double-random draws, at least two officers, notice rules, findings
against the checklist, publication within 20 working days."""

from datetime import date

from events.draw import draw, sample_size
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
BASIS = Basis("润民检〔2024〕5号", "《养老机构管理办法》第三十八条")
INSPECTORS = [
    {"inspector_id": f"ZF-{i:03d}", "department": "civil_affairs" if i % 2 else "fire_rescue"} for i in range(1, 9)
]


def run(app, name, request, target=None, actor=CIVIL):
    return decide(app, name, request, target, actor, BASIS)




def populate(app, n=12):
    ids = []
    for i in range(n):
        request = filing_request(
            name=f"润州区第{i}养老院", credit_code=unique_credit_code(), receipt_no=f"321111-2024-{i:04d}"
        )
        ids.append(str(app.file_new(command(request)).institution_id))
    ids.append(str(app.discover(command(discovery_request(discovered_on="2024-05-06"))).institution_id))
    return ids


PLAN = {
    "title": "2024年润州区养老机构双随机抽查", "kind": "routine", "region_code": "321111", "year": 2024,
    "departments": ["civil_affairs", "fire_rescue"], "ratios": {"A": "25", "B": "100", "C": "50", "D": "100"},
    "inspectors_per_team": 2, "planned_on": "2024-05-06",
}


def drawn_plan(app):
    plan_id = run(app, "inspection_plan.plan", PLAN).aggregate_id
    run(app, "inspection_plan.draw", {"inspector_pool": INSPECTORS, "drawn_on": "2024-05-07"}, plan_id)
    envelope = next(e for e in app.sealer.log.iterate_types(("InspectionSampleDrawn",)))
    return plan_id, envelope


def test_the_draw_is_reproducible_from_what_the_event_records(ledger):
    app, _ = ledger
    ids = populate(app)
    _, envelope = drawn_plan(app)
    p = envelope["payload"]
    assert {m["institution_id"] for m in p["institution_pool"]} == set(ids)
    rerun = draw(p["seed"], p["institution_pool"], p["inspector_pool"], p["ratios"], p["inspectors_per_team"])
    assert rerun == p["sample"]
    # 12 filed institutions are class A (25 % → 3), the unfiled one is class B (100 % → 1)
    by_class = {c: [s for s in p["sample"] if s["risk_class"] == c] for c in "AB"}
    assert len(by_class["A"]) == sample_size(12, "25") == 3 and len(by_class["B"]) == 1
    assert all(len(set(s["inspectors"])) == 2 for s in p["sample"])


def test_a_different_seed_gives_a_different_sample_but_the_same_sizes(ledger):
    app, _ = ledger
    populate(app)
    _, envelope = drawn_plan(app)
    p = envelope["payload"]
    samples = {
        tuple(s["institution_id"] for s in draw(seed, p["institution_pool"], p["inspector_pool"], p["ratios"], 2))
        for seed in ("a", "b", "c", "d", "e")
    }
    assert len(samples) > 1 and {len(s) for s in samples} == {4}


def test_conflicted_inspectors_are_never_drawn_for_that_institution():
    pool = [{"institution_id": f"i{n}", "risk_class": "A"} for n in range(20)]
    inspectors = [{"inspector_id": f"p{n}", "department": "civil_affairs", "conflicts": ["i3"] if n < 3 else []} for n in range(5)]
    for seed in map(str, range(30)):
        for entry in draw(seed, pool, inspectors, {"A": "100"}, 2):
            if entry["institution_id"] == "i3":
                assert not set(entry["inspectors"]) & {"p0", "p1", "p2"}


def test_a_plan_is_drawn_once(ledger):
    app, _ = ledger
    populate(app, 3)
    plan_id, _ = drawn_plan(app)
    refused(app, lambda: run(app, "inspection_plan.draw", {"inspector_pool": INSPECTORS, "drawn_on": "2024-05-08"}, plan_id), "ALREADY_DRAWN")


def test_a_draw_without_enough_unconflicted_inspectors_is_refused(ledger):
    app, _ = ledger
    ids = populate(app, 2)
    plan_id = run(app, "inspection_plan.plan", dict(PLAN, ratios={"A": "100", "B": "100", "C": "100", "D": "100"})).aggregate_id
    pool = [{"inspector_id": "ZF-1", "department": "civil_affairs"}, {"inspector_id": "ZF-2", "department": "civil_affairs", "conflicts": [ids[0]]}]
    refused(app, lambda: run(app, "inspection_plan.draw", {"inspector_pool": pool, "drawn_on": "2024-05-07"}, plan_id), "INSUFFICIENT_INSPECTORS")


def test_a_plan_needs_two_officers_per_team_and_its_own_department(ledger):
    app, _ = ledger
    refused(app, lambda: run(app, "inspection_plan.plan", dict(PLAN, inspectors_per_team=1)), "PAYLOAD_INVALID")
    refused(app, lambda: run(app, "inspection_plan.plan", dict(PLAN, departments=["fire_rescue"])), "PLAN_DEPARTMENTS_INVALID")
    refused(app, lambda: run(app, "inspection_plan.plan", dict(PLAN, kind="joint", departments=["civil_affairs"])), "JOINT_NEEDS_DEPARTMENTS")
    refused(app, lambda: run(app, "inspection_plan.plan", dict(PLAN, region_code="210302")), "OUTSIDE_JURISDICTION")


def routine(plan, entry, **changes):
    return {
        "institution_id": entry["institution_id"], "kind": "routine", "plan_id": str(plan),
        "departments": ["civil_affairs", "fire_rescue"], "inspectors": entry["inspectors"],
        "scheduled_on": "2024-05-13", "notice_given_on": "2024-05-07", **changes,
    }


def test_a_routine_inspection_is_of_a_drawn_institution_by_the_drawn_team(ledger):
    app, _ = ledger
    ids = populate(app)
    plan_id, envelope = drawn_plan(app)
    entry = envelope["payload"]["sample"][0]
    not_drawn = next(i for i in ids if i not in {s["institution_id"] for s in envelope["payload"]["sample"]})
    refused(app, lambda: run(app, "inspection.schedule", routine(plan_id, entry, institution_id=not_drawn)), "NOT_DRAWN")
    other_team = [i["inspector_id"] for i in INSPECTORS if i["inspector_id"] not in entry["inspectors"]][:2]
    refused(app, lambda: run(app, "inspection.schedule", routine(plan_id, entry, inspectors=other_team)), "TEAM_NOT_DRAWN")
    without_plan = {k: v for k, v in routine(plan_id, entry).items() if k != "plan_id"}
    refused(app, lambda: run(app, "inspection.schedule", without_plan), "ROUTINE_NEEDS_PLAN")
    assert run(app, "inspection.schedule", routine(plan_id, entry)).status == "scheduled"


def test_notice_is_three_working_days_ahead_and_never_for_case_inspections(ledger):
    app, _ = ledger
    ids = populate(app, 1)
    plan_id, envelope = drawn_plan(app)
    entry = envelope["payload"]["sample"][0]
    # notified Thursday 9 May 2024: Friday, Saturday 11 May (make-up day) and Monday are the 3 days
    short = routine(plan_id, entry, notice_given_on="2024-05-09", scheduled_on="2024-05-11")
    assert refused(app, lambda: run(app, "inspection.schedule", short), "NOTICE_TOO_SHORT").details["earliest"] == "2024-05-13"
    unnotified = {k: v for k, v in routine(plan_id, entry).items() if k != "notice_given_on"}
    refused(app, lambda: run(app, "inspection.schedule", unnotified), "NOTICE_REQUIRED")
    case = {
        "institution_id": ids[0], "kind": "case", "trigger": "举报：夜间无人值守", "departments": ["civil_affairs"],
        "inspectors": ["ZF-001", "ZF-003"], "scheduled_on": "2024-06-03",
    }
    refused(app, lambda: run(app, "inspection.schedule", dict(case, notice_given_on="2024-05-28")), "CASE_NOT_NOTIFIED")
    refused(app, lambda: run(app, "inspection.schedule", {k: v for k, v in case.items() if k != "trigger"}), "CASE_NEEDS_TRIGGER")
    refused(app, lambda: run(app, "inspection.schedule", dict(case, inspectors=["ZF-001"])), "TOO_FEW_INSPECTORS")
    assert run(app, "inspection.schedule", case).status == "scheduled"


def test_an_inspection_is_conducted_by_two_scheduled_officers_against_the_checklist_and_published_in_time(ledger, clock):
    app, _ = ledger
    ids = populate(app, 1)
    special = {
        "institution_id": ids[0], "kind": "special", "departments": ["civil_affairs"], "inspectors": ["ZF-001", "ZF-003"],
        "scheduled_on": "2024-05-13", "notice_given_on": "2024-05-07",
    }
    inspection = run(app, "inspection.schedule", special).aggregate_id
    finding = {"checklist_ref": "GB38600-6.1", "result": "non_compliant", "note": "未配备防噎食应急设备"}
    visit = {"conducted_on": "2024-05-13", "inspectors_present": ["ZF-001"], "findings": [finding], "summary": "存在问题"}
    refused(app, lambda: run(app, "inspection.conduct", visit, inspection), "TOO_FEW_INSPECTORS")
    refused(app, lambda: run(app, "inspection.conduct", dict(visit, inspectors_present=["ZF-001", "ZF-999"]), inspection), "TOO_FEW_INSPECTORS")
    bad = dict(visit, inspectors_present=["ZF-001", "ZF-003"], findings=[dict(finding, checklist_ref="GB0000-1")])
    refused(app, lambda: run(app, "inspection.conduct", bad, inspection), "CRITERION_UNKNOWN")
    run(app, "inspection.conduct", dict(visit, inspectors_present=["ZF-001", "ZF-003"]), inspection)
    clock.set(date(2024, 7, 1))
    # 13 May + 20 working days = 11 June (Dragon Boat Festival, 10 June, is a holiday)
    late = {"published_on": "2024-06-13", "public_summary": "发现1项问题，已责令整改"}
    error = refused(app, lambda: run(app, "inspection.publish", late, inspection), "PUBLICATION_LATE")
    assert error.details["publish_due_by"] == "2024-06-11"
    assert run(app, "inspection.publish", dict(late, late_reason="等待整改复核"), inspection).status == "published"


def test_only_inspecting_departments_record_the_inspection(ledger):
    app, _ = ledger
    ids = populate(app, 1)
    special = {
        "institution_id": ids[0], "kind": "special", "departments": ["civil_affairs"], "inspectors": ["ZF-001", "ZF-003"],
        "scheduled_on": "2024-05-13", "notice_given_on": "2024-05-07",
    }
    inspection = run(app, "inspection.schedule", special).aggregate_id
    visit = {"conducted_on": "2024-05-13", "inspectors_present": ["ZF-001", "ZF-003"], "findings": [], "summary": "无问题"}
    fire = Actor("fire_rescue", "county", "321111", "消防")
    refused(app, lambda: run(app, "inspection.conduct", visit, inspection, fire), "DEPARTMENT_NOT_COMPETENT")


def test_first_inspections_and_yearly_coverage_are_tracked(ledger, clock):
    from projections.inspection_obligations import obligations
    from projections.record_states import fold

    app, sealer = ledger
    ids = populate(app, 2)  # filed 2024-03-12: first inspection due 2024-04-10; one discovered 2024-05-06
    special = {
        "institution_id": ids[0], "kind": "case", "trigger": "备案后首次检查", "departments": ["civil_affairs"],
        "inspectors": ["ZF-001", "ZF-003"], "scheduled_on": "2024-04-08",
    }
    inspection = run(app, "inspection.schedule", special).aggregate_id
    run(app, "inspection.conduct", {"conducted_on": "2024-04-08", "inspectors_present": ["ZF-001", "ZF-003"], "findings": [], "summary": "合格"}, inspection)
    records = list(fold(r.envelope for r in sealer.log.iterate())[0].values())
    kind = lambda name: [r for r in records if r["kind"] == name]  # noqa: E731
    report = obligations(kind("Institution"), kind("Inspection"), "321111", "2024-06-03", 2024)
    states = {(f["institution_id"], f["trigger"]): f["state"] for f in report["first_inspections"]}
    assert states[(ids[0], "InstitutionFiled")] == "met"
    assert states[(ids[1], "InstitutionFiled")] == "overdue"
    assert states[(ids[2], "InstitutionDiscovered")] == "overdue"  # discovered 2024-05-06, due 2024-05-31
    assert report["coverage"]["institutions"] == 3 and report["coverage"]["inspected"] == 1
    earlier = obligations(kind("Institution"), kind("Inspection"), "3211", "2024-05-20", 2024)
    assert {f["institution_id"]: f["state"] for f in earlier["first_inspections"]}[ids[2]] == "pending"


def test_a_plan_without_ratios_takes_the_rule_tables(ledger):
    app, sealer = ledger
    run(app, "inspection_plan.plan", {k: v for k, v in PLAN.items() if k != "ratios"})
    assert next(sealer.log.iterate_types(("InspectionPlanned",)))["payload"]["ratios"] == {"A": "1", "B": "2", "C": "10", "D": "30"}


def test_a_retracted_filing_creates_no_duty_and_a_retracted_inspection_covers_nothing(ledger, clock):
    from projections.inspection_obligations import obligations
    from projections.record_states import fold

    app, sealer = ledger
    ids = populate(app, 2)[:2]
    case = {"institution_id": ids[0], "kind": "case", "trigger": "备案后首次检查", "departments": ["civil_affairs"],
            "inspectors": ["ZF-001", "ZF-003"], "scheduled_on": "2024-04-08"}
    inspection = str(run(app, "inspection.schedule", case).aggregate_id)
    run(app, "inspection.conduct", {"conducted_on": "2024-04-08", "inspectors_present": ["ZF-001", "ZF-003"], "findings": [],
                                    "summary": "合格"}, inspection)

    def event_of(record_id, event_type):
        return next(r.envelope["event_id"] for r in sealer.log.iterate()
                    if r.envelope["aggregate_id"] == record_id and r.envelope["event_type"] == event_type)

    def report():
        records = list(fold(r.envelope for r in sealer.log.iterate())[0].values())
        kind = lambda name: [r for r in records if r["kind"] == name]  # noqa: E731
        return obligations(kind("Institution"), kind("Inspection"), "321111", "2024-06-03", 2024)

    assert report()["coverage"]["inspected"] == 1
    retract = {"reason": "误录", "approver": "科长李某", "retracted_on": "2024-06-03"}
    run(app, "record.retract", dict(retract, original_event_id=event_of(inspection, "InspectionConducted")), inspection)
    after = report()
    assert after["coverage"]["inspected"] == 0
    assert {(f["institution_id"], f["state"]) for f in after["first_inspections"]} >= {(ids[0], "overdue")}
    run(app, "record.retract", dict(retract, original_event_id=event_of(ids[1], "InstitutionFiled")), ids[1])
    final = report()
    assert ids[1] not in {f["institution_id"] for f in final["first_inspections"]}
    assert ids[1] not in {i["institution_id"] for i in final["coverage"]["not_inspected"]}
