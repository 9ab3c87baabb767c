"""Demo data for the seed regions (镇江 321100, 鞍山 210300): filed institutions, known unfiled
ones, and unfiled ones later filed — sent as real commands, each with an idempotency key, so
running the demo twice records nothing twice."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from events.regions import NAMES
from events.working_days import working_day_deadline
from services.domain.actors import Actor
from services.domain.credit_code import CHARSET, with_check_character
from services.domain.inspection import InspectionPlan
from services.ledger.application import Basis, Command, SupervisionLedger

SEED_COUNTIES = {
    "321100": ["321102", "321111", "321112", "321181", "321182", "321183"],
    "210300": ["210302", "210303", "210304", "210311", "210321", "210323", "210381"],
}
AREA_CODES = {"3211": "0511", "2103": "0412"}
STREETS = ["解放路", "中山路", "人民路", "健康路", "和平路", "建设路", "胜利路", "长江路", "南京路", "新华路", "幸福街", "文化路"]
GOOD_WORDS = ["颐和", "康宁", "福寿", "安康", "松鹤", "夕阳红", "乐龄", "慈恩", "温馨", "长青", "瑞祥", "仁爱", "金色年华", "和美", "椿萱"]
KINDS = ["养老院", "颐养中心", "老年公寓", "护理院", "敬老院", "康养中心"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀英", "桂兰"]


@dataclass(frozen=True)
class DemoSummary:
    filed: int
    discovered: int
    discovered_then_filed: int


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _credit_code(rng: random.Random, prefix: str, region: str) -> str:
    body = "".join(rng.choice(CHARSET) for _ in range(9))
    return with_check_character(prefix + region + body)


def _profile(rng: random.Random, county: str, n: int) -> dict:
    county_name = NAMES[county]
    city_name = NAMES[county[:4] + "00"]
    name = f"{county_name}{rng.choice(GOOD_WORDS)}{rng.choice(KINDS)}"
    if n % 3 == 0:
        name = f"{county_name}{rng.choice(GOOD_WORDS)}{n}号{rng.choice(KINDS)}"
    return {
        "name": name,
        "address": f"{city_name}{county_name}{rng.choice(STREETS)}{rng.randint(1, 300)}号",
        "region_code": county,
    }


def _filing_request(rng: random.Random, county: str, n: int, profile: dict, filed_on: date) -> dict:
    nature = rng.choice(["for_profit", "non_profit"])
    admitted = filed_on - timedelta(days=rng.randint(3, 10))
    received = min(working_day_deadline(admitted, 8).due, filed_on)
    beds = rng.choice([30, 45, 60, 80, 100, 120, 150, 200, 260])
    return {
        **profile,
        "receipt_no": f"{county}-{filed_on.year}-{n:04d}",
        "credit_code": _credit_code(rng, "91" if nature == "for_profit" else "52", county),
        "nature": nature,
        "ownership_type": rng.choice(["民办", "民办", "公建民营", "公建公营"]),
        "operator": f"{NAMES[county]}{rng.choice(GOOD_WORDS)}养老服务{'有限公司' if nature == 'for_profit' else '中心'}",
        "legal_representative": _person(rng),
        "beds": beds,
        "nursing_beds": beds * rng.choice([3, 5, 6, 7]) // 10,
        "floor_area_m2": f"{beds * rng.randint(25, 45)}.0",
        "premises_ownership": rng.choice(["owned", "leased"]),
        "contact_person": _person(rng),
        "contact_phone": f"{AREA_CODES[county[:4]]}-8{rng.randint(1000000, 9999999)}",
        "registration_authority": {
            "kind": "market_regulation" if nature == "for_profit" else "civil_affairs",
            "level": "county",
            "region_code": county,
        },
        "materials": {"application_form": True, "registration_certificate": True, "compliance_commitment": True},
        "first_resident_admitted_on": admitted.isoformat(),
        "application_received_on": received.isoformat(),
        "filed_on": filed_on.isoformat(),
    }


def _discovery_request(rng: random.Random, profile: dict, discovered_on: date) -> dict:
    return {
        **profile,
        "operator": _person(rng) + "（个人举办）",
        "discovered_on": discovered_on.isoformat(),
        "source": rng.choice(["inspection", "complaint", "survey", "referral"]),
        "residents": rng.randint(4, 25),
        "handling": {
            "referred_to": sorted(rng.sample(["fire_rescue", "market_regulation", "health", "housing"], 2)),
            "reason": rng.choice(["举办者未办理法人登记", "消防验收手续不全", "房屋权属证明缺失", "举办者不了解备案规定"]),
            "measures": rng.choice(["责令限期办理登记备案", "联合消防救援机构开展检查，督促整改", "约谈举办者，指导办理登记备案"]),
            "deadline": (discovered_on + timedelta(days=60)).isoformat(),
            "responsible_person": _person(rng),
        },
    }


def seed_demo(ledger: SupervisionLedger, *, seed: int = 20240501, per_county: int = 4) -> DemoSummary:
    rng = random.Random(seed)
    filed = discovered = converted = 0
    n = 0
    registered: dict[str, list[tuple[str, date]]] = {}
    for counties in SEED_COUNTIES.values():
        for county in counties:
            officer = Actor("civil_affairs", "county", county, f"demo-{county}")
            for _ in range(per_county):
                n += 1
                profile = _profile(rng, county, n)
                filed_on = date(2023, 1, 3) + timedelta(days=rng.randint(0, 900))
                kind = rng.random()
                if kind < 0.7:
                    request = _filing_request(rng, county, n, profile, filed_on)
                    basis = Basis(f"备字〔{filed_on.year}〕{n}号", "《养老机构管理办法》第九条")
                    result = ledger.file_new(Command(officer, basis, request, f"demo-file-{n}"))
                    registered.setdefault(county, []).append((str(result.aggregate_id), filed_on))
                    filed += 1
                    continue
                basis = Basis(f"民监〔{filed_on.year}〕{n}号", "《养老机构管理办法》第十条")
                result = ledger.discover(Command(officer, basis, _discovery_request(rng, profile, filed_on), f"demo-discover-{n}"))
                discovered += 1
                if kind < 0.85:
                    later = filed_on + timedelta(days=rng.randint(20, 60))
                    request = _filing_request(rng, county, n, profile, later)
                    request["first_resident_admitted_on"] = (later - timedelta(days=3)).isoformat()
                    request["application_received_on"] = later.isoformat()
                    filing_basis = Basis(f"备字〔{later.year}〕{n}号", "《养老机构管理办法》第九条")
                    ledger.file(result.aggregate_id, Command(officer, filing_basis, request, f"demo-file-{n}"))
                    registered.setdefault(county, []).append((str(result.aggregate_id), later))
                    converted += 1
    supervise(ledger, registered)
    return DemoSummary(filed=filed, discovered=discovered - converted, discovered_then_filed=converted)


def _run(ledger: SupervisionLedger, name: str, actor: Actor, basis: Basis, request: dict, key: str, target=None):
    return ledger.execute(name, Command(actor, basis, request, f"demo-{key}"), target)


def supervise(ledger: SupervisionLedger, registered: dict[str, list[tuple[str, date]]]) -> None:
    """Every other department's work on the demo institutions in 2026, so every public list has
    entries: compliance assessments, gradings, a double-random plan with published results,
    hazards, a published penalty and a joint-punishment listing."""
    graded_levels = (1, 2, 3)
    for county, institutions in sorted(registered.items()):
        civil = Actor("civil_affairs", "county", county, f"demo-{county}")
        fire = Actor("fire_rescue", "county", county, f"demo-fire-{county}")
        assess = Basis(f"{NAMES[county]}民评〔2026〕1号", "GB 38600-2019")
        for i, (iid, filed_on) in enumerate(institutions):
            if i % 2 == 0:
                for standard in ("GB 38600", "GB/T 35796") if i % 4 == 0 else ("GB 38600",):
                    _run(ledger, "compliance.assess", civil, assess, {
                        "institution_id": iid, "standard": standard, "compliant": True, "failed_clauses": [],
                        "assessed_on": "2026-03-02", "assessor": f"{NAMES[county]}民政局"}, f"assess-{iid}-{standard}")
            elif i % 3 == 1:
                hazard = _run(ledger, "hazard.identify", fire, Basis(f"{NAMES[county]}消检〔2026〕{i}号", "《消防法》"), {
                    "institution_id": iid, "severity": "general", "category": "fire_safety", "criterion_ref": "FIRE-5",
                    "description": "电动车在楼道内充电", "responsible_person": "院长", "identified_on": "2026-04-07"}, f"hazard-{iid}")
                _run(ledger, "hazard.order", fire, Basis(f"{NAMES[county]}消责改〔2026〕{i}号", "《消防法》第六十条"), {
                    "measures": "清理楼道，设置集中充电区", "ordered_on": "2026-04-07", "deadline": "2026-04-30"},
                    f"order-{iid}", hazard.aggregate_id)
        eligible = [iid for i, (iid, filed_on) in enumerate(institutions) if filed_on < date(2025, 4, 1) and i % 2 == 0]
        first = next(((iid, filed_on) for iid, filed_on in institutions if filed_on < date(2025, 4, 1)), None)
        if first is not None and institutions.index(first) % 2 == 0:
            _grade(ledger, civil, first[0], graded_levels[int(county) % 3], county)
        if county == "321111" and len(eligible) > 1:  # one grading under publicity now, open to objections
            _grade(ledger, civil, eligible[1], 2, county, award=False)
    _double_random(ledger)
    _sanction_and_listing(ledger, registered["210302"][0][0])
    _targets(ledger)


# The cities' targets for 2026 (demonstration figures in the seeds' own terms: seed 003 sets 100 %
# filed and GB 38600-compliant; seed 004 sets 80 % GB/T 35796-compliant).
TARGETS = (("filed", "100", "在运营养老机构100%备案"), ("gb38600_compliant", "100", "在运营养老机构100%符合《养老机构服务安全基本规范》"),
           ("gbt35796_compliant", "80", "80%养老机构符合《养老机构服务质量基本规范》"))


def _targets(ledger: SupervisionLedger) -> None:
    for city, document in (("321100", "镇民发〔2026〕3号"), ("210300", "鞍民发〔2026〕5号")):
        officer = Actor("civil_affairs", "city", city, f"demo-{city}")
        for metric, percent, source in TARGETS:
            _run(ledger, "campaign.set_target", officer, Basis(document, "养老机构服务质量综合监管工作方案"), {
                "region_code": city, "year": 2026, "metric": metric, "target_percent": percent, "source": f"{source}（演示数据）"},
                f"target-{city}-{metric}")


def _grade(ledger: SupervisionLedger, civil: Actor, iid: str, level: int, county: str, *, award: bool = True) -> None:
    """A grading through to its award — or, with ``award=False``, left under publicity (公示) from two
    days before the ledger's today, so the demo always shows one open to objections."""
    basis = Basis(f"{NAMES[county]}民评〔2026〕{level}号", "GB/T 37276-2018")
    scores = {1: (60, 60, 60, 200), 2: (80, 80, 90, 250), 3: (100, 100, 100, 350)}[level]
    application = _run(ledger, "grading.apply", civil, basis, {"institution_id": iid, "requested_level": level, "applied_on": "2026-05-06"},
                       f"grade-{iid}").aggregate_id
    steps = [
        ("grading.review_eligibility", {"reviewed_on": "2026-05-07"}),
        ("grading.score", {"assessed_on": "2026-05-08", "scores": dict(zip(("environment", "facilities", "operations", "service"), scores))}),
        ("grading.committee", {"decided_on": "2026-05-09", "approved_level": level}),
    ]
    if award:
        steps += [
            ("grading.start_publicity", {"started_on": "2026-05-11"}),
            ("grading.close_publicity", {"closed_on": "2026-05-18", "objection_upheld": False}),
            ("grading.award", {"awarded_on": "2026-05-19", "certificate_no": f"{NAMES[county]}养评证〔2026〕{level}号"}),
        ]
    else:
        started = max(date(2026, 5, 11), ledger.today() - timedelta(days=2))
        steps.append(("grading.start_publicity", {"started_on": started.isoformat()}))
    for step, request in steps:
        _run(ledger, step, civil, basis, request, f"{step}-{iid}", application)


