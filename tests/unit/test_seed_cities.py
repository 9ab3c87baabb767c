"""Each seed city's plan, recorded as its officers would record it — over the API, on the dates the
plan names (2019, 2020, 2024), under the rules in force for that region on those days. Every test
cites the paragraph of the seed (../shared/seeds/) it follows.
"""

from __future__ import annotations

from datetime import datetime
from itertools import count

import pytest

from projections.disclosure import snapshot_at
from services.ledger.application import BEIJING
from services.ledger.scheduler import run_due
from tests.conftest import Clock, unique_credit_code
from tests.unit.test_api import assert_refused, bearer, serving

SERIAL = count(1)
SCORES_950 = {"environment": 120, "facilities": 130, "operations": 150, "service": 550}


class Officers:
    """The API on a clock set to the plan's days, and officers of one city's departments."""

    def __init__(self, client, runtime, clock: Clock):
        self.client, self.runtime, self.clock = client, runtime, clock

    def on(self, day: str) -> None:
        self.clock.set(datetime.fromisoformat(day).replace(hour=10, tzinfo=BEIJING))

    def post(self, path: str, body: dict, who: tuple, *, document_no: str = "文书〔2020〕1号", expect: int = 201) -> dict:
        basis = {"document_no": document_no, "legal_basis": "《养老机构管理办法》"}
        response = self.client.post(path, json={"basis": basis, **body}, headers=bearer(self.runtime, *who))
        assert response.status_code == expect, response.text
        return response.json()

    def refused(self, path: str, body: dict, who: tuple, code: str, status: int = 422) -> dict:
        basis = {"document_no": "文书〔2020〕1号", "legal_basis": "《养老机构管理办法》"}
        return assert_refused(self.client.post(path, json={"basis": basis, **body}, headers=bearer(self.runtime, *who)), status, code)

    def get(self, path: str, who: tuple, **params) -> dict:
        response = self.client.get(path, params=params, headers=bearer(self.runtime, *who))
        assert response.status_code == 200, response.text
        return response.json()

    def file(self, who: tuple, county: str, name: str, admitted: str, filed: str, **changes) -> str:
        n = next(SERIAL)
        body = {
            "receipt_no": f"{county}-{filed[:4]}-{n:04d}", "name": name, "address": f"{name}所在地址{n}号", "region_code": county,
            "credit_code": unique_credit_code(county), "nature": "for_profit", "ownership_type": "民办", "operator": f"{name}运营公司",
            "legal_representative": "李华", "beds": 80, "nursing_beds": 40, "floor_area_m2": "2400", "premises_ownership": "leased",
            "contact_person": "王芳", "contact_phone": "0511-85551234",
            "registration_authority": {"kind": "market_regulation", "level": "county", "region_code": county},
            "materials": {"application_form": True, "registration_certificate": True, "compliance_commitment": True},
            "first_resident_admitted_on": admitted, "application_received_on": admitted, "filed_on": filed, **changes,
        }
        return self.post("/v1/filings", body, who)["institution_id"]

    def ordered_hazard(self, who: tuple, home: str, *, severity: str, criterion: str, description: str, person: str,
                       on: str, deadline: str, measures: str) -> str:
        """A hazard found and ordered rectified the same day: its task, responsible person and deadline."""
        hazard = self.post("/v1/hazards", {
            "institution_id": home, "severity": severity, "category": "fire_safety", "criterion_ref": criterion,
            "description": description, "responsible_person": person, "identified_on": on}, who)["aggregate_id"]
        self.post(f"/v1/hazards/{hazard}/rectification-order", {"measures": measures, "ordered_on": on, "deadline": deadline}, who)
        return hazard

    def events(self, record_id: str) -> list[dict]:
        return self.get(f"/v1/records/{record_id}", ("civil_affairs", "province", "320000", "auditor"))["decisions"]


@pytest.fixture
def officers(tmp_path):
    clock = Clock(datetime(2020, 1, 2, 10, tzinfo=BEIJING))
    with serving(tmp_path / "data", clock) as (client, runtime):
        yield Officers(client, runtime, clock)


# --- Zhenjiang 2020 (seed 000) ---------------------------------------------------------------------


