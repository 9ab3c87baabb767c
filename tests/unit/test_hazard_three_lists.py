"""The monthly hazard "three lists" (问题清单、整改清单、责任清单) show each hazard as it stood on
the last day of the month: deadlines that had passed by then make an order overdue whenever the
scheduler got round to recording it, steps dated after month end do not count, corrections apply
as the ledger knows them now, and a retracted hazard is on no list.

One hand-built ledger (润州区 321111 and 鞍山 铁东区 210302, October–December 2024) and the exact
rows of the October and November 2024 lists, worked out by hand below."""

from datetime import date

import pytest

from events.visibility import named
from projections.hazard_lists import RESPONSIBILITY_FIELDS, ROW_FIELDS, monthly_lists
from projections.record_states import fold
from services.domain.actors import Actor
from services.ledger.application import Basis
from services.ledger.scheduler import run_due
from tests.conftest import command, county_officer, decide, filing_request, unique_credit_code
from tests.unit.test_api import bearer, serving
from tests.unit.test_hazard_rules import FIRE, identify, step

MARKET = Actor("market_regulation", "county", "321111", "市场监管员")
HEALTH = Actor("health", "county", "321111", "卫健监督员")
CIVIL = county_officer()
ANSHAN_CIVIL = county_officer("210302")
ANSHAN_FIRE = Actor("fire_rescue", "county", "210302", "鞍山消防监督员")
AMEND = Basis("润消更〔2024〕2号", "《养老机构管理办法》")

MAJOR = {"severity": "major", "criterion_ref": "MH2023-4.2"}
GENERAL = {"severity": "general", "criterion_ref": "GB38600-6.6"}

# The status names, written out by hand (events/hazards.py declares them).
NAMES = {"identified": "已发现", "ordered": "限期整改中", "overdue": "逾期未整改", "rectified": "已整改待验收", "closed": "已销账"}


# --- helpers ---


def event_id(app, hazard, event_type):
    return next(r.envelope["event_id"] for r in app.sealer.log.iterate()
                if r.envelope["aggregate_id"] == str(hazard) and r.envelope["event_type"] == event_type)


def order(day, deadline, measures="限期整改"):
    return {"measures": measures, "ordered_on": day, "deadline": deadline}


# --- the ledger -----------------------------------------------------------------------------------