def _double_random(ledger: SupervisionLedger) -> None:
    city = Actor("civil_affairs", "city", "321100", "demo-zhenjiang")
    basis = Basis("镇民检〔2026〕1号", "《养老机构管理办法》第三十八条")
    plan = _run(ledger, "inspection_plan.plan", city, basis, {
        "title": "2026年镇江市养老机构“双随机、一公开”抽查", "kind": "routine", "region_code": "321100", "year": 2026,
        "departments": ["civil_affairs", "fire_rescue"], "ratios": {"A": "30", "B": "100", "C": "100", "D": "100"},
        "inspectors_per_team": 2, "planned_on": "2026-03-02"}, "plan-2026").aggregate_id
    inspectors = [{"inspector_id": f"镇执{n:03d}", "department": "civil_affairs" if n % 2 else "fire_rescue"} for n in range(1, 9)]
    ledger.execute("inspection_plan.draw", Command(city, basis, {"inspector_pool": inspectors, "drawn_on": "2026-03-03"}, "demo-draw-2026"), plan)
    for entry in ledger.aggregate(InspectionPlan, plan).sample:
        iid = entry["institution_id"]
        inspection = _run(ledger, "inspection.schedule", city, basis, {
            "institution_id": iid, "kind": "routine", "plan_id": str(plan), "departments": ["civil_affairs", "fire_rescue"],
            "inspectors": entry["inspectors"], "scheduled_on": "2026-03-13", "notice_given_on": "2026-03-09"}, f"schedule-{iid}").aggregate_id
        _run(ledger, "inspection.conduct", city, basis, {
            "conducted_on": "2026-03-13", "inspectors_present": entry["inspectors"], "summary": "抽查未发现重大问题",
            "findings": [{"checklist_ref": "GB38600-6.6", "result": "compliant"}, {"checklist_ref": "FIRE-3", "result": "compliant"}]},
            f"conduct-{iid}", inspection)
        _run(ledger, "inspection.publish", city, basis, {
            "published_on": "2026-03-20", "public_summary": "抽查合格：防跌倒措施、疏散通道等符合要求"}, f"publish-{iid}", inspection)


