"""Synthetic ledger generator for benchmarks: seeded, realistic, sealed.

    .venv/bin/python bench/dataset.py --institutions 5000 --out /tmp/ledger-5k.sqlite
    .venv/bin/python bench/dataset.py --institutions 40000 --events 10000000 --out /tmp/ledger-10m.sqlite

It writes a sealed log (the same table and envelopes the relay and the projections read) with
institutions over real GB/T 2260 counties (one province for a province-sized run, the whole country
for a national one), Chinese names and addresses, and every department's decisions about them:
filings and discoveries, inspections, hazards with their orders and verifications, sanction cases,
compliance assessments, gradings, credit listings. Payloads follow the event catalogue (a test
checks a sample). ``--events`` stretches each institution's history (more inspections and hazards
over more years) and stops the ledger at exactly that many events.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import random
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from events.envelope import GENESIS_HASH, seal  # noqa: E402
from events.regions import NAMES, full_name, level_of  # noqa: E402
from services.ledger.sealed_log import EMPTY_HEAD, SealedLog  # noqa: E402

STREETS = ["解放路", "中山路", "人民路", "健康路", "和平路", "建设路", "胜利路", "长江路", "新华路", "幸福街", "文化路", "光明路", "朝阳路", "团结路"]
WORDS = ["颐和", "康宁", "福寿", "安康", "松鹤", "夕阳红", "乐龄", "慈恩", "温馨", "长青", "瑞祥", "仁爱", "金色年华", "和美", "椿萱", "怡养", "百龄", "福星"]
KINDS = ["养老院", "颐养中心", "老年公寓", "护理院", "敬老院", "康养中心", "养护院"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀英", "桂兰", "建国", "海燕"]
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code(rng: random.Random, prefix: str, region: str) -> str:
    body = prefix + region + "".join(rng.choice(CHARSET) for _ in range(9))
    total = sum(CHARSET.index(c) * w for c, w in zip(body, WEIGHTS, strict=True))
    return body + CHARSET[(31 - total % 31) % 31]


def counties(province: str | None) -> list[str]:
    codes = [c for c in NAMES if level_of(c) == "county" and c[:2] not in ("71", "81", "82")]
    return [c for c in codes if province is None or c.startswith(province)]


class Generator:
    """Envelopes in ledger order, sealed as the sealer would seal them."""

    def __init__(self, seed: int, institutions: int, events_target: int | None, province: str | None) -> None:
        self.rng = random.Random(seed)
        self.institutions = institutions
        self.counties = counties(province)
        self.events_target = events_target
        self.day = date(2021, 1, 4)
        self.seconds = 0

    def _person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def _envelope(self, event_type: str, aggregate_type: str, aggregate_id: str, version: int, institution_id: str | None,
                  department: str, region: str, payload: dict[str, Any], occurred: date) -> dict[str, Any]:
        self.seconds += 1
        return {
            "event_id": str(uuid.UUID(int=self.rng.getrandbits(128))), "event_type": event_type, "schema_version": 1,
            "aggregate_type": aggregate_type, "aggregate_id": aggregate_id, "aggregate_version": version,
            "institution_id": institution_id, "occurred_at": occurred.isoformat(),
            "recorded_at": _timestamp(self.seconds),
            "actor": {"department": department, "level": "county", "region": region, "user": f"bench-{department}"},
            "basis": {"document_no": f"{NAMES[region]}{event_type[:6]}〔{occurred.year}〕{self.seconds % 1000}号",
                      "legal_basis": "《养老机构管理办法》"},
            "rule_version": "rules-2021-07-15", "command_id": None, "request_digest": None, "payload": payload,
        }

    def institution_events(self, n: int) -> Iterator[dict[str, Any]]:
        rng = self.rng
        county = rng.choice(self.counties)
        city = NAMES.get(county[:4] + "00", "")
        county_name = NAMES[county]
        iid = str(uuid.UUID(int=rng.getrandbits(128)))
        name = f"{county_name}{rng.choice(WORDS)}{rng.choice(KINDS)}" if n % 3 else f"{county_name}{rng.choice(WORDS)}{n}号{rng.choice(KINDS)}"
        address = f"{city}{county_name}{rng.choice(STREETS)}{rng.randint(1, 500)}号"
        filed_on = self.day + timedelta(days=rng.randint(0, 1200))
        beds = rng.choice([30, 45, 60, 80, 100, 120, 150, 200, 260, 320])
        version = 0

        def next_version() -> int:
            nonlocal version
            version += 1
            return version

        nature = rng.choice(["for_profit", "non_profit"])
        filing = {
            "receipt_no": f"{county}-{filed_on.year}-{n:06d}", "name": name, "address": address, "region_code": county,
            "credit_code": credit_code(rng, "91" if nature == "for_profit" else "52", county), "nature": nature,
            "ownership_type": rng.choice(["民办", "民办", "公建民营", "公建公营"]), "operator": f"{county_name}{rng.choice(WORDS)}养老服务有限公司",
            "legal_representative": self._person(), "beds": beds, "nursing_beds": beds // 2, "floor_area_m2": f"{beds * 35}.0",
            "premises_ownership": rng.choice(["owned", "leased"]), "contact_person": self._person(),
            "contact_phone": f"0{rng.randint(100, 999)}-8{rng.randint(1000000, 9999999)}",
            "registration_authority": {"kind": "market_regulation", "level": "county", "region_code": county},
            "materials": {"application_form": True, "registration_certificate": True, "compliance_commitment": True},
            "first_resident_admitted_on": (filed_on - timedelta(days=5)).isoformat(),
            "application_received_on": (filed_on - timedelta(days=2)).isoformat(), "filed_on": filed_on.isoformat(),
            "filing_due_by": (filed_on + timedelta(days=9)).isoformat(), "late_working_days": 0,
            "inspection_due_by": (filed_on + timedelta(days=28)).isoformat(), "calendar": "chinese_calendar 1.11.0",
        }
        if rng.random() < 0.2:
            yield self._envelope("InstitutionDiscovered", "Institution", iid, next_version(), iid, "civil_affairs", county, {
                "name": name, "address": address, "region_code": county, "discovered_on": filed_on.isoformat(), "source": "inspection",
                "residents": rng.randint(3, 30), "inspection_due_by": (filed_on + timedelta(days=28)).isoformat(),
                "calendar": "chinese_calendar 1.11.0",
            }, filed_on)
            if rng.random() < 0.5:
                return
            filed_on += timedelta(days=rng.randint(20, 90))
            filing.update(filed_on=filed_on.isoformat(), application_received_on=filed_on.isoformat(),
                          first_resident_admitted_on=(filed_on - timedelta(days=3)).isoformat())
        yield self._envelope("InstitutionFiled", "Institution", iid, next_version(), iid, "civil_affairs", county, filing, filed_on)
        yield from self._history(iid, county, filed_on)

    def _history(self, iid: str, county: str, since: date) -> Iterator[dict[str, Any]]:
        rng = self.rng
        # About 8 events per institution and round; overshoot, and envelopes() stops at the target.
        years = 1 if self.events_target is None else max(1, -(-self.events_target // (self.institutions * 7)))
        day = since
        for _ in range(years * rng.randint(1, 3)):
            day += timedelta(days=rng.randint(30, 200))
            inspection = str(uuid.UUID(int=rng.getrandbits(128)))
            yield self._envelope("InspectionScheduled", "Inspection", inspection, 1, iid, "civil_affairs", county, {
                "institution_id": iid, "kind": "special", "departments": ["civil_affairs"], "inspectors": ["ZF-1", "ZF-2"],
                "scheduled_on": day.isoformat(), "notice_given_on": (day - timedelta(days=5)).isoformat(), "region_code": county,
            }, day)
            yield self._envelope("InspectionConducted", "Inspection", inspection, 2, iid, "civil_affairs", county, {
                "institution_id": iid, "conducted_on": day.isoformat(), "inspectors_present": ["ZF-1", "ZF-2"],
                "findings": [{"checklist_ref": "GB38600-6.6", "result": rng.choice(["compliant", "non_compliant"])}], "summary": "检查完毕",
            }, day)
            if rng.random() < 0.3:
                yield self._envelope("ComplianceAssessed", "ComplianceAssessment", str(uuid.UUID(int=rng.getrandbits(128))), 1, iid,
                                     "civil_affairs", county, {
                                         "institution_id": iid, "standard": "GB 38600", "compliant": rng.random() < 0.8,
                                         "failed_clauses": [], "assessed_on": day.isoformat(), "assessor": "第三方评估机构",
                                         "region_code": county}, day)
            if rng.random() < 0.05:
                case = str(uuid.UUID(int=rng.getrandbits(128)))
                penalty = [{"type": "fine", "amount": str(rng.randint(1, 30) * 1000)}]
                yield self._envelope("SanctionCaseFiled", "SanctionCase", case, 1, iid, "civil_affairs", county, {
                    "institution_id": iid, "ground": "MCA66-46.3", "facts_summary": "未按标准提供服务", "filed_on": day.isoformat(),
                    "region_code": county, "decide_by": (day + timedelta(days=90)).isoformat()}, day)
                yield self._envelope("PenaltyDecided", "SanctionCase", case, 2, iid, "civil_affairs", county, {
                    "institution_id": iid, "decision_no": f"罚决-{case[:8]}", "decided_on": day.isoformat(), "violation_type": "未按标准提供服务",
                    "facts": "经查属实", "legal_basis": "66号令第46条", "penalties": penalty, "compliance": "15日内缴纳",
                    "remedies": "复议或诉讼", "deciding_authority": f"{NAMES[county]}民政局"}, day)
            if rng.random() < 0.5:
                hazard = str(uuid.UUID(int=rng.getrandbits(128)))
                major = rng.random() < 0.15
                department = rng.choice(["fire_rescue", "civil_affairs", "market_regulation", "health"])
                yield self._envelope("HazardIdentified", "Hazard", hazard, 1, iid, department, county, {
                    "institution_id": iid, "severity": "major" if major else "general", "category": "fire_safety",
                    "criterion_ref": "MH2023-4.2" if major else "FIRE-5", "description": rng.choice(["电动车室内充电", "疏散通道堵塞", "灭火器过期", "地面湿滑"]),
                    "responsible_person": self._person(), "identified_on": day.isoformat(), "region_code": county,
                }, day)
                yield self._envelope("HazardRectificationOrdered", "Hazard", hazard, 2, iid, department, county, {
                    "institution_id": iid, "measures": "限期整改", "ordered_on": day.isoformat(),
                    "deadline": (day + timedelta(days=30)).isoformat()}, day)
                if rng.random() < 0.8:
                    done = day + timedelta(days=rng.randint(5, 25))
                    yield self._envelope("HazardRectified", "Hazard", hazard, 3, iid, department, county, {
                        "institution_id": iid, "rectified_on": done.isoformat(), "measures_taken": "已整改"}, done)
                    yield self._envelope("HazardVerified", "Hazard", hazard, 4, iid, department, county, {
                        "institution_id": iid, "verified_on": done.isoformat(), "outcome": "closed"}, done)

    def envelopes(self) -> Iterator[dict[str, Any]]:
        """All institutions' histories interleaved by decision date, as a real ledger would hold them."""
        def history(n: int) -> Iterator[tuple[str, int, int, dict[str, Any]]]:
            for i, envelope in enumerate(self.institution_events(n)):
                yield envelope["occurred_at"], n, i, envelope

        merged = heapq.merge(*(history(n) for n in range(1, self.institutions + 1)))
        for _, _, _, envelope in itertools.islice(merged, self.events_target):
            self.seconds += 1
            envelope["recorded_at"] = _timestamp(self.seconds)
            yield envelope