def record_the_autumn(app, clock) -> dict[str, str]:
    """Record the scenario, moving the clock as the days pass; the hazards' ids by name."""
    clock.set(date(2024, 6, 3))
    yihe = str(app.file_new(command(filing_request())).institution_id)
    kangle = str(app.file_new(command(filing_request(
        credit_code=unique_credit_code(), receipt_no="321111-2024-0031", name="镇江市润州区康乐老年公寓",
        address="江苏省镇江市润州区南山路6号"))).institution_id)
    anshan = str(app.file_new(command(filing_request(
        credit_code=unique_credit_code("210302"), receipt_no="210302-2024-0007", name="鞍山市铁东区福寿养老院",
        address="辽宁省鞍山市铁东区胜利南路20号", region_code="210302",
        registration_authority={"kind": "market_regulation", "level": "county", "region_code": "210302"}), ANSHAN_CIVIL)).institution_id)
    h: dict[str, str] = {}

    def on(*ymd):
        clock.set(date(*ymd))

    # 4. a major hazard at 康乐, overdue on 10-08, marked by the scheduler on 10-10, escalated on 10-14
    on(2024, 10, 2)
    h["escalated"] = str(identify(app, kangle, identified_on="2024-10-02").aggregate_id)
    step(app, "order", h["escalated"], order("2024-10-02", "2024-10-08"))
    # the Liaoning hazard (region filter)
    on(2024, 10, 5)
    h["anshan"] = str(identify(app, anshan, ANSHAN_FIRE, identified_on="2024-10-05", **GENERAL).aggregate_id)
    step(app, "order", h["anshan"], order("2024-10-05", "2024-10-09"), ANSHAN_FIRE)
    # 1. major hazards due 10-15, rectified 11-05 and closed 11-06: one recorded on those days (the
    # scheduler never marks it overdue), one recorded late (the scheduler marked it overdue on 12-02 first)
    on(2024, 10, 7)
    h["closed_on_time"] = str(identify(app, yihe, identified_on="2024-10-07").aggregate_id)
    step(app, "order", h["closed_on_time"], order("2024-10-07", "2024-10-15"))
    on(2024, 10, 8)
    h["closed_late_entry"] = str(identify(app, yihe, identified_on="2024-10-08").aggregate_id)
    step(app, "order", h["closed_late_entry"], order("2024-10-08", "2024-10-15"))
    # 2. a general hazard found, ordered, rectified and closed in October (civil affairs throughout)
    on(2024, 10, 9)
    h["closed_in_october"] = str(identify(app, yihe, CIVIL, identified_on="2024-10-09", responsible_person="护理部主任孙某",
                                          **GENERAL).aggregate_id)
    step(app, "order", h["closed_in_october"], order("2024-10-09", "2024-10-25", "加装扶手"), CIVIL)
    # 6. a deadline of 10-20, corrected on 11-02 to 11-20
    on(2024, 10, 10)
    h["deadline_corrected"] = str(identify(app, yihe, identified_on="2024-10-10", **GENERAL).aggregate_id)
    step(app, "order", h["deadline_corrected"], order("2024-10-10", "2024-10-20", "更换过期灭火器"))
    recorded = run_due(app)  # 10-10: only the orders due 10-08 and 10-09 have passed
    assert {str(r.aggregate_id) for r in recorded} == {h["escalated"], h["anshan"]}
    # 5. an order retracted (the hazard stays, identified), and an identification retracted
    on(2024, 10, 11)
    h["order_retracted"] = str(identify(app, yihe, MARKET, identified_on="2024-10-11", responsible_person="副院长赵某",
                                        category="food", description="食品留样不全", **GENERAL).aggregate_id)
    step(app, "order", h["order_retracted"], order("2024-10-11", "2024-10-18", "完善留样"), MARKET)
    on(2024, 10, 12)
    retract = {"original_event_id": event_id(app, h["order_retracted"], "HazardRectificationOrdered"), "reason": "责令对象错误",
               "approver": "科长周某", "retracted_on": "2024-10-12"}
    decide(app, "record.retract", retract, h["order_retracted"], MARKET, AMEND)
    h["identification_retracted"] = str(identify(app, yihe, identified_on="2024-10-12", **GENERAL).aggregate_id)
    on(2024, 10, 13)
    retract = {"original_event_id": event_id(app, h["identification_retracted"], "HazardIdentified"), "reason": "误登记",
               "approver": "大队长", "retracted_on": "2024-10-13"}
    decide(app, "record.retract", retract, h["identification_retracted"], FIRE, AMEND)
    on(2024, 10, 14)
    escalation = {"step": "suspension_ordered", "decided_on": "2024-10-14", "reason": "重大火灾隐患逾期未整改",
                  "rectify_by": "2024-11-15"}
    step(app, "escalate", h["escalated"], escalation, CIVIL)
    on(2024, 10, 22)
    step(app, "rectify", h["closed_in_october"], {"rectified_on": "2024-10-20", "measures_taken": "已加装"}, CIVIL)
    step(app, "verify", h["closed_in_october"], {"verified_on": "2024-10-22", "outcome": "closed"}, CIVIL)
    on(2024, 11, 2)
    correct = {"original_event_id": event_id(app, h["deadline_corrected"], "HazardRectificationOrdered"), "reason": "期限笔误",
               "approver": "大队长", "corrected": {"deadline": "2024-11-20"}, "corrected_on": "2024-11-02"}
    decide(app, "record.correct", correct, h["deadline_corrected"], FIRE, AMEND)
    on(2024, 11, 5)
    step(app, "rectify", h["closed_on_time"], {"rectified_on": "2024-11-05", "measures_taken": "已清理并修复"})
    on(2024, 11, 6)
    step(app, "verify", h["closed_on_time"], {"verified_on": "2024-11-06", "outcome": "closed"})
    # 3. found in November
    on(2024, 11, 12)
    h["november"] = str(identify(app, kangle, HEALTH, identified_on="2024-11-12", responsible_person="后勤主任钱某",
                                 category="medical", description="药品储存不规范", **GENERAL).aggregate_id)
    # December: the scheduler marks the late-entered hazard and the corrected deadline overdue, and
    # only then is the rectification of 11-05 and the closing of 11-06 recorded
    on(2024, 12, 2)
    recorded = run_due(app)
    assert {str(r.aggregate_id) for r in recorded} == {h["closed_late_entry"], h["deadline_corrected"]}
    step(app, "rectify", h["closed_late_entry"], {"rectified_on": "2024-11-05", "measures_taken": "已清理并修复"})
    step(app, "verify", h["closed_late_entry"], {"verified_on": "2024-11-06", "outcome": "closed"})
    return dict(h, yihe=yihe, kangle=kangle, anshan_institution=anshan)