def test_zhenjiang_grades_three_four_and_five_in_july_august_and_september(officers):
    """Seed 000 §三（六）: levels 1–3 by the city's districts, level 4 by the city, level 5 by the
    province; by the end of July the districts finish levels 1–3 and recommend level-3 homes to the
    city as level-4 candidates, by the end of August the city finishes level 4 and recommends to the
    province, by the end of September the province finishes level 5."""
    district = ("civil_affairs", "county", "321102")  # 京口区
    city = ("civil_affairs", "city", "321100")
    province = ("civil_affairs", "province", "320000")
    officers.on("2020-06-30")
    home = officers.file(district, "321102", "京口区康乐养老院", admitted="2019-03-04", filed="2019-03-12")
    officers.post("/v1/compliance-assessments", {"institution_id": home, "standard": "GB 38600", "compliant": True,
                                                 "failed_clauses": [], "assessed_on": "2020-06-15", "assessor": "京口区民政局"}, district)

    def through_award(grader, recommender, level, applied, steps):
        reviewed, scored, decided, publicity, closed, awarded = steps
        officers.on(applied)
        app = officers.post("/v1/grading-applications", {"institution_id": home, "requested_level": level, "applied_on": applied},
                            grader)["aggregate_id"]
        if recommender:
            officers.post(f"/v1/grading-applications/{app}/recommendation",
                          {"recommended_on": applied, "remarks": f"遴选推荐为{level}级候选对象"}, recommender)
        officers.on(awarded)
        officers.post(f"/v1/grading-applications/{app}/eligibility-review", {"reviewed_on": reviewed}, grader)
        officers.post(f"/v1/grading-applications/{app}/assessment", {"assessed_on": scored, "scores": SCORES_950}, grader)
        officers.post(f"/v1/grading-applications/{app}/committee-decision", {"decided_on": decided, "approved_level": level}, grader)
        officers.post(f"/v1/grading-applications/{app}/publicity", {"started_on": publicity}, grader)
        officers.post(f"/v1/grading-applications/{app}/publicity-closure", {"closed_on": closed, "objection_upheld": False}, grader)
        officers.post(f"/v1/grading-applications/{app}/award", {"awarded_on": awarded, "certificate_no": f"镇江等级证{level}"}, grader)
        return app

    through_award(district, None, 3, "2020-07-01", ("2020-07-02", "2020-07-06", "2020-07-07", "2020-07-08", "2020-07-15", "2020-07-16"))
    four = through_award(city, district, 4, "2020-08-03",
                         ("2020-08-04", "2020-08-05", "2020-08-06", "2020-08-07", "2020-08-14", "2020-08-17"))
    five = through_award(province, city, 5, "2020-09-01",
                         ("2020-09-02", "2020-09-03", "2020-09-04", "2020-09-07", "2020-09-14", "2020-09-15"))

    review = next(e for e in officers.events(four) if e["event_type"] == "GradingEligibilityReviewed")
    assert review["payload"]["eligible"] and review["payload"]["reasons"] == []
    # judged by the national rules of 2019 with Jiangsu's authority and Zhenjiang's timing on top
    assert review["rule_version"] == "rules-2019-11-01+320000-2020-01-01+321100-2020-01-01"
    assert officers.get(f"/v1/records/{five}", province)["state"]["level"] == 5
    officers.on("2020-09-30")
    graded = snapshot_at((r.envelope for r in officers.runtime.sealer.log.iterate()), on="2020-09-30")["lists"]["graded"]
    assert [(row["name"], row["grade_level"]) for row in graded] == [("京口区康乐养老院", 5)]


def test_outside_the_pipeline_a_district_cannot_grade_level_four(officers):
    """Seed 000 §三（六）: level 4 belongs to the city's civil affairs bureau."""
    district = ("civil_affairs", "county", "321102")
    officers.on("2020-07-01")
    home = officers.file(district, "321102", "京口区福寿养老院", admitted="2019-03-04", filed="2019-03-12")
    error = officers.refused("/v1/grading-applications", {"institution_id": home, "requested_level": 4, "applied_on": "2020-07-01"},
                             district, "GRADING_AUTHORITY_MISMATCH", status=403)
    assert "市级民政部门" in error["message_zh"]


# --- Anshan 2020 (seed 001) ------------------------------------------------------------------------


