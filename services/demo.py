"""Demo data for the seed regions (镇江 321100, 鞍山 210300): filed institutions, known unfiled
ones, and unfiled ones later filed — sent as real commands, each with an idempotency key, so
running the demo twice records nothing twice."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from events.regions import NAMES
from services.domain.actors import Actor
from services.domain.credit_code import CHARSET, with_check_character
from services.domain.working_days import working_day_deadline
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
                    ledger.file_new(Command(officer, basis, request, f"demo-file-{n}"))
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
                    ledger.file(result.institution_id, Command(officer, filing_basis, request, f"demo-file-{n}"))
                    converted += 1
    return DemoSummary(filed=filed, discovered=discovered - converted, discovered_then_filed=converted)