def hazard_states(app):
    states, _ = fold(r.envelope for r in app.sealer.log.iterate())
    return [r for r in states.values() if r["kind"] == "Hazard"]


# --- the expectation, by hand ---------------------------------------------------------------------

SHOWN = ("hazard_id", "status", "status_name", "deadline", "escalations", "rectified_on", "closed_on")


def shown(rows):
    return [{k: r[k] for k in SHOWN} for r in rows]


def row(hazard_id, status, deadline, escalations=(), rectified_on=None, closed_on=None):
    return {"hazard_id": hazard_id, "status": status, "status_name": NAMES[status], "deadline": deadline,
            "escalations": list(escalations), "rectified_on": rectified_on, "closed_on": closed_on}


def responsibility(hazard_id, institution_id, responsible_person, departments, region_code="321111"):
    return {"hazard_id": hazard_id, "institution_id": institution_id, "region_code": region_code,
            "responsible_person": responsible_person, "departments": departments}


def expected_october(h):
    """As of 2024-10-31, in identification order:
    - escalated (10-02): ordered, due 10-08, overdue since 10-10, suspension ordered 10-14;
    - closed_on_time (10-07), closed_late_entry (10-08): ordered, due 10-15, nothing else by 10-31
      (rectified 11-05): overdue, though no HazardOverdue is dated in October;
    - closed_in_october (10-09): closed 10-22: on the rectification list only;
    - deadline_corrected (10-10): the deadline as corrected is 11-20: still under order;
    - order_retracted (10-11): the order is gone: identified, no deadline, so no rectification row;
    - identification_retracted: on no list; november: not found yet; anshan: another region."""
    esc, on_time, late, october, corrected, unordered = (h[k] for k in (
        "escalated", "closed_on_time", "closed_late_entry", "closed_in_october", "deadline_corrected", "order_retracted"))
    return {
        "region": "3211", "month": "2024-10", "as_of": "2024-10-31",
        "problems": [
            row(esc, "overdue", "2024-10-08", ["suspension_ordered"]),
            row(on_time, "overdue", "2024-10-15"),
            row(late, "overdue", "2024-10-15"),
            row(corrected, "ordered", "2024-11-20"),
            row(unordered, "identified", None),
        ],
        "rectifications": [
            row(esc, "overdue", "2024-10-08", ["suspension_ordered"]),
            row(on_time, "overdue", "2024-10-15"),
            row(late, "overdue", "2024-10-15"),
            row(october, "closed", "2024-10-25", rectified_on="2024-10-20", closed_on="2024-10-22"),
            row(corrected, "ordered", "2024-11-20"),
        ],
        "responsibilities": [
            responsibility(esc, h["kangle"], "院长王某", ["civil_affairs", "fire_rescue"]),
            responsibility(on_time, h["yihe"], "院长王某", ["civil_affairs", "fire_rescue"]),
            responsibility(late, h["yihe"], "院长王某", ["civil_affairs", "fire_rescue"]),
            responsibility(corrected, h["yihe"], "院长王某", ["civil_affairs", "fire_rescue"]),
            responsibility(unordered, h["yihe"], "副院长赵某", ["civil_affairs", "market_regulation"]),
        ],
    }