def test_anshan_publishes_its_filed_and_unfiled_lists_and_copies_the_unfiled_to_departments(officers):
    """Seed 001 二（三）: by 15 October the county civil affairs publish the institutions registered
    and filed, and those known but not registered or filed, and copy the unfiled list to the
    departments concerned to be dealt with by law."""
    tiedong = ("civil_affairs", "county", "210302")  # 铁东区
    officers.on("2020-09-30")
    officers.file(tiedong, "210302", "铁东区颐养院", admitted="2020-08-03", filed="2020-08-10")
    found = officers.post("/v1/institutions", {
        "name": "铁东区某托老所", "address": "鞍山市铁东区园林路3号", "region_code": "210302", "operator": "个人举办",
        "discovered_on": "2020-09-14", "source": "survey", "residents": 12,
        "handling": {"referred_to": ["fire_rescue", "market_regulation"], "reason": "未办理登记", "measures": "责令办理登记备案",
                     "deadline": "2020-11-30", "responsible_person": "赵刚"},
    }, tiedong)["institution_id"]
    lists = snapshot_at((r.envelope for r in officers.runtime.sealer.log.iterate()), on="2020-10-14")["lists"]
    assert [row["name"] for row in lists["filed"]] == ["铁东区颐养院"]
    [unfiled] = lists["unfiled"]
    assert unfiled["id"] == found and unfiled["handling_overdue_since"] is None
    # its handling deadline (30 November) passed unfiled: the list says so from 1 December
    later = snapshot_at((r.envelope for r in officers.runtime.sealer.log.iterate()), on="2020-12-02")["lists"]["unfiled"]
    assert [row["handling_overdue_since"] for row in later] == ["2020-12-01"]
    # the departments it was copied to see it in their own search
    fire = ("fire_rescue", "city", "210300", "viewer")
    hits = officers.get("/v1/search", fire, q="托老所")["hits"]
    assert [h["id"] for h in hits] == [found]


def test_anshan_hazards_are_a_ledger_closed_only_when_rectified(officers):
    """Seed 001 二（二）: every hazard with its task, responsible person and deadline, worked off
    against the map (挂图作战、限期整改); the month's lists show it until it is closed."""
    fire = ("fire_rescue", "county", "210302")
    tiedong = ("civil_affairs", "county", "210302")
    officers.on("2020-09-01")
    home = officers.file(tiedong, "210302", "铁东区康宁院", admitted="2020-05-06", filed="2020-05-12")
    hazard = officers.ordered_hazard(fire, home, severity="general", criterion="FIRE-5", description="电动车在楼道内充电",
                                     person="院长孙某", on="2020-09-01", deadline="2020-09-15", measures="设置集中充电区")
    september = officers.get("/v1/hazard-lists", tiedong, region="210300", month="2020-09")
    assert [h["hazard_id"] for h in september["problems"]] == [hazard]
    assert [r["responsible_person"] for r in september["responsibilities"]] == ["院长孙某"]
    officers.on("2020-09-20")
    officers.refused(f"/v1/hazards/{hazard}/rectification", {"rectified_on": "2020-08-30", "measures_taken": "已设置",
                                                             "evidence": []}, fire, "DATE_ORDER_INVALID")
    officers.post(f"/v1/hazards/{hazard}/rectification", {"rectified_on": "2020-09-14", "measures_taken": "已设置集中充电区",
                                                          "evidence": ["照片-1"]}, fire)
    officers.post(f"/v1/hazards/{hazard}/verification", {"verified_on": "2020-09-18", "outcome": "closed"}, fire)
    october = officers.get("/v1/hazard-lists", tiedong, region="210300", month="2020-10")
    assert october["problems"] == []


def test_anshan_tracks_its_sixty_percent_gb38600_target(officers):
    """Seed 001 一 and 二（三）: 60 % of institutions meeting GB 38600 ahead of its force by the end
    of 2020."""
    city = ("civil_affairs", "city", "210300")
    tiedong = ("civil_affairs", "county", "210302")
    officers.on("2020-11-02")
    homes = [officers.file(tiedong, "210302", f"铁东区第{i}养老院", admitted="2020-05-06", filed="2020-05-12") for i in range(3)]
    officers.post("/v1/campaign-targets", {"region_code": "210300", "year": 2020, "metric": "gb38600_compliant",
                                           "target_percent": "60", "source": "鞍山市养老院服务质量建设专项行动方案（2020）"}, city)
    for home, compliant in zip(homes, (True, True, False)):
        officers.post("/v1/compliance-assessments", {
            "institution_id": home, "standard": "GB 38600", "compliant": compliant,
            "failed_clauses": [] if compliant else ["GB38600-6.6"], "assessed_on": "2020-10-20", "assessor": "第三方评估机构"}, tiedong)
    progress = officers.get("/v1/campaign-progress", city, region="210300", year=2020)
    gb38600 = next(m for m in progress["metrics"] if m["metric"] == "gb38600_compliant")
    assert (gb38600["count"], gb38600["of"], gb38600["met"]) == (2, 3, True)


