"""The public disclosure site: every list the rules require, built from one snapshot, identical
byte for byte from the same seq, rebuilt incrementally, and never showing a restricted value."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from datetime import date, datetime
from pathlib import Path

import pytest

from events.regions import parents
from projections.disclosure import snapshot_at, write_snapshot
from public_site.build import build_site
from services.demo import seed_demo
from services.domain.actors import Actor
from services.ledger.application import BEIJING, Basis, Command, open_ledger
from services.ledger.scheduler import run_due
from services.ledger.sealed_log import SealedLog
from tests.conftest import Clock

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=BEIJING)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo ledger (镇江 and 鞍山, every department's 2026 work) and a site built from it."""
    root = tmp_path_factory.mktemp("site")
    clock = Clock(NOW)
    app, sealer = open_ledger(root / "ledger.sqlite", clock=clock)
    seed_demo(app)
    snapshot = snapshot_at(r.envelope for r in sealer.log.iterate())
    path = write_snapshot(snapshot, root / "snapshots")
    build_site(path, root / "site")
    yield {"app": app, "clock": clock, "root": root, "snapshot": snapshot, "path": path, "site": root / "site"}
    app.close()


def files_of(site: Path) -> dict[str, bytes]:
    """Every published file (the build report, which says how the build went, is not published)."""
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file() and p.name != ".disclosure-build.json"}


def test_every_list_the_rules_require_has_its_entries(demo):
    lists = demo["snapshot"]["lists"]
    assert {name for name, rows in lists.items() if rows} == {
        "filed", "unfiled", "graded", "grading_publicity", "gb38600", "gbt35796", "joint_punishment", "sanctions", "inspections",
    }
    assert [(r["level"], r["region_code"]) for r in lists["grading_publicity"]] == [(2, "321111")]
    institutions = demo["snapshot"]["institutions"]
    assert all(institutions[r["id"]]["status"] in ("filed", "suspended", "closing") for r in lists["filed"])
    assert all(institutions[r["id"]]["status"] == "discovered" and r.get("handling") for r in lists["unfiled"])
    unfiled_page = (demo["site"] / "lists/unfiled/index.html").read_text(encoding="utf-8")
    assert "办理情况" in unfiled_page
    for row in lists["unfiled"]:  # a handling deadline passed unfiled reads as overdue, from the day after it
        assert (f"逾期未办结（{row['handling_overdue_since']} 起）" if row["handling_overdue_since"] else "办理中") in unfiled_page
    assert all(r["grade_level"] in (1, 2, 3) for r in lists["graded"])
    assert [r["decision_no"] for r in lists["sanctions"]] == ["铁民罚决〔2026〕1号"]
    assert lists["joint_punishment"][0]["persons"] == [{"name": "刘某", "role": "法定代表人"}]
    assert all(r["plan"].startswith("2026年镇江市") for r in lists["inspections"])


def test_every_page_states_the_ledger_position_it_shows(demo):
    import re

    site, snapshot = demo["site"], demo["snapshot"]
    home = (site / "index.html").read_text(encoding="utf-8")
    assert f'data-seq="{snapshot["cut"]["seq"]}" data-hash="{snapshot["cut"]["hash"]}"' in home
    stamps = {(i["page_stamp"]["seq"], i["page_stamp"]["hash"]) for i in snapshot["institutions"].values()}
    stamps.add((snapshot["cut"]["seq"], snapshot["cut"]["hash"]))  # the draws page states the cut
    pages = [p for p in site.rglob("*.html") if p.parts[-2] != "pages" and p.name != "index.html" or p.parent != site]
    for page in pages:
        if "pagefind" in page.parts or page.parent.name == "pages":
            continue
        found = re.search(r'data-seq="(\d+)" data-hash="([0-9a-f]{64})"', page.read_text(encoding="utf-8"))
        assert found, f"{page} states no ledger position"
        assert (int(found[1]), found[2]) in stamps, f"{page} states a position no institution was changed at"
    iid, institution = next(iter(snapshot["institutions"].items()))
    page = (site / f"institutions/{iid}.html").read_text(encoding="utf-8")
    assert f'data-seq="{institution["page_seq"]}"' in page