def expected_november(h):
    """As of 2024-11-30:
    - escalated: still overdue, with its suspension;
    - closed_on_time, closed_late_entry: rectified 11-05, closed 11-06 (the late entry's overdue of
      12-02 is after month end): closed in the month, on the rectification list only;
    - closed_in_october: closed before the month: on no list;
    - deadline_corrected: due 11-20, not closed: overdue;
    - order_retracted: identified; november (11-12): identified, by health."""
    esc, on_time, late, corrected, unordered, nov = (h[k] for k in (
        "escalated", "closed_on_time", "closed_late_entry", "deadline_corrected", "order_retracted", "november"))
    return {
        "region": "3211", "month": "2024-11", "as_of": "2024-11-30",
        "problems": [
            row(esc, "overdue", "2024-10-08", ["suspension_ordered"]),
            row(corrected, "overdue", "2024-11-20"),
            row(unordered, "identified", None),
            row(nov, "identified", None),
        ],
        "rectifications": [
            row(esc, "overdue", "2024-10-08", ["suspension_ordered"]),
            row(on_time, "closed", "2024-10-15", rectified_on="2024-11-05", closed_on="2024-11-06"),
            row(late, "closed", "2024-10-15", rectified_on="2024-11-05", closed_on="2024-11-06"),
            row(corrected, "overdue", "2024-11-20"),
        ],
        "responsibilities": [
            responsibility(esc, h["kangle"], "院长王某", ["civil_affairs", "fire_rescue"]),
            responsibility(corrected, h["yihe"], "院长王某", ["civil_affairs", "fire_rescue"]),
            responsibility(unordered, h["yihe"], "副院长赵某", ["civil_affairs", "market_regulation"]),
            responsibility(nov, h["kangle"], "后勤主任钱某", ["civil_affairs", "health"]),
        ],
    }


def expected_anshan_october(h):
    """铁东区: ordered 10-05, due 10-09, marked overdue 10-10 by the scheduler."""
    return {
        "region": "2103", "month": "2024-10", "as_of": "2024-10-31",
        "problems": [row(h["anshan"], "overdue", "2024-10-09")],
        "rectifications": [row(h["anshan"], "overdue", "2024-10-09")],
        "responsibilities": [responsibility(h["anshan"], h["anshan_institution"], "院长王某", ["civil_affairs", "fire_rescue"],
                                            "210302")],
    }


def as_shown(lists):
    return dict(lists, problems=shown(lists["problems"]), rectifications=shown(lists["rectifications"]))


# --- the tests ------------------------------------------------------------------------------------


def test_the_october_and_november_lists_show_each_hazard_as_it_stood_at_month_end(ledger, clock):
    app, _ = ledger
    h = record_the_autumn(app, clock)
    hazards = hazard_states(app)
    assert len(hazards) == 9  # the retracted identification is still a record, only on no list
    # What the scheduler recorded, and when: nothing for the hazard closed on time, 12-02 for the late entry.
    overdue = {r.envelope["aggregate_id"]: r.envelope["occurred_at"] for r in app.sealer.log.iterate()
               if r.envelope["event_type"] == "HazardOverdue"}
    assert overdue == {h["escalated"]: "2024-10-10", h["anshan"]: "2024-10-10", h["closed_late_entry"]: "2024-12-02",
                       h["deadline_corrected"]: "2024-12-02"}

    october = monthly_lists(hazards, "3211", "2024-10")
    assert as_shown(october) == expected_october(h)
    november = monthly_lists(hazards, "3211", "2024-11")
    assert as_shown(november) == expected_november(h)
    assert as_shown(monthly_lists(hazards, "2103", "2024-10")) == expected_anshan_october(h)
    assert as_shown(monthly_lists(hazards, "21", "2024-10")) == dict(expected_anshan_october(h), region="21")
    assert monthly_lists(hazards, "3211", "2024-09")["problems"] == []

    # One whole row, every field: the corrected deadline as of October, ordered by fire rescue.
    assert october["problems"][3] == {
        "hazard_id": h["deadline_corrected"], "status": "ordered", "status_name": "限期整改中",
        "institution_id": h["yihe"], "region_code": "321111", "severity": "general", "category": "fire_safety",
        "criterion_ref": "GB38600-6.6", "description": "疏散通道堵塞，自动喷水灭火系统损坏", "responsible_person": "院长王某",
        "inspection_id": None, "measures": "更换过期灭火器", "identified_on": "2024-10-10", "identified_by": "fire_rescue",
        "deadline": "2024-11-20", "ordered_by": "fire_rescue", "ordered_on": "2024-10-10", "rectified_on": None,
        "closed_on": None, "escalations": [],
    }


@pytest.fixture
def api(tmp_path, clock):
    with serving(tmp_path, clock) as served:
        yield served