# --- Jilin 2020 (seed 002) -------------------------------------------------------------------------


def test_jilin_lists_after_a_defence_window_across_national_day(officers):
    """Seed 002 二（五）: the province's joint-punishment list of the elderly-care market. A notice
    served on 28 September 2020: its five working days of defence skip National Day and the
    Mid-Autumn festival (1–8 October) and count the make-up Saturday of 10 October."""
    nanguan = ("civil_affairs", "county", "220102")  # 长春市南关区
    officers.on("2020-08-03")
    home = officers.file(nanguan, "220102", "南关区安康养老院", admitted="2019-05-06", filed="2019-05-10")
    case = officers.post("/v1/sanction-cases", {"institution_id": home, "ground": "MCA66-46.7", "facts_summary": "侵害老年人权益",
                                                "filed_on": "2020-08-03"}, nanguan)["aggregate_id"]
    officers.on("2020-09-28")
    officers.post(f"/v1/sanction-cases/{case}/notice", {"served_on": "2020-08-04", "penalties": [{"type": "fine", "amount": "9000"}],
                                                        "facts": "经查属实", "legal_basis": "66号令第46条"}, nanguan)
    officers.post(f"/v1/sanction-cases/{case}/decision", {
        "decision_no": "南民罚决〔2020〕3号", "decided_on": "2020-08-20", "violation_type": "侵害老年人合法权益", "facts": "经查属实",
        "legal_basis": "66号令第46条", "penalties": [{"type": "fine", "amount": "9000"}], "compliance": "15日内缴纳罚款",
        "remedies": "60日内申请复议或6个月内起诉", "deciding_authority": "长春市南关区民政局"}, nanguan)
    listing = officers.post("/v1/credit-listings", {
        "institution_id": home, "list": "joint_punishment", "ground": "elder_rights_harm", "grounding_kind": "sanction_case",
        "grounding_ref": case, "proposed_on": "2020-09-25", "persons": [{"name": "王某", "role": "法定代表人", "id_no": "220102195001011234"}],
    }, nanguan)["aggregate_id"]
    served = officers.post(f"/v1/credit-listings/{listing}/notice", {"served_on": "2020-09-28"}, nanguan)
    assert served["status"] == "noticed"
    assert officers.get(f"/v1/records/{listing}", nanguan)["state"]["defence_deadline"] == "2020-10-12"
    officers.on("2020-10-12")
    officers.refused(f"/v1/credit-listings/{listing}/decision", {"outcome": "listed", "decided_on": "2020-10-12", "reasons": "事实清楚"},
                     nanguan, "DEFENCE_PERIOD_OPEN")
    officers.post(f"/v1/credit-listings/{listing}/defence", {"received_on": "2020-10-12", "summary": "对事实无异议，请求从轻"}, nanguan)
    officers.on("2020-10-13")
    decided = officers.post(f"/v1/credit-listings/{listing}/decision", {"outcome": "listed", "decided_on": "2020-10-13",
                                                                          "reasons": "事实清楚，申辩理由不成立"}, nanguan)
    assert decided["status"] == "listed"
    notice = next(e for e in officers.events(listing) if e["event_type"] == "CreditListingNoticeServed")
    assert notice["rule_version"] == "rules-2019-11-01+220000-2020-01-01"


def test_a_listing_before_the_list_existed_is_refused(officers):
    """民发〔2019〕103号 (2019-11-01) began the list: a proposal dated before it has no rules."""
    nanguan = ("civil_affairs", "county", "220102")
    officers.on("2019-10-30")
    home = officers.file(nanguan, "220102", "南关区福康院", admitted="2019-05-06", filed="2019-05-10")
    officers.refused("/v1/credit-listings", {
        "institution_id": home, "list": "joint_punishment", "ground": "court_designation", "grounding_kind": "court_judgment",
        "grounding_ref": "（2019）吉0102执1号", "proposed_on": "2019-10-30", "persons": []}, nanguan, "RULE_NOT_IN_FORCE")


# --- Sanming 2024 (seed 003) -----------------------------------------------------------------------