def _sanction_and_listing(ledger: SupervisionLedger, iid: str) -> None:
    civil = Actor("civil_affairs", "county", "210302", "demo-tiedong")
    basis = Basis("铁民罚〔2026〕1号", "《养老机构管理办法》第四十六条")
    penalties = [{"type": "fine", "amount": "20000"}]
    case = _run(ledger, "sanction.file", civil, basis, {"institution_id": iid, "ground": "MCA66-46.7",
                                                         "facts_summary": "护理员殴打老年人", "filed_on": "2026-06-01"}, "case-1").aggregate_id
    for step, request in (
        ("sanction.notify", {"served_on": "2026-06-02", "penalties": penalties, "facts": "经查，该院护理员殴打老年人", "legal_basis": "66号令第四十六条第（七）项"}),
        ("sanction.decide", {"decision_no": "铁民罚决〔2026〕1号", "decided_on": "2026-06-10", "violation_type": "侵害老年人人身权益",
                             "facts": "经查，该院护理员殴打老年人，造成轻微伤", "legal_basis": "《养老机构管理办法》第四十六条第（七）项",
                             "penalties": penalties, "compliance": "自收到决定书之日起15日内缴纳罚款",
                             "remedies": "可于60日内申请行政复议或6个月内提起行政诉讼", "deciding_authority": "鞍山市铁东区民政局"}),
        ("sanction.serve", {"served_on": "2026-06-11"}),
        ("sanction.publish", {"published_on": "2026-06-15", "publication_class": "ordinary"}),
    ):
        _run(ledger, step, civil, basis, request, f"{step}-1", case)
    listing = _run(ledger, "listing.propose", civil, Basis("铁民信〔2026〕1号", "民发〔2019〕103号"), {
        "institution_id": iid, "list": "joint_punishment", "ground": "elder_rights_harm", "grounding_kind": "sanction_case",
        "grounding_ref": str(case), "proposed_on": "2026-06-20", "persons": [{"name": "刘某", "role": "法定代表人"}]}, "listing-1").aggregate_id
    for step, request in (
        ("listing.notify", {"served_on": "2026-06-22"}),
        ("listing.decide", {"outcome": "listed", "decided_on": "2026-07-01", "reasons": "侵害老年人权益，事实清楚，证据确凿"}),
        ("listing.publish", {"published_on": "2026-07-02"}),
    ):
        _run(ledger, step, civil, Basis("铁民信〔2026〕1号", "民发〔2019〕103号"), request, f"{step}-1", listing)