def test_the_api_serves_the_same_lists(api, clock):
    client, runtime = api
    h = record_the_autumn(runtime.ledger, clock)
    hazards = hazard_states(runtime.ledger)
    city = bearer(runtime, "civil_affairs", "city", "321100")
    for month, expected in (("2024-10", expected_october(h)), ("2024-11", expected_november(h))):
        response = client.get("/v1/hazard-lists", params={"region": "321100", "month": month}, headers=city)
        assert response.status_code == 200, response.text
        served = response.json()
        lists = monthly_lists(hazards, "3211", month)  # as the gate shows them: each enum value named beside it
        assert served == {**lists, **{name: [named(ROW_FIELDS, row) for row in lists[name]] for name in ("problems", "rectifications")},
                          "responsibilities": [named(RESPONSIBILITY_FIELDS, row) for row in lists["responsibilities"]]}
        assert {row["severity_name"] for row in served["problems"]} <= {"一般隐患", "重大隐患"}
        assert as_shown(served) == expected
    anshan = bearer(runtime, "civil_affairs", "city", "210300")
    served = client.get("/v1/hazard-lists", params={"region": "210300", "month": "2024-10"}, headers=anshan).json()
    assert as_shown(served) == expected_anshan_october(h)


def test_a_corrected_decision_date_decides_the_month_it_counts_in(ledger, clock):
    """A correction of a decision's own date (日期笔误) moves the decision to the corrected day, as the
    correction of a deadline moves the day the order falls overdue: a verification dated 10-31 and
    corrected to 11-02 did not close the hazard in October; an identification dated 10-30 and
    corrected to 11-02 puts the hazard on no October list."""
    app, _ = ledger
    yihe = str(app.file_new(command(filing_request())).institution_id)
    clock.set(date(2024, 11, 5))
    verified = str(identify(app, yihe, identified_on="2024-10-10", **GENERAL).aggregate_id)
    step(app, "order", verified, order("2024-10-10", "2024-12-20"))
    step(app, "rectify", verified, {"rectified_on": "2024-10-30", "measures_taken": "已加装"})
    step(app, "verify", verified, {"verified_on": "2024-10-31", "outcome": "closed"})
    found = str(identify(app, yihe, identified_on="2024-10-30", **GENERAL).aggregate_id)
    for hazard, event_type, corrected in ((verified, "HazardVerified", {"verified_on": "2024-11-02"}),
                                          (found, "HazardIdentified", {"identified_on": "2024-11-02"})):
        correct = {"original_event_id": event_id(app, hazard, event_type), "reason": "日期笔误", "approver": "大队长",
                   "corrected": corrected, "corrected_on": "2024-11-05"}
        decide(app, "record.correct", correct, hazard, FIRE, AMEND)
    hazards = hazard_states(app)

    october = monthly_lists(hazards, "3211", "2024-10")
    still_open = row(verified, "rectified", "2024-12-20", rectified_on="2024-10-30")
    assert shown(october["problems"]) == [still_open]
    assert shown(october["rectifications"]) == [still_open]
    assert [r["hazard_id"] for r in october["responsibilities"]] == [verified]

    november = monthly_lists(hazards, "3211", "2024-11")
    assert shown(november["problems"]) == [row(found, "identified", None)]
    assert shown(november["rectifications"]) == [row(verified, "closed", "2024-12-20", rectified_on="2024-10-30",
                                                      closed_on="2024-11-02")]


def test_a_hazard_put_right_on_the_spot_is_on_the_rectification_list_of_its_month(ledger, clock):
    app, _ = ledger
    yihe = str(app.file_new(command(filing_request())).institution_id)
    clock.set(date(2024, 11, 5))
    spot = str(identify(app, yihe, identified_on="2024-10-12", **GENERAL).aggregate_id)
    step(app, "rectify", spot, {"rectified_on": "2024-10-12", "measures_taken": "当场清理"})
    step(app, "verify", spot, {"verified_on": "2024-10-13", "outcome": "closed"})
    october = monthly_lists(hazard_states(app), "3211", "2024-10")
    assert october["problems"] == [] and [r["hazard_id"] for r in october["rectifications"]] == [spot]
    assert monthly_lists(hazard_states(app), "3211", "2024-11")["rectifications"] == []