def test_building_twice_from_the_same_seq_is_byte_identical(demo, tmp_path):
    again = snapshot_at((r.envelope for r in SealedLog(demo["root"] / "ledger.sqlite").iterate()), up_to_seq=demo["snapshot"]["cut"]["seq"])
    path = write_snapshot(again, tmp_path / "snapshots")
    assert path.read_bytes() == demo["path"].read_bytes()
    build_site(path, tmp_path / "site")
    assert files_of(tmp_path / "site") == files_of(demo["site"])


def test_downloads_are_csv_with_a_bom_json_atom_sitemap_and_dataset_metadata(demo):
    site = demo["site"]
    raw = (site / "downloads/graded.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == len(demo["snapshot"]["lists"]["graded"]) and set(rows[0]) >= {"机构名称", "等级", "统一社会信用代码"}
    assert json.loads((site / "regions/320000/filed.json").read_text())["rows"]
    assert b"<feed" in (site / "feeds/changes.atom").read_bytes()
    assert b"institutions/" in (site / "sitemap.xml").read_bytes()
    dataset = json.loads((site / "dataset.json").read_text())
    assert dataset["@type"] == "dcat:Dataset" and str(demo["snapshot"]["cut"]["seq"]) in dataset["dct:identifier"]


def test_a_publication_leaves_the_site_when_its_period_ends(demo, tmp_path):
    app, clock = demo["app"], demo["clock"]
    clock.set(date(2027, 6, 11))  # the 2026-06-10 penalty, ordinary class under the 2026 rules: 12 months at most
    run_due(app)
    later = snapshot_at(r.envelope for r in SealedLog(demo["root"] / "ledger.sqlite").iterate())
    assert later["lists"]["sanctions"] == []
    timelines = [e["event_type"] for t in later["timelines"].values() for e in t]
    assert "PenaltyPublished" not in timelines
    clock.now = NOW


def test_an_incremental_build_writes_only_what_one_decision_changed(demo, tmp_path):
    site, log = tmp_path / "site", demo["root"] / "ledger.sqlite"
    first = snapshot_at(r.envelope for r in SealedLog(log).iterate())
    build_site(write_snapshot(first, tmp_path / "snapshots"), site)
    app = demo["app"]
    before = first["cut"]["seq"]
    iid, institution = next((i, v) for i, v in demo["snapshot"]["institutions"].items() if v["status"] == "filed")
    civil = Actor("civil_affairs", "county", institution["region_code"], "增量测试")
    app.execute("institution.change", Command(civil, Basis("变更〔2026〕1号", "《养老机构管理办法》"),
                                              {"changes": {"contact_phone": "0511-80001234"}, "changed_on": "2026-11-20"}), iid)
    snapshot = snapshot_at(r.envelope for r in SealedLog(log).iterate())
    assert snapshot["cut"]["seq"] == before + 1
    path = write_snapshot(snapshot, tmp_path / "snapshots")
    untouched = {p: p.stat().st_mtime_ns for p in (site / "institutions").glob("*.html") if iid not in p.name}
    elsewhere = set(parents(institution["region_code"]))  # downloads of regions the institution is not in: made from other rows
    other_csv = {p: p.stat().st_mtime_ns for p in (site / "regions").glob("*/*.csv") if p.parent.name not in elsewhere}
    other_feeds = {p: p.read_bytes() for p in (site / "regions").glob("*/changes.atom") if p.parent.name not in elsewhere}
    written = build_site(path, site, incremental=True)
    # the institution's page, the lists and downloads it appears on, and every list and region page
    # (each states the build's one cut) — but no other institution's page
    lists_and_regions = [p for p in files_of(site) if p.startswith(("lists/", "regions/", "downloads/"))]
    assert 0 < written <= len(lists_and_regions) + 12, f"{written} files rewritten for one change"
    assert all(p.stat().st_mtime_ns == mtime for p, mtime in untouched.items()), "another institution's page was rewritten"
    assert other_csv and all(p.stat().st_mtime_ns == mtime for p, mtime in other_csv.items()), "another region's CSV was made again"
    # another region's feed: the same entries, only its <updated> (the cut's time) written over in place
    assert other_feeds and all(len(p.read_bytes()) == len(was) for p, was in other_feeds.items())
    # the search index: only the changed institution's province is indexed again, the other kept
    shards = json.loads((site / "pagefind/shards.json").read_text())["shards"]
    assert [s["province"] for s in shards] == ["210000", "320000"]
    assert json.loads((site / ".disclosure-build.json").read_text())["search_shards"] == [institution["region_code"][:2] + "0000"]
    # the pages the change left as they were, but for the cut they state, get the new cut patched in
    patched = json.loads((site / ".disclosure-build.json").read_text())["cut_patched"]
    assert patched > 0.8 * len([p for p in lists_and_regions if p.endswith(".html")])
    full = tmp_path / "full"
    build_site(path, full)
    assert json.loads((full / ".disclosure-build.json").read_text())["search_shards"] == ["210000", "320000"]
    assert json.loads((full / ".disclosure-build.json").read_text())["cut_patched"] == 0
    assert files_of(site) == files_of(full)  # the kept shard and the re-indexed one are what a full build makes
    # the same by three workers, each patching its share
    again = tmp_path / "again"
    build_site(write_snapshot(first, tmp_path / "first"), again, workers=3, search=False)
    build_site(path, again, incremental=True, workers=3, search=False)
    assert json.loads((again / ".disclosure-build.json").read_text())["cut_patched"] == patched
    assert {p: b for p, b in files_of(again).items() if not p.startswith("pagefind/")} == \
        {p: b for p, b in files_of(full).items() if not p.startswith("pagefind/")}


def test_the_search_index_has_one_shard_per_province_holding_its_homes(demo, tmp_path):
    site, institutions = demo["site"], demo["snapshot"]["institutions"]
    shards = json.loads((site / "pagefind/shards.json").read_text())["shards"]
    homes: dict[str, int] = {}
    for institution in institutions.values():
        homes[institution["region_code"][:2] + "0000"] = homes.get(institution["region_code"][:2] + "0000", 0) + 1
    assert {s["province"]: s["pages"] for s in shards} == homes
    for shard in shards:  # each a whole Pagefind bundle, of exactly its province's pages
        entry = json.loads((site / "pagefind" / shard["province"] / "pagefind-entry.json").read_text())
        assert entry["languages"]["zh-cn"]["page_count"] == homes[shard["province"]]
        assert (site / "pagefind" / shard["province"] / "pagefind.js").is_file()
    assert not (site / "pagefind" / "pagefind.js").exists()  # no unsharded index beside them
    # a province that leaves the site takes its shard with it; an unsharded index of before goes too
    from public_site import search_shards

    (site / "pagefind" / "pagefind-entry.json").write_text("{}")
    plan = json.loads((site / search_shards.PLAN).read_text())["shards"]
    search_shards.write_plan(site, {"320000": plan["320000"]})
    try:
        assert search_shards.index(site) == []
        assert sorted(p.name for p in (site / "pagefind").iterdir()) == ["320000", "shards.json"]
    finally:
        search_shards.write_plan(site, plan)
        assert search_shards.index(site) == ["210000"]


PLANTED = {
    "contact_person": "保密联系人甲乙丙",
    "legal_representative_id_no": "32011119750101123X",
    "source_detail": "举报人赵秘密电话13912345678",
    "internal_note": "内部备注不得公开XYZ",
    "location_detail": "隐患具体位置秘密ABC",
    "id_no": "21030219800202456X",
    "facts_summary": "立案事实秘密QWE",
    "user": "经办人秘密姓名",
}


def test_nothing_restricted_is_ever_rendered(tmp_path):
    clock = Clock(NOW)
    app, sealer = open_ledger(tmp_path / "ledger.sqlite", clock=clock)
    officer = Actor("civil_affairs", "county", "321111", PLANTED["user"])
    basis = Basis("泄漏测试〔2026〕1号", "测试")
    from tests.conftest import discovery_request, filing_request, unique_credit_code

    filed = app.execute("institution.file_new", Command(officer, basis, filing_request(
        contact_person=PLANTED["contact_person"], legal_representative_id_no=PLANTED["legal_representative_id_no"],
        first_resident_admitted_on="2026-10-26", application_received_on="2026-10-28", filed_on="2026-10-30",
        credit_code=unique_credit_code()))).aggregate_id
    discovery = discovery_request(source_detail=PLANTED["source_detail"], discovered_on="2026-11-06")
    discovery["handling"]["internal_note"] = PLANTED["internal_note"]
    discovery["handling"]["reason"] = "举办者身份证号320111197501011234未登记"  # typed into a public field: must be masked
    app.execute("institution.discover", Command(officer, basis, discovery))
    fire = Actor("fire_rescue", "county", "321111", PLANTED["user"])
    app.execute("hazard.identify", Command(fire, basis, {
        "institution_id": str(filed), "severity": "general", "category": "other", "criterion_ref": "OTHER", "description": "地面湿滑",
        "responsible_person": "院长", "identified_on": "2026-11-06", "location_detail": PLANTED["location_detail"]}))
    case = app.execute("sanction.file", Command(officer, basis, {"institution_id": str(filed), "ground": "MCA66-46.7",
                                                                 "facts_summary": PLANTED["facts_summary"], "filed_on": "2026-11-02"})).aggregate_id
    app.execute("sanction.notify", Command(officer, basis, {"served_on": "2026-11-02", "penalties": [{"type": "fine", "amount": "5000"}],
                                                            "facts": "经查", "legal_basis": "第46条"}), case)
    app.execute("sanction.decide", Command(officer, basis, {
        "decision_no": "泄决-1", "decided_on": "2026-11-06", "violation_type": "侵权", "facts": "经查属实", "legal_basis": "第46条",
        "penalties": [{"type": "fine", "amount": "5000"}], "compliance": "缴纳", "remedies": "复议", "deciding_authority": "民政局"}), case)
    app.execute("sanction.publish", Command(officer, basis, {"published_on": "2026-11-09", "publication_class": "ordinary"}), case)
    listing = app.execute("listing.propose", Command(officer, basis, {
        "institution_id": str(filed), "list": "joint_punishment", "ground": "elder_rights_harm", "grounding_kind": "sanction_case",
        "grounding_ref": str(case), "proposed_on": "2026-11-09", "persons": [{"name": "某甲", "role": "院长", "id_no": PLANTED["id_no"]}]})).aggregate_id
    for step, request in (("listing.notify", {"served_on": "2026-11-09"}),
                          ("listing.decide", {"outcome": "listed", "decided_on": "2026-11-17", "reasons": "测试"}),
                          ("listing.publish", {"published_on": "2026-11-18"})):
        app.execute(step, Command(officer, basis, request), listing)
    snapshot = snapshot_at(r.envelope for r in sealer.log.iterate())
    path = write_snapshot(snapshot, tmp_path / "snapshots")
    build_site(path, tmp_path / "site")
    texts = {"snapshot": path.read_text(encoding="utf-8")}
    for file in (tmp_path / "site").rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            try:
                data = gzip.decompress(data)
            except OSError:
                pass
            texts[str(file)] = data.decode("utf-8", errors="replace")
    assert snapshot["lists"]["joint_punishment"][0]["persons"] == [{"name": "某甲", "role": "院长"}]
    assert snapshot["lists"]["sanctions"] and snapshot["lists"]["unfiled"]
    for name, value in PLANTED.items():
        leaks = [where for where, text in texts.items() if value in text]
        assert leaks == [], f"{name} leaked into {leaks[:3]}"
    assert any("320111********1234" in text for text in texts.values()), "the identity number typed into a public field is masked"
    assert not any("320111197501011234" in text for text in texts.values())
    app.close()


def test_masking_covers_free_text_but_never_identifiers():
    from events.visibility import mask_personal as scrub

    row = {
        "id": "5f1c9e2a-1f3e-4c1b-9a77-13912345678c",  # a UUID with a mobile-like digit run
        "institution_id": "13912345678",
        "document_no": "镇民罚〔2026〕13912345678号",
        "public_summary": "联系人 13912345678，身份证 320102199001011234",
        "persons": [{"name": "张三", "note": "手机13912345678"}],
    }
    masked = scrub(row)
    assert masked["id"] == row["id"]
    assert masked["institution_id"] == row["institution_id"]
    assert masked["document_no"] == row["document_no"]
    assert masked["public_summary"] == "联系人 139****5678，身份证 320102********1234"
    assert masked["persons"] == [{"name": "张三", "note": "手机139****5678"}]


def test_pages_say_when_they_were_updated_in_words_and_the_feed_and_crawlers_are_served(demo):
    """Issue #16 part 3 and 5 (in part): "更新于 2026年11月24日 10:00" in words with the ledger stamp
    one click away; every list and region page states the build's one cut; the Atom feed names its
    author and itself (RFC 4287); robots.txt and a sitemap with lastmod."""
    site, snapshot = demo["site"], demo["snapshot"]
    cut = snapshot["cut"]
    graded = (site / "lists/graded/index.html").read_text(encoding="utf-8")
    assert re.search(r"更新于 \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", graded) and "<details><summary>核验信息</summary>" in graded
    for page in ("lists/filed/index.html", "regions/321100/index.html", "regions/210302/filed/index.html"):
        assert f'data-seq="{cut["seq"]}" data-hash="{cut["hash"]}"' in (site / page).read_text(encoding="utf-8"), page
    feed = (site / "feeds/changes.atom").read_text(encoding="utf-8")
    assert "<author><name>" in feed and 'rel="self"' in feed
    assert "Sitemap:" in (site / "robots.txt").read_text() and "<lastmod>" in (site / "sitemap.xml").read_text()


def test_lists_explain_themselves(demo):
    """Issue #16 part 2 (in part): what a reader needs is on the list pages, not only in the JSON —
    a penalty's facts and the rights of appeal; a listing's deciding body, basis and how to object
    or repair its credit; an inspection's departments and the items checked by name; a grade's date,
    expiry and awarding body."""
    site, lists = demo["site"], demo["snapshot"]["lists"]
    sanction = lists["sanctions"][0]
    page = (site / "lists/sanctions/index.html").read_text(encoding="utf-8")
    assert sanction["facts"] in page and sanction["remedies"] in page and "违法事实" in page
    listing = lists["joint_punishment"][0]
    page = (site / "lists/joint_punishment/index.html").read_text(encoding="utf-8")
    assert listing["authority"] == "辽宁省鞍山市铁东区民政部门" and listing["authority"] in page and listing["legal_basis"] in page
    assert f"自 {listing['early_removal_from']} 起" in page and "申请提前移出（信用修复）" in page and "行政复议" in page
    page = (site / "lists/inspections/index.html").read_text(encoding="utf-8")
    assert "民政部门、消防救援机构" in page and "服务防护：防跌倒：符合" in page and "安全疏散（疏散通道、安全出口、应急照明和疏散指示）：符合" in page
    graded = lists["graded"][0]
    page = (site / "lists/graded/index.html").read_text(encoding="utf-8")
    assert graded["awarded_on"] in page and graded["valid_until"] in page and graded["awarded_by"] in page


def test_every_feed_is_valid_atom_nationally_per_list_and_per_region(demo):
    """Issue #16 part 5: a valid Atom feed (RFC 4287: author, self link, dates, ids) for the whole
    site, for each list and for each region; a region's feed holds only its institutions' decisions."""
    from tests.atom import problems

    site, snapshot = demo["site"], demo["snapshot"]
    feeds = sorted(site.rglob("*.atom"))
    assert {"feeds/changes.atom", "feeds/sanctions.atom", "regions/321100/changes.atom", "regions/210302/changes.atom"} <= {
        str(f.relative_to(site)) for f in feeds}
    for feed in feeds:
        assert problems(feed.read_bytes()) == [], feed
    county = (site / "regions/210302/changes.atom").read_text(encoding="utf-8")
    anshan = {iid for iid, i in snapshot["institutions"].items() if i["region_code"].startswith("210302")}
    linked = set(re.findall(r"institutions/([^\"]+)\.html", county))
    assert linked and linked <= anshan
    assert "行政处罚" in (site / "feeds/sanctions.atom").read_text(encoding="utf-8") or not snapshot["lists"]["sanctions"]
    assert problems(b"<feed xmlns='http://www.w3.org/2005/Atom'><title>x</title></feed>")  # the checker can fail


def test_county_and_city_downloads_exist_and_read_back(demo):
    """Issue #16 part 5: CSV and JSON per province, city and county, with only that region's rows."""
    site, lists = demo["site"], demo["snapshot"]["lists"]
    for code in ("210000", "210300", "210302", "321100", "321181"):
        want = [r for r in lists["filed"] if code in parents(r["region_code"])]
        rows = list(csv.DictReader(io.StringIO((site / f"regions/{code}/filed.csv").read_bytes().decode("utf-8-sig"))))
        assert {r["机构名称"] for r in rows} == {r["name"] for r in want} and rows, code
        assert json.loads((site / f"regions/{code}/filed.json").read_text())["region"] == code
        region_page = (site / f"regions/{code}/index.html").read_text(encoding="utf-8")
        assert 'href="filed.csv"' in region_page and "家养老机构" in region_page


def test_region_counts_count_institutions_not_list_entries(demo):
    """Issue #16 part 6: "辽宁省（N 家机构）" counts homes, however many lists each is on."""
    site, snapshot = demo["site"], demo["snapshot"]
    homes = sum(1 for i in snapshot["institutions"].values() if i["region_code"].startswith("21"))
    entries = sum(1 for rows in snapshot["lists"].values() for r in rows if r["region_code"].startswith("21"))
    assert entries > homes
    home = (site / "index.html").read_text(encoding="utf-8")
    assert re.search(rf"辽宁省</a> <span class=\"muted\">（{homes} 家机构）", home)


def test_the_publisher_and_site_address_come_from_settings_and_are_recorded_with_the_publication(tmp_path):
    """Issue #16 parts 3 and 5: the footer names the publishing authority, contact, error-report
    channel and site identifier; sitemap, feeds, robots.txt, DCAT and canonical links use the site
    URL; all from settings. Each publication records them, so rebuilding a past publication after
    the settings changed reproduces it byte for byte."""
    from services.audit.transparency import Transparency
    from services.publication import PublicationRegister, build_published_site, reproduce
    from services.settings import Settings, SettingsError

    env = {"ELDERCARE_DATA_DIR": str(tmp_path / "var"), "ELDERCARE_SITE_URL": "https://ylfw.mz.example.gov.cn/gongkai/",
           "ELDERCARE_SITE_PUBLISHER": "示例省民政厅", "ELDERCARE_SITE_CONTACT": "025-00000000（工作日 9:00-17:00）",
           "ELDERCARE_SITE_CORRECTIONS_URL": "https://ylfw.mz.example.gov.cn/jiucuo", "ELDERCARE_SITE_IDENTIFIER": "3200000099"}
    settings = Settings.from_env(env)
    with pytest.raises(SettingsError):
        Settings.from_env(env | {"ELDERCARE_SITE_URL": "ylfw.example.gov.cn"})
    app, sealer = open_ledger(settings.event_store, clock=Clock(NOW))
    seed_demo(app)
    app.close()
    transparency = Transparency.open(settings)
    register = PublicationRegister(settings.event_store)
    try:
        snapshot, _, _ = build_published_site((r.envelope for r in sealer.log.iterate()), None, settings.site_dir, settings.snapshot_dir,
                                              transparency.tree, transparency.checkpoints, site=settings.site)
        publication = register.record(snapshot["cut"]["seq"], settings.site_dir, site=settings.site)
        site = settings.site_dir
        page = (site / "lists/filed/index.html").read_text(encoding="utf-8")
        for text in ("示例省民政厅", "025-00000000", "3200000099", 'href="https://ylfw.mz.example.gov.cn/jiucuo"', "我要纠错",
                     '<link rel="canonical" href="https://ylfw.mz.example.gov.cn/gongkai/lists/filed/index.html">'):
            assert text in page, text
        assert "https://ylfw.mz.example.gov.cn/gongkai/sitemap.xml" in (site / "robots.txt").read_text()
        assert "<loc>https://ylfw.mz.example.gov.cn/gongkai/institutions/" in (site / "sitemap.xml").read_text()
        assert 'href="https://ylfw.mz.example.gov.cn/gongkai/feeds/changes.atom"' in (site / "feeds/changes.atom").read_text(encoding="utf-8")
        dataset = json.loads((site / "dataset.json").read_text())
        assert dataset["dct:publisher"]["foaf:name"] == "示例省民政厅"
        assert dataset["dct:license"]["@id"] == "https://ylfw.mz.example.gov.cn/gongkai/pages/about.html#licence"
        assert all(d["dcat:downloadURL"].startswith("https://ylfw.mz.example.gov.cn/gongkai/downloads/") for d in dataset["dcat:distribution"])
        assert not [p for p in site.rglob("*") if p.is_file() and b"127.0.0.1:8000" in p.read_bytes()]  # no demo address left

        recorded = register.all()[-1]
        assert recorded.identity == settings.site.as_dict() and recorded.site.publisher == "示例省民政厅"
        same, _, rebuilt = reproduce(recorded, (r.envelope for r in sealer.log.iterate()), tmp_path / "again", transparency.tree,
                                     transparency.checkpoints)
        assert same and "示例省民政厅" in (rebuilt / "index.html").read_text(encoding="utf-8")
        assert publication.site_digest == recorded.site_digest
    finally:
        register.close()
        transparency.close()


def test_names_are_indexed_for_characters_pinyin_and_initials_where_the_reader_never_sees_them(demo):
    """Issue #16 part 4: the words indexed for matching (two-character runs, pinyin and initials from
    every syllable on) sit in a hidden element; results show the page's metadata instead."""
    from events.name_keys import index_words

    words = index_words("丹阳市颐和颐养中心").split()
    assert {"颐和", "yiheyiyangzhongxin", "danyangshiyiheyiyangzhongxin", "yhyyzx", "dysyhyyzx"} <= set(words)
    assert "zx" in words and "x" not in words
    iid, institution = next((i, v) for i, v in demo["snapshot"]["institutions"].items() if v.get("grade"))
    page = (demo["site"] / f"institutions/{iid}.html").read_text(encoding="utf-8")
    assert f'<p class="search-terms" hidden>{index_words(institution["name"])}</p>' in page
    assert f'data-pagefind-meta="region:{institution["region_name"]}"' in page and 'data-pagefind-meta="grade:' in page
    assert f'data-pagefind-meta="province:{institution["region_path"][0]}"' in page and 'data-pagefind-meta="lists:filed' in page
    for listing in ("lists/filed/index.html", "regions/321100/graded/index.html", "regions/321100/index.html", "index.html", "search.html"):
        assert '<label for="search-q">机构名称、地址或拼音</label>' in (demo["site"] / listing).read_text(encoding="utf-8"), listing


def test_a_build_shared_out_to_worker_processes_is_byte_identical(demo, tmp_path):
    """Large builds render their pages in forked workers (plugin PARALLEL_FROM); forced here on the
    demo, the site is the same file for file as the one-process build."""
    build_site(demo["path"], tmp_path / "site", workers=3)
    assert files_of(tmp_path / "site") == files_of(demo["site"])


def test_pages_shared_out_to_workers_are_the_pages_one_process_makes(demo, tmp_path):
    """The render workers get a province's region pages together and render each list row once per
    page depth; the site is the same as one process makes, and each row links from where it is."""
    build_site(demo["path"], tmp_path / "one", workers=1, search=False)
    build_site(demo["path"], tmp_path / "three", workers=3, search=False)
    assert files_of(tmp_path / "one") == files_of(tmp_path / "three")
    row = demo["snapshot"]["lists"]["filed"][0]
    national = (tmp_path / "three/lists/filed/index.html").read_text(encoding="utf-8")
    county = (tmp_path / f"three/regions/{row['region_code']}/filed/index.html").read_text(encoding="utf-8")
    assert f'<a href="../../institutions/{row["id"]}.html">{row["name"]}</a>' in national
    assert f'<a href="../../../institutions/{row["id"]}.html">{row["name"]}</a>' in county


def test_a_cut_patched_in_equals_a_full_build_whether_or_not_it_is_as_long(demo, tmp_path):
    """The pages only the cut changed get it patched in, in place when the new statement is as long
    as the old, else the rest of the page moved: both as a full build makes them."""
    site, snapshot = tmp_path / "site", demo["snapshot"]
    build_site(demo["path"], site, search=False)
    seq, recorded = snapshot["cut"]["seq"], snapshot["cut"]["recorded_at"]
    for n, (later_seq, later_time) in enumerate([(seq + 1, recorded), (seq * 10, "2026-12-10T02:05:00.000000+00:00")]):
        moved = dict(snapshot, cut=dict(snapshot["cut"], seq=later_seq, recorded_at=later_time))
        path = write_snapshot(moved, tmp_path / f"moved-{n}")
        build_site(path, site, incremental=True, search=False)
        report = json.loads((site / ".disclosure-build.json").read_text())
        if n == 0:  # pages and downloads alike: the cut written over the old in place
            assert report["cut_patched"] > 200 and report["written"] <= report["cut_patched"] + 30, report
        else:  # a longer statement: pages patched, the rest moved; downloads written whole
            assert report["cut_patched"] > 100, report
        full = tmp_path / f"full-{n}"
        build_site(path, full, search=False)
        assert files_of(site) == files_of(full), f"the cut moved to {later_seq}"


def test_a_site_made_from_the_snapshot_in_memory_is_the_site_made_from_its_file(demo, tmp_path):
    """A publication hands the snapshot it made to the build instead of reading the file back; the
    pages are a function of the file's content all the same."""
    build_site(json.loads(json.dumps(demo["snapshot"])) | {}, tmp_path / "from-file-content")
    build_site(demo["snapshot"], tmp_path / "in-memory")
    assert files_of(tmp_path / "in-memory") == files_of(demo["site"]) == files_of(tmp_path / "from-file-content")


def test_an_incremental_build_after_the_publisher_or_the_theme_changed_makes_everything_again(demo, tmp_path, monkeypatch):
    """The manifest's digests cover what made each file besides its data (the plugin, the theme,
    the pages' texts, who publishes the site): after another publisher's name, or a changed
    template, an incremental build equals a full one — no page or download keeps the old footer."""
    from dataclasses import replace

    from public_site.identity import DEMO

    site = tmp_path / "site"
    build_site(demo["path"], site)
    other = replace(DEMO, publisher="示例市民政局（更名后）", contact="0511-99999999")
    build_site(demo["path"], site, incremental=True, site=other)
    full = tmp_path / "full"
    build_site(demo["path"], full, site=other)
    assert files_of(site) == files_of(full)
    assert "示例市民政局（更名后）" in (site / "regions/321100/index.html").read_text(encoding="utf-8")
    assert json.loads((site / ".disclosure-build.json").read_text())["search_shards"] == ["210000", "320000"]

    theme = tmp_path / "public_site"  # the same build from a copy of the site folder, one template changed
    import shutil

    import public_site.build

    shutil.copytree(public_site.build.CONF.parent, theme, ignore=shutil.ignore_patterns("__pycache__"))
    base = theme / "theme/templates/base.html"
    base.write_text(base.read_text(encoding="utf-8").replace("</footer>", "<p>新版页脚</p></footer>", 1), encoding="utf-8")
    monkeypatch.setattr("public_site.build.CONF", theme / "pelicanconf.py")
    build_site(demo["path"], site, incremental=True, site=other, search=False)
    assert "新版页脚" in (site / "regions/321100/index.html").read_text(encoding="utf-8")
    assert all("新版页脚" in p.read_text(encoding="utf-8") for p in (site / "institutions").glob("*.html"))


def test_a_region_renamed_with_the_cut_moved_is_renamed_in_its_feed_and_downloads(demo, tmp_path):
    """A feed's title and a JSON download's head name their region before the cut they state: a
    new name of as many bytes (县 → 区) is no mere cut to patch in; incremental equals full."""
    site, snapshot = tmp_path / "site", demo["snapshot"]
    build_site(demo["path"], site, search=False)
    code = next(c for c, r in snapshot["regions"].items() if r["full_name"].endswith(("县", "区")) and (site / f"regions/{c}/changes.atom").exists())
    region = snapshot["regions"][code]
    renamed = region["full_name"][:-1] + ("区" if region["full_name"].endswith("县") else "县")
    moved = dict(snapshot, cut=dict(snapshot["cut"], seq=snapshot["cut"]["seq"] + 1),
                 regions=dict(snapshot["regions"], **{code: dict(region, full_name=renamed)}))
    path = write_snapshot(moved, tmp_path / "moved")
    build_site(path, site, incremental=True, search=False)
    assert renamed in (site / f"regions/{code}/changes.atom").read_text(encoding="utf-8")
    full = tmp_path / "full"
    build_site(path, full, search=False)
    assert files_of(site) == files_of(full)
