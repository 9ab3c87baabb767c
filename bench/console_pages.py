"""The officers' workbench at national scale: page latency, printed beside peers measured in the
same run; asserts nothing about speed.

    .venv/bin/python bench/console_pages.py --sizes 5000 40000 [--samples 100]

For each size: an embedded ledger of that many filed institutions spread over the country's
counties (each filed through the command pipeline, one in ten with a hazard identified by fire
rescue and half of those ordered rectified), served by `eldercare serve` on 127.0.0.1. Then, one
request at a time, p50/p95/p99 of the console's pages — search (name within a county, pinyin
nationally, a whole province by filters), an institution's dossier, the worklist of a county, a
city and a province officer, a city's campaign page — each beside:

- the API's JSON for the same question (what the page reads, without the page), and
- a bare FastAPI endpoint answering an HTML page of the same size from memory (the HTTP and
  framework floor on this machine).

Issue #13's target: page p95 under 300 ms at 40,000 institutions.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dataset import counties  # noqa: E402
from events.regions import NAMES  # noqa: E402
from events.working_days import working_day_deadline  # noqa: E402
from services.api.auth import issue_token  # noqa: E402
from services.domain.actors import Actor  # noqa: E402
from services.domain.credit_code import with_check_character  # noqa: E402
from services.ledger.application import Basis, Command  # noqa: E402
from tests.processes import environment, free_port, start_api  # noqa: E402

WORDS = ["颐和", "康宁", "福寿", "安康", "松鹤", "夕阳红", "乐龄", "慈恩", "温馨", "长青", "瑞祥", "仁爱", "和美", "怡养", "百龄"]
KINDS = ["养老院", "颐养中心", "老年公寓", "护理院", "敬老院", "康养中心"]
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def filing(rng: random.Random, county: str, n: int, today: date) -> dict:
    filed = today - timedelta(days=rng.randint(20, 700))
    admitted = filed - timedelta(days=rng.randint(3, 10))
    beds = rng.choice([30, 60, 100, 150, 200])
    city = NAMES.get(county[:4] + "00", "")
    return {
        "name": f"{NAMES[county]}{rng.choice(WORDS)}{n}号{rng.choice(KINDS)}", "address": f"{city}{NAMES[county]}人民路{rng.randint(1, 300)}号",
        "region_code": county, "receipt_no": f"{county}-{filed.year}-{n:05d}",
        "credit_code": with_check_character("91" + county + "".join(rng.choice(CHARSET) for _ in range(9))),
        "nature": "for_profit", "ownership_type": "民办", "operator": f"{NAMES[county]}养老服务有限公司{n}", "legal_representative": "王伟",
        "beds": beds, "nursing_beds": beds // 2, "floor_area_m2": f"{beds * 30}.0", "premises_ownership": "leased",
        "contact_person": "李芳", "contact_phone": "0511-86000000",
        "registration_authority": {"kind": "market_regulation", "level": "county", "region_code": county},
        "materials": {"application_form": True, "registration_certificate": True, "compliance_commitment": True},
        "first_resident_admitted_on": admitted.isoformat(),
        "application_received_on": min(working_day_deadline(admitted, 8).due, filed).isoformat(), "filed_on": filed.isoformat(),
    }


def seed(data_dir: Path, size: int) -> tuple[list[tuple[str, str]], float]:
    """``size`` filed institutions (and their hazards) in an embedded ledger: [(id, county)], seconds."""
    from services.bootstrap import build_runtime
    from services.settings import Settings

    runtime = build_runtime(Settings.from_env({"ELDERCARE_DATA_DIR": str(data_dir)}))
    rng = random.Random(20261202)
    places = counties(None)
    today = runtime.ledger.today()
    made: list[tuple[str, str]] = []
    started = time.perf_counter()
    try:
        for n in range(size):
            county = places[n % len(places)] if n < len(places) else rng.choice(places)
            officer = Actor("civil_affairs", "county", county, "bench")
            result = runtime.ledger.execute("institution.file_new", Command(officer, Basis(f"备字〔2026〕{n}号", "《养老机构管理办法》第九条"),
                                                                            filing(rng, county, n, today), f"bench-file-{n}"))
            iid = str(result.aggregate_id)
            made.append((iid, county))
            if n % 10 == 0:
                fire = Actor("fire_rescue", "county", county, "bench")
                found = today - timedelta(days=rng.randint(1, 30))
                hazard = runtime.ledger.execute("hazard.identify", Command(fire, Basis(f"消检〔2026〕{n}号", "《消防法》"), {
                    "institution_id": iid, "severity": rng.choice(["general", "general", "major"]), "category": "fire_safety",
                    "criterion_ref": "FIRE-5", "description": "疏散通道堆放杂物", "responsible_person": "院长", "identified_on": found.isoformat(),
                }, f"bench-hazard-{n}"))
                if n % 20 == 0:
                    runtime.ledger.execute("hazard.order", Command(fire, Basis(f"消责改〔2026〕{n}号", "《消防法》第六十条"), {
                        "measures": "清理通道", "ordered_on": found.isoformat(), "deadline": (found + timedelta(days=rng.randint(5, 40))).isoformat(),
                    }, f"bench-order-{n}"), hazard.aggregate_id)
            if n % 1000 == 999:
                runtime.sealer.seal_pending()
        runtime.sealer.seal_pending()
    finally:
        runtime.close()
    return made, time.perf_counter() - started


def signed_in(base: str, department: str, level: str, region: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    response = client.post("/console/sign-in", data={"department": department, "level": level, "region": region, "role": "officer",
                                                      "user": "基准测试", "next": "/console/search"})
    assert response.status_code in (200, 303), response.text
    return client


def timed(client: httpx.Client, paths: list[str], samples: int, headers: dict | None = None) -> list[float]:
    client.get(paths[0], headers=headers)  # warm
    out = []
    for i in range(samples):
        t = time.perf_counter()
        response = client.get(paths[i % len(paths)], headers=headers)
        out.append(time.perf_counter() - t)
        assert response.status_code == 200, (paths[i % len(paths)], response.status_code, response.text[:300])
    return out


def bare_html_server(size: int, tmp: Path) -> tuple[subprocess.Popen, str]:
    """A bare FastAPI endpoint answering ``size`` bytes of HTML from memory, under uvicorn."""
    (tmp / "bare_app.py").write_text(
        "from fastapi import FastAPI\nfrom fastapi.responses import HTMLResponse\n"
        f"PAGE = '<!DOCTYPE html><html><body>' + '<p>养老机构</p>' * {max(1, size // 19)} + '</body></html>'\n"
        "app = FastAPI()\n@app.get('/page')\ndef page():\n    return HTMLResponse(PAGE)\n", encoding="utf-8")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "bare_app:app", "--host", "127.0.0.1", "--port", str(port),
                               "--log-level", "warning"], cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(f"{base}/page", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return server, base


def row(label: str, page: list[float], api: list[float] | None, bare: list[float]) -> None:
    def fig(values: list[float] | None) -> str:
        return "—" if not values else f"{pct(values, 50):6.1f} / {pct(values, 95):6.1f} / {pct(values, 99):6.1f}"
    print(f"  {label:<40} {fig(page):>24}   {fig(api):>24}   {fig(bare):>24}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="工作台页面基准测试")
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 40000])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--keep", type=Path, default=None, help="keep each size's ledger under this folder and reuse it next time")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; {datetime.now().isoformat(timespec='seconds')}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            data = (args.keep / f"ledger-{size}") if args.keep else tmp / "data"
            kept = data / "institutions.json"
            if kept.exists():
                made = [tuple(pair) for pair in json.loads(kept.read_text())]
                print(f"\n{size} institutions over {len({c for _, c in made})} counties (kept from an earlier run in {data})")
            else:
                made, seconds = seed(data, size)
                kept.write_text(json.dumps(made))
                print(f"\n{size} institutions over {len({c for _, c in made})} counties, filed through the pipeline in {seconds:.0f} s "
                      f"({size / seconds:.0f}/s)")
            env = environment(ELDERCARE_DATA_DIR=str(data), ELDERCARE_PROFILE="embedded", ELDERCARE_RATE_LIMIT_PER_MINUTE="0")
            api, base = start_api(env, tmp)
            try:
                from services.settings import Settings

                settings = Settings.from_env({"ELDERCARE_DATA_DIR": str(data)})
                deadline = time.monotonic() + 900
                while httpx.get(f"{base}/readyz", timeout=30).status_code != 200 and time.monotonic() < deadline:
                    time.sleep(1)  # the embedded projection catching up
                rng = random.Random(7)
                # the busiest county whose city the region table names (a municipality's districts have none)
                held: dict[str, int] = {}
                for _, c in made:
                    held[c] = held.get(c, 0) + 1
                county = max((c for c in held if c[:4] + "00" in NAMES), key=lambda c: (held[c], c))
                city, province = county[:4] + "00", county[:2] + "0000"

                def token(level: str, region: str) -> dict:
                    return {"Authorization": "Bearer " + issue_token(settings.jwt_secret, settings.jwt_issuer, department="fire_rescue",
                                                                     level=level, region=region, user="基准测试")}

                county_officer, city_officer, province_officer = (signed_in(base, "fire_rescue", level, region) for level, region in
                                                                  (("county", county), ("city", city), ("province", province)))
                api_client = httpx.Client(base_url=base, timeout=60)
                sample_page = county_officer.get("/console/search", params={"q": "颐和", "region": province}).content
                bare, bare_base = bare_html_server(len(sample_page), tmp)
                bare_client = httpx.Client(base_url=bare_base, timeout=60)
                bare_times = timed(bare_client, ["/page"], args.samples)
                dossiers = [iid for iid, _ in rng.sample(made, min(50, len(made)))]
                print(f"  {'p50 / p95 / p99 ms':<40} {'console page':>24}   {'API JSON, same question':>24}   {'bare FastAPI HTML':>24}")
                cases = [
                    ("search: name within a province", county_officer, ["/console/search?q=颐和&region=" + province],
                     token("county", county), ["/v1/search?q=颐和&facets=true&region=" + province]),
                    ("search: pinyin, nationwide", county_officer, ["/console/search?q=yihe"], token("county", county),
                     ["/v1/search?q=yihe&facets=true"]),
                    ("search: a province, no words", province_officer, [f"/console/search?region={province}"], token("province", province),
                     [f"/v1/search?region={province}&facets=true"]),
                    ("dossier", county_officer, [f"/console/institutions/{i}" for i in dossiers], token("county", county),
                     [f"/v1/institutions/{i}/timeline?size=200" for i in dossiers]),
                    ("worklist: county officer", county_officer, ["/console/worklist"], token("county", county), [f"/v1/worklist?region={county}"]),
                    ("worklist: city officer", city_officer, ["/console/worklist"], token("city", city), [f"/v1/worklist?region={city}"]),
                    ("worklist: province officer", province_officer, ["/console/worklist"], token("province", province),
                     [f"/v1/worklist?region={province}"]),
                    ("campaign: a city", city_officer, ["/console/campaign"], token("city", city),
                     [f"/v1/campaign-progress?region={city}&year=2026&sub_regions=true"]),
                ]
                for label, officer, paths, headers, api_paths in cases:
                    page = timed(officer, paths, args.samples)
                    json_times = timed(api_client, api_paths, args.samples, headers)
                    row(label, page, json_times, bare_times)
                bare.terminate()
                bare.wait(timeout=10)
            finally:
                api.stop()


if __name__ == "__main__":
    main()