def test_sanming_closes_a_failing_home_after_resettling_its_residents(officers):
    """Seed 003 三（二）and三（七）: homes that cannot be made safe are closed, suspended, merged or
    converted (关停并转) — the residents resettled first, the plan submitted sixty days ahead."""
    sanyuan = ("civil_affairs", "county", "350404")  # 三明市三元区
    officers.on("2024-05-06")
    home = officers.file(sanyuan, "350404", "三元区某敬老院", admitted="2021-05-06", filed="2021-05-10")
    centre = officers.file(sanyuan, "350404", "三元区中心敬老院", admitted="2020-05-06", filed="2020-05-11")
    officers.refused(f"/v1/institutions/{home}/closure-plan", {
        "kind": "merge", "plan_submitted_on": "2024-05-06", "effective_on": "2024-06-01", "residents": 9,
        "plan_summary": "并入三元区中心敬老院", "merge_into": centre}, sanyuan, "PLAN_TOO_LATE")
    officers.post(f"/v1/institutions/{home}/closure-plan", {
        "kind": "merge", "plan_submitted_on": "2024-05-06", "effective_on": "2024-07-08", "residents": 9,
        "plan_summary": "并入三元区中心敬老院", "merge_into": centre}, sanyuan)
    officers.on("2024-07-08")
    officers.refused(f"/v1/institutions/{home}/closure", {"kind": "merge", "closed_on": "2024-07-08"}, sanyuan, "RESIDENTS_NOT_RESETTLED")
    officers.post(f"/v1/institutions/{home}/resettlement", {"resettled_on": "2024-07-05", "residents": 9, "summary": "9名老人全部转入中心敬老院"},
                  sanyuan)
    assert officers.post(f"/v1/institutions/{home}/closure", {"kind": "merge", "closed_on": "2024-07-08"}, sanyuan)["status"] == "merged"


# --- Tianjin Hebei district 2019 (seed 004) --------------------------------------------------------


def test_hebei_district_suspends_then_closes_a_home_whose_major_hazard_stays_overdue(officers):
    """Seed 004 三（一）: a home with a major risk not corrected in time is ordered to suspend and
    rectify (责令停业整顿); in serious cases it is banned or closed once its residents are properly
    resettled. All in 2019, under the rules in force then."""
    fire = ("fire_rescue", "county", "120105")
    civil = ("civil_affairs", "county", "120105")
    officers.on("2019-06-10")
    home = officers.file(civil, "120105", "河北区某养老院", admitted="2019-03-04", filed="2019-03-11")
    hazard = officers.ordered_hazard(fire, home, severity="major", criterion="FIRE-3", description="安全出口锁闭，疏散通道堆放杂物",
                                     person="院长刘某", on="2019-06-10", deadline="2019-06-30", measures="打开安全出口，清理通道")
    officers.on("2019-07-02")
    assert [str(r.aggregate_id) for r in run_due(officers.runtime.ledger)] == [hazard]
    officers.refused(f"/v1/hazards/{hazard}/escalation", {"step": "closure_ordered", "decided_on": "2019-07-02",
                                                          "reason": "逾期未改正"}, civil, "ESCALATION_ORDER")  # suspension first
    officers.post(f"/v1/hazards/{hazard}/escalation", {"step": "suspension_ordered", "decided_on": "2019-07-02",
                                                       "reason": "重大隐患逾期未改正", "rectify_by": "2019-08-30"}, civil)
    assert officers.get(f"/v1/institutions/{home}", civil)["status"] == "suspended"
    officers.on("2019-09-02")
    officers.refused(f"/v1/hazards/{hazard}/escalation", {"step": "closure_ordered", "decided_on": "2019-09-02",
                                                          "reason": "停业整顿期满仍未改正"}, civil, "RESIDENTS_NOT_RESETTLED")
    officers.post(f"/v1/institutions/{home}/closure-plan", {
        "kind": "close", "plan_submitted_on": "2019-09-02", "effective_on": "2019-11-01", "residents": 15,
        "plan_summary": "15名老人分流至区内其他养老机构"}, civil)
    officers.on("2019-10-31")
    officers.post(f"/v1/institutions/{home}/resettlement", {"resettled_on": "2019-10-31", "residents": 15, "summary": "全部妥善安置"}, civil)
    officers.post(f"/v1/hazards/{hazard}/escalation", {"step": "closure_ordered", "decided_on": "2019-10-31",
                                                       "reason": "情节严重，依法取缔"}, civil)
    decisions = officers.events(hazard)
    # the rules of 2019 (the credit rules' version from July), with the Hebei district's own row
    assert {e["rule_version"] for e in decisions} == {"rules-2019-01-01+120105-2019-06-01", "rules-2019-07-01+120105-2019-06-01"}
