"""One truth: a decision retracted or corrected shows so everywhere it was shown — the public list,
the built site (list pages at every region level and the institution page), the public search and
the officers' search facets. One institution on every public list (tests/scenarios.py); each list
family's decision is retracted, or a public field of it corrected, over the API."""

from __future__ import annotations

import pytest

from projections.disclosure import snapshot_at, write_snapshot
from public_site.build import build_site
from tests.conftest import TODAY, Clock
from tests.scenarios import FOUND_NAME, HOME_NAME, every_list
from tests.unit.test_api import assert_refused, bearer, serving

FAMILIES = ("filed", "unfiled", "graded", "gb38600", "gbt35796", "joint_punishment", "sanctions", "inspections")
BASIS = {"document_no": "润民撤〔2024〕1号", "legal_basis": "《养老机构管理办法》"}
# The decision behind each family, as the institution page's timeline shows it.
TIMELINE_EVENT = {"graded": "GradeAwarded", "gb38600": "ComplianceAssessed", "gbt35796": "ComplianceAssessed",
                  "joint_punishment": "CreditListingPublished", "sanctions": "PenaltyPublished", "inspections": "InspectionResultPublished"}
ROW_KEY = {"joint_punishment": "listing_id", "sanctions": "case_id", "inspections": "inspection_id"}


@pytest.fixture
def world(tmp_path):
    with serving(tmp_path / "data", Clock(TODAY)) as (client, runtime):
        yield client, runtime, every_list(runtime.ledger), tmp_path


def published(runtime, tmp_path, name: str) -> tuple[dict, dict[str, str]]:
    """The snapshot and the built site (path → text) as the ledger stands now."""
    runtime.sealer.seal_pending()
    snapshot = snapshot_at((r.envelope for r in runtime.sealer.log.iterate()), on=runtime.ledger.today().isoformat())
    site = tmp_path / f"site-{name}"
    build_site(write_snapshot(snapshot, tmp_path / f"snapshots-{name}"), site, search=False)
    texts = {str(p.relative_to(site)): p.read_text(encoding="utf-8") for p in site.rglob("*")
             if p.suffix in (".html", ".csv", ".json", ".atom", ".xml")}
    return snapshot, texts


def rows_of(snapshot, family, scenario) -> list[dict]:
    entry = scenario.entries[family]
    key = ROW_KEY.get(family, "id")
    wanted = entry.record_id if family in ROW_KEY else (scenario.found if family == "unfiled" else scenario.home)
    return [r for r in snapshot["lists"][family] if r[key] == wanted]


def list_pages(texts, family, *, all_levels=True) -> dict[str, str]:
    """The family's list pages and downloads: the national ones and the region levels' (a level
    with no entry left has none)."""
    pages = {path: text for path, text in texts.items()
             if path.endswith((f"/{family}/index.html", f"/{family}.csv", f"/{family}.json"))}
    levels = {f"lists/{family}/index.html", f"downloads/{family}.csv", f"downloads/{family}.json",
              *(f"regions/{code}/{family}/index.html" for code in ("320000", "321100", "321111"))}
    assert levels <= set(pages) if all_levels else f"lists/{family}/index.html" in pages
    return pages


def public_hit(client, name):
    hits = client.get("/v1/public/search", params={"q": name}).json()["hits"]
    return hits[0] if hits else None


def facets(client, runtime) -> dict:
    viewer = bearer(runtime, "health", "city", "321100", "viewer")
    return client.get("/v1/search", params={"region": "321100", "facets": "true"}, headers=viewer).json()["facets"]


def timeline_types(snapshot, institution) -> list[str]:
    return [t["event_type"] for t in snapshot["timelines"].get(institution, [])]


@pytest.mark.parametrize("family", FAMILIES)
def test_retracting_the_decision_removes_the_entry_everywhere(world, family):
    client, runtime, scenario, tmp_path = world
    entry = scenario.entries[family]
    name = FOUND_NAME if family == "unfiled" else HOME_NAME
    before, texts = published(runtime, tmp_path, "before")
    assert len(rows_of(before, family, scenario)) == 1
    assert all(name in text for text in list_pages(texts, family).values())
    assert public_hit(client, name) is not None
    if family in TIMELINE_EVENT:
        assert TIMELINE_EVENT[family] in timeline_types(before, scenario.home)

    retraction = {"basis": BASIS, "original_event_id": entry.event_id, "reason": "决定错误，予以撤销", "approver": "科长李某",
                  "retracted_on": "2024-06-03"}
    response = client.post(f"/v1/records/{entry.record_id}/retraction", json=retraction, headers=bearer(runtime))
    assert response.status_code == 201, response.text

    after, texts = published(runtime, tmp_path, "after")
    assert rows_of(after, family, scenario) == []
    leaks = [path for path, text in list_pages(texts, family, all_levels=False).items() if name in text]
    assert leaks == [], f"still on {leaks}"
    record = client.get(f"/v1/records/{entry.record_id}", headers=bearer(runtime)).json()
    assert [r["event_id"] for r in record["retracted"]] == [entry.event_id]
    hit = public_hit(client, name)
    counts = facets(client, runtime)
    if family in ("filed", "unfiled"):  # the registration itself retracted: gone from every public place
        assert hit is None
        assert counts["status"].get("filed" if family == "filed" else "discovered", 0) == 0
        assert not any(name in text for text in texts.values())
        # Officers still find it when they ask for retracted registrations; the public cannot ask.
        viewer = bearer(runtime, "health", "city", "321100", "viewer")
        retracted = client.get("/v1/search", params={"q": name, "status": "retracted"}, headers=viewer).json()["hits"]
        assert [h["status_name"] for h in retracted] == ["登记已撤销"]
        assert_refused(client.get("/v1/public/search", params={"q": name, "status": "retracted"}), 422, "QUERY_INVALID")
        return
    summary = hit["summary"]
    assert TIMELINE_EVENT[family] not in timeline_types(after, scenario.home) or family in ("gb38600", "gbt35796")
    page = texts[f"institutions/{scenario.home}.html"]
    if family == "graded":
        assert hit["summary"]["grade_level"] == 0 and "3" not in counts["grade_level"]
        assert "镇民评证〔2024〕1号" not in page
    elif family in ("gb38600", "gbt35796"):
        standard = "GB 38600" if family == "gb38600" else "GB/T 35796"
        assert not summary["compliance"].get(standard)
        assert timeline_types(after, scenario.home).count("ComplianceAssessed") == 1
    elif family == "joint_punishment":
        assert summary["public_listings"] == []
    elif family == "sanctions":
        assert "镇民罚〔2024〕1号" not in page
    elif family == "inspections":
        assert "未发现问题" not in page