def _timestamp(seconds: int) -> str:
    base = 1609459200 + seconds  # 2021-01-01T00:00:00Z
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base)) + ".000000+00:00"


def write(path: Path, envelopes: Iterator[dict[str, Any]], batch: int = 5000) -> tuple[int, float]:
    """Seal and append; return (events, seconds)."""
    if path.exists():
        path.unlink()
    log = SealedLog(path)
    log.db.rows("PRAGMA synchronous=OFF")
    head, seq, prev, pending = EMPTY_HEAD, 0, GENESIS_HASH, []
    start = time.perf_counter()
    for envelope in envelopes:
        seq += 1
        sealed = seal(envelope, seq, prev)
        prev = sealed["hash"]
        pending.append((seq, sealed))
        if len(pending) >= batch:
            head = log.append(head, pending)
            pending = []
    if pending:
        log.append(head, pending)
    log.close()
    return seq, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description="合成监管台账（基准测试用）")
    parser.add_argument("--institutions", type=int, default=5000)
    parser.add_argument("--events", type=int, default=None, help="目标事件数（拉长每家机构的历史）")
    parser.add_argument("--province", default=None, help="只用一省的县区（如 32）；默认：5000家以下用江苏，以上全国")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    province = args.province or ("32" if args.institutions <= 5000 else None)
    generator = Generator(args.seed, args.institutions, args.events, province)
    events, seconds = write(args.out, generator.envelopes())
    print(f"{args.institutions} institutions over {len(generator.counties)} counties ({full_name(generator.counties[0])}…): "
          f"{events} events sealed in {seconds:.1f} s = {events / seconds:,.0f} events/s -> {args.out}")


if __name__ == "__main__":
    main()