@pytest.mark.parametrize("family", FAMILIES)
def test_correcting_a_public_field_changes_it_everywhere(world, family):
    client, runtime, scenario, tmp_path = world
    entry = scenario.entries[family]
    correction = {"basis": BASIS, "original_event_id": entry.corrected_event, "reason": "录入错误，予以更正", "approver": "科长李某",
                  "corrected": entry.correction, "corrected_on": "2024-06-03"}
    response = client.post(f"/v1/records/{entry.record_id}/correction", json=correction, headers=bearer(runtime))
    assert response.status_code == 201, response.text

    after, texts = published(runtime, tmp_path, "after")
    rows = rows_of(after, family, scenario)
    pages = list_pages(texts, family, all_levels=not entry.shows.get("absent"))
    if entry.shows.get("absent"):  # corrected to not compliant: off the list
        assert rows == [] and not any(HOME_NAME in text for text in pages.values())
        return
    if "timeline" in entry.shows:
        details = [t["details"] for t in after["timelines"][scenario.home] if t["event_type"] == "GradeAwarded"]
        assert details[0]["certificate_no"] == entry.shows["timeline"]
        assert [t["corrected"] for t in after["timelines"][scenario.home] if t["event_type"] == "GradeAwarded"] == [True]
        assert "（已更正）" in texts[f"institutions/{scenario.home}.html"]
        return
    (row,) = rows
    for key, value in entry.shows.items():
        if key != "text":
            assert row[key] == value
        if isinstance(value, str):
            shown_as_text = {path: text for path, text in pages.items() if key != "text" or not path.endswith(".json")}
            missing = [path for path, text in shown_as_text.items() if value not in text]
            assert missing == [], f"{value} not on {missing}"
    if family in ("filed", "unfiled"):
        assert public_hit(client, entry.shows["name"])["name"] == entry.shows["name"]
        old = HOME_NAME if family == "filed" else FOUND_NAME
        assert not any(old in text for text in texts.values())


def test_a_campaign_target_corrected_or_retracted_changes_the_region_charts(world):
    """Issue #16 part 8 under one truth: a region's target shows on its page as a chart (SVG with
    the numbers in words) and a table; correcting the target changes both; retracting it removes it."""
    client, runtime, scenario, tmp_path = world
    city = bearer(runtime, "civil_affairs", "city", "321100")
    response = client.post("/v1/campaign-targets", headers=city, json={
        "basis": {"document_no": "镇民发〔2024〕3号", "legal_basis": "养老机构服务质量综合监管工作方案"},
        "region_code": "321100", "year": 2024, "metric": "gb38600_compliant", "target_percent": "80", "source": "到年底80%符合安全基本规范"})
    assert response.status_code == 201, response.text
    target_id = response.json()["aggregate_id"]
    [decision] = client.get(f"/v1/records/{target_id}", headers=city).json()["decisions"]

    def region_page(name: str) -> tuple[str, list[dict]]:
        snapshot, texts = published(runtime, tmp_path, name)
        return texts["regions/321100/index.html"], [c for c in snapshot["campaigns"] if c["region"] == "321100"]

    page, campaigns = region_page("set")
    [metric] = [m for m in campaigns[0]["metrics"] if m["metric"] == "gb38600_compliant"]
    shown = f"GB 38600 达标率：{metric['count']} 家，占 {metric['of']} 家的"
    assert "2024年工作目标完成情况" in page and shown in page and "目标 80%" in page and "<td>80%</td>" in page
    assert "到年底80%符合安全基本规范" in page and 'role="img"' in page

    correction = {"basis": BASIS, "original_event_id": decision["event_id"], "reason": "录入错误，予以更正", "approver": "科长李某",
                  "corrected": {"target_percent": "60"}, "corrected_on": "2024-06-03"}
    response = client.post(f"/v1/records/{target_id}/correction", json=correction, headers=city)
    assert response.status_code == 201, response.text
    page, _ = region_page("corrected")
    assert "目标 60%" in page and "<td>60%</td>" in page and "目标 80%" not in page

    retraction = {"basis": BASIS, "original_event_id": decision["event_id"], "reason": "目标另行下达", "approver": "科长李某",
                  "retracted_on": "2024-06-03"}
    response = client.post(f"/v1/records/{target_id}/retraction", json=retraction, headers=city)
    assert response.status_code == 201, response.text
    page, campaigns = region_page("retracted")
    assert campaigns == [] and "工作目标完成情况" not in page and "到年底80%" not in page
    assert "养老机构备案、达标和等级评定情况" in page  # the region's own standing is still pictured
