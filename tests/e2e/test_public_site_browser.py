"""The public site as a person uses it, in Debian's headless Chromium: open the home page, go to a
county's graded list, search a name in Chinese, download a CSV and read it, follow an institution
page — on a desktop and on a phone — and let axe-core check every kind of page for accessibility.
Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import csv
import functools
import http.server
import io
import re
import shutil
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from events.signed_note import Ed25519Signer, Sm2Signer
from services.demo import seed_demo
from services.ledger.application import BEIJING, open_ledger
from services.ledger.checkpoints import Checkpointer
from services.ledger.ledger_tree import LedgerTree
from services.ledger.sealed_log import SealedLog
from services.publication import build_published_site
from tests.conftest import Clock

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-artifacts" / "screenshots"
AXE = REPO / "tests" / "e2e" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
SIGNER = Ed25519Signer.from_seed("eldercare.localhost/ledger", bytes(range(32)))
COSIGNER = Sm2Signer.from_private_value("eldercare.localhost/ledger", 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    app, sealer = open_ledger(root / "ledger.sqlite", clock=Clock(datetime(2026, 11, 24, 10, 0, tzinfo=BEIJING)))
    seed_demo(app)
    log = SealedLog(root / "ledger.sqlite")
    tree = LedgerTree(log)
    checkpoints = Checkpointer(tree, [SIGNER, COSIGNER], clock=lambda: datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc))
    snapshot, _, _ = build_published_site((r.envelope for r in log.iterate()), None, root / "site", root / "snapshots",
                                          tree, checkpoints)
    app.close()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root / "site"))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", snapshot, root
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed (make test installs it)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def graded_county(snapshot) -> tuple[str, list[dict]]:
    by_county: dict[str, list[dict]] = {}
    for row in snapshot["lists"]["graded"]:
        by_county.setdefault(row["region_code"], []).append(row)
    county = sorted(by_county)[0]
    return county, by_county[county]


def test_a_person_finds_downloads_and_reads_the_lists(site, browser, tmp_path):
    base, snapshot, _ = site
    county, graded = graded_county(snapshot)
    regions = snapshot["regions"]
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)

    page.goto(f"{base}/index.html")
    assert page.title() == "养老机构监管信息公开"
    page.screenshot(path=SHOTS / "01-home.png", full_page=True)

    # home → province → city → county → the county's graded list
    for code in (county[:2] + "0000", county[:4] + "00", county):
        page.get_by_role("link", name=regions[code]["name"], exact=True).first.click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == regions[code]["full_name"]
    page.get_by_role("link", name="等级养老机构").last.click()
    page.wait_for_load_state()
    assert regions[county]["full_name"] in page.locator("h1").inner_text()
    names = page.locator("#graded-list tbody th").all_inner_texts()
    assert sorted(names) == sorted(r["name"] for r in graded)
    page.screenshot(path=SHOTS / "02-county-graded-list.png", full_page=True)

    # search a name in Chinese (Pagefind) and follow the result to the institution page
    target = graded[0]
    page.goto(f"{base}/index.html")
    page.get_by_label("机构名称、地址或拼音").fill(target["name"][:6])
    page.get_by_role("button", name="检索").click()
    result = page.locator(".search-hits a", has_text=target["name"]).first
    result.wait_for(timeout=15000)
    page.screenshot(path=SHOTS / "03-search.png", full_page=True)
    result.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == target["name"]
    assert "授予等级" in page.locator(".timeline").inner_text()
    page.screenshot(path=SHOTS / "04-institution.png", full_page=True)

    # download the national graded list as CSV and read it as a person's spreadsheet would
    page.goto(f"{base}/lists/graded/index.html")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").first.click()
    saved = tmp_path / "graded.csv"
    download.value.save_as(saved)
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert target["name"] in {r["机构名称"] for r in rows} and len(rows) == len(snapshot["lists"]["graded"])
    page.close()


def test_a_family_sees_the_warnings_before_anything_else(site, browser):
    base, snapshot, _ = site
    listed = snapshot["lists"]["joint_punishment"][0]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/institutions/{listed['id']}.html")
    warnings = page.locator(".answer .warnings")
    assert warnings.is_visible() and "列入养老服务市场失信联合惩戒对象名单" in warnings.inner_text()
    box = warnings.bounding_box()
    assert box is not None and box["y"] < 400, "the warning is in the first screenful"
    page.screenshot(path=SHOTS / "10-institution-warnings.png", full_page=False)
    page.close()


def test_a_journalist_reads_the_facts_on_the_list_pages(site, browser):
    base, snapshot, _ = site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    for name, shot in (("sanctions", "11-sanctions.png"), ("joint_punishment", "12-joint-punishment.png"), ("inspections", "13-inspections.png")):
        page.goto(f"{base}/lists/{name}/index.html")
        table = page.locator(f"#{name}-list")
        assert table.is_visible()
        page.screenshot(path=SHOTS / shot, full_page=True)
    page.goto(f"{base}/lists/joint_punishment/index.html")
    assert "申请提前移出（信用修复）" in page.locator("#joint_punishment-list").inner_text()
    page.close()


def test_a_family_reads_a_grading_under_publicity_and_how_to_object(site, browser):
    base, snapshot, _ = site
    [row] = snapshot["lists"]["grading_publicity"]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/lists/grading_publicity/index.html")
    table = page.locator("#grading_publicity-list").inner_text()
    assert row["name"] in table and "二级" in table and f"{row['started_on']} 至 {row['ends_on']}" in table and "书面形式" in table
    page.screenshot(path=SHOTS / "08-grading-publicity.png", full_page=True)
    page.get_by_role("link", name=row["name"]).click()
    page.wait_for_load_state()
    assert f"拟评定为二级，公示期 {row['started_on']} 至 {row['ends_on']}" in page.locator(".publicity").inner_text()
    page.close()


def test_a_person_reruns_a_double_random_draw_from_its_published_inputs(site, browser, tmp_path):
    from events.draw import seed_commitment, verify

    base, snapshot, _ = site
    [drawn] = [d for d in snapshot["draws"] if d.get("inputs")]
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.goto(f"{base}/index.html")
    page.get_by_role("link", name="“双随机”抽取核验").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "“双随机”抽取公开核验"
    assert drawn["seed_commitment"] in page.locator("#draws-list").inner_text()
    page.screenshot(path=SHOTS / "09-draws.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="下载抽取输入（JSON）").first.click()
    saved = tmp_path / "draw.json"
    download.value.save_as(saved)
    import json

    inputs = json.loads(saved.read_text(encoding="utf-8"))
    assert seed_commitment(inputs["seed"]) == drawn["seed_commitment"] and verify(inputs) == []
    page.close()


def test_on_a_phone_every_row_reads_as_a_card(site, browser):
    base, snapshot, _ = site
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    phone.goto(f"{base}/lists/unfiled/index.html")
    first_row = phone.locator("#unfiled-list tbody tr").first
    assert first_row.bounding_box()["width"] <= 390
    label = phone.locator("#unfiled-list tbody td").first.evaluate("cell => getComputedStyle(cell, '::before').content")
    assert "所在地区" in label
    phone.screenshot(path=SHOTS / "05-phone-unfiled.png", full_page=True)
    phone.emulate_media(media="print")
    assert phone.locator(".site-header nav").is_hidden()
    phone.close()


@pytest.mark.parametrize("path", ["index.html", "lists/filed/index.html", "regions/321111/index.html", "lists/sanctions/index.html",
                                  "INSTITUTION", "pages/policies.html", "pages/verification.html", "draws/index.html",
                                  "lists/grading_publicity/index.html", "search.html?q=yihe", "COMPARE",
                                  "regions/321100/index.html"])
def test_pages_pass_axe_core(site, browser, path):
    base, snapshot, _ = site
    if path == "INSTITUTION":
        path = f"institutions/{snapshot['lists']['joint_punishment'][0]['id']}.html"
    page = browser.new_page()
    if path == "COMPARE":  # with two homes chosen, so the table is there to check
        page.goto(f"{base}/index.html")
        chosen = [r["id"] for r in snapshot["lists"]["graded"][:2]]
        page.evaluate("ids => localStorage.setItem('eldercare.compare', JSON.stringify(ids))", chosen)
        path = "compare.html"
    page.goto(f"{base}/{path}")
    page.wait_for_load_state("networkidle")
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})")
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], serious
    page.close()


def test_a_member_of_the_public_verifies_the_site_over_http(site, browser, tmp_path):
    """From any page's footer to the verification page; every file it links to is there; the
    verifier it offers, downloaded and run on its own, verifies the site over HTTP with a key
    the person pins themselves."""
    base, snapshot, _ = site
    page = browser.new_page()
    page.goto(f"{base}/index.html")
    page.get_by_role("link", name="核验本站数据").click()
    assert page.get_by_role("heading", level=1).inner_text() == "核验本站数据"
    links = page.eval_on_selector_all("main a[href]", "anchors => anchors.map(a => a.href)")
    assert len(links) >= 6
    for link in links:
        assert httpx.get(link).status_code == 200, link
    verifier_link = page.get_by_role("link", name="独立核验程序").get_attribute("href")
    page.screenshot(path=SHOTS / "07-verification.png", full_page=True)
    page.close()

    verifier = tmp_path / "verifier.py"
    verifier.write_bytes(httpx.get(f"{base}/pages/{verifier_link}").content)
    done = subprocess.run([sys.executable, "-I", str(verifier), "--site", f"{base}/", "--vkey", SIGNER.verifier.text(),
                           "--vkey", COSIGNER.verifier.text()],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "核验通过" in done.stdout
    counts = re.search(r"(\d+) 个检查点, 0 个事件, (\d+) 个瓦片, (\d+) 个页面台账位置", done.stdout)
    assert counts and int(counts[1]) >= 1 and int(counts[2]) >= 1 and int(counts[3]) >= 1, done.stdout

    tampered = tmp_path / "site"
    shutil.copytree(site[2] / "site", tampered)
    page_file = next((tampered / "institutions").glob("*.html"))
    html = page_file.read_text(encoding="utf-8")
    stamp = re.search(r'data-hash="([0-9a-f]{64})"', html)[1]
    page_file.write_text(html.replace(stamp, "0" * 64), encoding="utf-8")
    done = subprocess.run([sys.executable, "-I", str(verifier), "--site", str(tampered), "--vkey", SIGNER.verifier.text()],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "核验未通过" in done.stdout, done.stdout


def hits(page) -> list[str]:
    page.locator(".search-summary").wait_for(timeout=15000)
    return page.locator(".search-hits li a").all_inner_texts()


def test_a_family_searches_by_name_pinyin_and_initials_and_filters_by_region_and_list(site, browser):
    """Issue #16 part 4: the exact home first; 颐和 and yihe find the same homes; the words indexed
    only for matching never show; a labelled box on every list page; filters by region and list."""
    from events.name_keys import pinyin_keys

    base, snapshot, _ = site
    names = {i["name"] for i in snapshot["institutions"].values()}
    yihe = {n for n in names if "颐和" in n}
    assert len(yihe) >= 3
    # the homes are in two provinces, so two search shards: the page merges them into one search
    provinces = {i["region_code"][:2] for i in snapshot["institutions"].values() if i["name"] in yihe}
    assert provinces == {"21", "32"}
    target = sorted(yihe)[0]
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    page.goto(f"{base}/lists/filed/index.html")  # the box is on every list page, with its label
    box = page.get_by_label("机构名称、地址或拼音")
    box.fill("yihe")
    page.get_by_label("名单").select_option(label="全部名单")
    page.get_by_role("button", name="检索").click()
    assert set(hits(page)) == yihe
    results = page.locator("#search-results").inner_text()
    assert "阳市 市颐" not in results and "yiheyi" not in results and "yhyy" not in results  # no indexing words on show
    page.screenshot(path=SHOTS / "14-search-pinyin.png", full_page=True)

    for query in (target, pinyin_keys(target)[0], "颐和"):
        page.goto(f"{base}/search.html?q={query}")
        found = hits(page)
        assert found and (found[0] == target if query != "颐和" else set(found) >= yihe), (query, found)
    page.goto(f"{base}/search.html?q={pinyin_keys(target)[1][-4:]}")  # initials of the name's end
    assert target in hits(page)

    province = snapshot["regions"]["210000"]["name"]
    page.goto(f"{base}/search.html")  # words and a region: only that province's homes
    page.get_by_label("机构名称、地址或拼音").fill("yihe")
    page.get_by_label("地区").select_option(label=province)
    page.get_by_role("button", name="检索").click()
    liaoning = {n for n in yihe if any(i["name"] == n and i["region_code"].startswith("21") for i in snapshot["institutions"].values())}
    assert liaoning and set(hits(page)) == liaoning
    page.goto(f"{base}/search.html")  # words and a list: only homes on it, with the warning shown
    listed = {r["name"] for r in snapshot["lists"]["joint_punishment"]}
    page.get_by_label("机构名称、地址或拼音").fill(sorted(listed)[0][:3])
    page.get_by_label("名单").select_option(label="养老服务市场失信联合惩戒对象名单")
    page.get_by_role("button", name="检索").click()
    assert set(hits(page)) <= listed and sorted(listed)[0] in hits(page)
    assert "请注意：列入养老服务市场失信联合惩戒对象名单" in page.locator(".search-hits").inner_text()
    page.goto(f"{base}/index.html")  # no words: the region's list is a page of its own
    page.get_by_label("地区").select_option(label=province)
    page.get_by_label("名单").select_option(label="养老服务市场失信联合惩戒对象名单")
    page.get_by_role("button", name="检索").click()
    page.wait_for_url("**/regions/210000/joint_punishment/index.html")
    assert set(page.locator("#joint_punishment-list tbody th").all_inner_texts()) == {
        r["name"] for r in snapshot["lists"]["joint_punishment"] if r["region_code"].startswith("21")}
    page.close()


def test_a_family_compares_three_homes_side_by_side(site, browser):
    """Issue #16 part 7: choose up to three homes and see grade, beds, compliance, listings,
    penalties and the last inspection side by side; a fourth is refused with a reason."""
    base, snapshot, _ = site
    listed = snapshot["lists"]["joint_punishment"][0]["id"]
    others = [r["id"] for r in snapshot["lists"]["graded"] if r["id"] != listed][:3]
    chosen = [listed, *others[:2]]
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    for iid in chosen:
        page.goto(f"{base}/institutions/{iid}.html")
        page.get_by_role("button", name="加入对比").click()
        assert page.get_by_role("button", name="已加入对比（点击移出）").is_visible()
    page.goto(f"{base}/institutions/{others[2]}.html")
    page.get_by_role("button", name="加入对比").click()
    assert "最多同时对比 3 家机构" in page.locator("#compare-status").inner_text()
    assert page.locator("#compare-count").inner_text() == "（3）"

    page.get_by_role("link", name="机构对比").click()
    table = page.locator("#compare-table")
    table.wait_for(state="visible")
    headers = table.locator("thead th a").all_inner_texts()
    assert headers == [snapshot["institutions"][i]["name"] for i in chosen]
    rows = {r.locator("th").inner_text(): r.locator("td").all_inner_texts() for r in table.locator("tbody tr").all()}
    assert rows["失信联合惩戒对象名单"][0] == "已列入" and rows["失信联合惩戒对象名单"][1] == "未列入"
    assert rows["等级"] == [f"{'一二三四五'[snapshot['institutions'][i]['grade']['level'] - 1]}级（有效期至 "
                           f"{snapshot['institutions'][i]['grade']['valid_until']}）" for i in chosen]
    assert rows["床位数"] == [str(snapshot["institutions"][i]["beds"]) for i in chosen]
    assert {"服务安全（GB 38600）", "行政处罚公示", "最近一次检查", "护理型床位"} <= set(rows)
    assert "alert" in (table.locator("tbody tr", has_text="失信联合惩戒对象名单").locator("td").first.get_attribute("class") or "")
    page.screenshot(path=SHOTS / "15-compare.png", full_page=True)
    table.get_by_role("button", name=f"将{snapshot['institutions'][listed]['name']}移出对比").click()
    page.locator("#compare-table").wait_for(state="visible")
    assert page.locator("#compare-table thead th a").all_inner_texts() == [snapshot["institutions"][i]["name"] for i in chosen[1:]]
    page.close()


def test_larger_text_persists_and_nothing_is_cut_at_320_px(site, browser):
    """Issue #16 part 6: a 16 px base; a larger-text mode that stays on from page to page; at 320 px
    wide (WCAG 1.4.10) no page scrolls sideways, in either mode."""
    base, snapshot, _ = site
    listed = snapshot["lists"]["joint_punishment"][0]["id"]
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(f"{base}/index.html")
    size = lambda: page.evaluate("() => getComputedStyle(document.body).fontSize")  # noqa: E731
    assert size() == "16px"
    paths = ["index.html", f"institutions/{listed}.html", "lists/sanctions/index.html", "lists/joint_punishment/index.html",
             "regions/210302/index.html", "pages/verification.html", "draws/index.html", "search.html?q=yihe", "compare.html"]
    for larger in (False, True):
        if larger:
            page.goto(f"{base}/index.html")
            page.get_by_role("button", name="大字模式").click()
            assert size() == "20px" and page.get_by_role("button", name="标准字号").get_attribute("aria-pressed") == "true"
        for path in paths:
            page.goto(f"{base}/{path}")
            page.wait_for_load_state("networkidle")
            assert size() == ("20px" if larger else "16px"), path
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            assert wide <= 320, (path, larger, wide)
        page.goto(f"{base}/institutions/{listed}.html")
        page.screenshot(path=SHOTS / f"16-320px{'-larger' if larger else ''}.png", full_page=True)
    context.close()


def test_a_person_downloads_a_county_list_and_reads_it_back(site, browser, tmp_path):
    base, snapshot, _ = site
    county = "210302"
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.goto(f"{base}/regions/{county}/index.html")
    with page.expect_download() as download:
        page.locator("ul.downloads li", has_text="已备案养老机构").get_by_role("link", name="CSV").click()
    saved = tmp_path / "county.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_bytes().decode("utf-8-sig"))))
    assert {r["机构名称"] for r in rows} == {r["name"] for r in snapshot["lists"]["filed"] if r["region_code"] == county}
    assert all(r["所在地区"] == snapshot["regions"][county]["full_name"] for r in rows)
    page.close()


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def check_in_browser(page, base: str, path: str, key: str | None = None) -> str:
    page.goto(f"{base}/{path}")
    page.locator(".ledger-cut summary").click()
    page.get_by_role("link", name="在浏览器中核验本页").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_label("要核验的页面（本站地址）").input_value() == path
    if key is not None:
        page.get_by_label("台账公钥").fill(key)
    page.get_by_role("button", name="开始核验").click()
    verdict = page.locator("#verify-result .verdict")
    verdict.wait_for(timeout=20000)
    return page.locator("#verify-result").inner_text()


def test_a_member_of_the_public_checks_a_page_in_the_browser_and_a_tampered_copy_fails(site, browser, tmp_path):
    """Issue #16 part 9: WebCrypto Ed25519 and SHA-256 in the reader's browser: the checkpoint's
    signature, and the Merkle root recomputed from the tiles with the page's stated event in its
    place. It passes on a real page; a copy whose stated hash was altered fails, and so does a key
    that is not the ledger's; on failure the page says what to do."""
    base, snapshot, root = site
    listed = snapshot["lists"]["joint_punishment"][0]["id"]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    result = check_in_browser(page, base, f"institutions/{listed}.html")
    stamp = snapshot["institutions"][listed]["page_stamp"]
    assert result.startswith("核验通过") and f"第 {stamp['seq']} 号事件" in result and stamp["hash"] in result, result
    assert "确在已签名的台账中" in result
    page.screenshot(path=SHOTS / "17-verify-passed.png", full_page=True)
    assert check_in_browser(page, base, "lists/filed/index.html").startswith("核验通过")

    other = Ed25519Signer.from_seed("eldercare.localhost/ledger", bytes(range(1, 33)))
    result = check_in_browser(page, base, f"institutions/{listed}.html", key=other.verifier.text())
    assert result.startswith("核验未通过") and "公钥" in result, result

    tampered = tmp_path / "tampered"
    shutil.copytree(root / "site", tampered)
    target = tampered / f"institutions/{listed}.html"
    html = target.read_text(encoding="utf-8")
    target.write_text(html.replace(stamp["hash"], stamp["hash"][:-1] + ("0" if stamp["hash"][-1] != "0" else "1")), encoding="utf-8")
    server, copy = serve(tampered)
    try:
        result = check_in_browser(page, copy, f"institutions/{listed}.html")
        assert result.startswith("核验未通过") and "不在已签名的台账中" in result, result
        assert "纠错渠道" in result and "先不要依据该页面的内容作决定" in result
        page.screenshot(path=SHOTS / "18-verify-failed.png", full_page=True)
    finally:
        server.shutdown()
    page.close()


def test_the_browser_check_agrees_with_the_tree_across_three_tile_levels(browser, tmp_path):
    """The in-browser check computes the same RFC 9162 root as the ledger's Merkle code at a size
    that needs level-2 tiles (over 65,536 events) and partial tiles on every level, for events at
    the start, middle and right edge; a hash one bit off fails."""
    import hashlib

    from events.checkpoint import Checkpoint
    from events.merkle import leaf_hash, node_hash, root_of
    from services.ledger.ledger_tree import tile_path, tiles_for

    size = 65_536 + 256 * 3 + 17
    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(size)]
    levels = [[leaf_hash(bytes.fromhex(h)) for h in hashes]]
    while len(levels[-1]) >= 256:
        below = levels[-1]
        blocks = []
        for start in range(0, len(below) - 255, 256):
            layer = below[start : start + 256]
            while len(layer) > 1:
                layer = [node_hash(layer[i], layer[i + 1]) for i in range(0, len(layer), 2)]
            blocks.append(layer[0])
        levels.append(blocks)
    site = tmp_path / "site"
    for level, index, width in tiles_for(size):
        path = site / "transparency" / tile_path(level, index, width)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(levels[level][index * 256 : index * 256 + width]))
    assert any(level == 2 for level, _, _ in tiles_for(size))
    root = root_of(levels[0])
    checkpoint = Checkpoint(SIGNER.name, size, root, hashes[-1], "2026-12-01T00:00:00Z")
    (site / "transparency/checkpoint").write_text(checkpoint.sign([SIGNER, COSIGNER]))
    (site / "pages").mkdir()
    shutil.copytree(REPO / "public_site/theme/static", site / "theme")
    (site / "pages/check.html").write_text('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>check</title>'
                                           '<script src="../theme/js/verify.js"></script></head><body></body></html>')
    for seq in (1, 256, 257, 40_000, 65_536, 65_537, size - 17, size):
        (site / f"p{seq}.html").write_text(f'<div class="ledger-cut" data-seq="{seq}" data-hash="{hashes[seq - 1]}"></div>')
    flipped = hashes[40_000 - 1][:-1] + ("1" if hashes[40_000 - 1][-1] == "0" else "0")
    (site / "bad.html").write_text(f'<div class="ledger-cut" data-seq="40000" data-hash="{flipped}"></div>')
    server, base = serve(site)
    page = browser.new_page()
    try:
        page.goto(f"{base}/pages/check.html")
        run = "([page, key]) => window.eldercareVerify.verifyPage(new URL('../', location.href), page, key).then(s => 'ok', e => 'fail: ' + e.message)"
        for seq in (1, 256, 257, 40_000, 65_536, 65_537, size - 17, size):
            assert page.evaluate(run, [f"p{seq}.html", SIGNER.verifier.text()]) == "ok", seq
        assert "不在已签名的台账中" in page.evaluate(run, ["bad.html", SIGNER.verifier.text()])
    finally:
        page.close()
        server.shutdown()


def test_a_region_is_pictured_with_its_numbers_beside(site, browser):
    """Issue #16 part 8: charts drawn at build time as SVG with an accessible name and description,
    the numbers as a table too; the city's campaign targets against what the ledger shows."""
    base, snapshot, _ = site
    [campaign] = [c for c in snapshot["campaigns"] if c["region"] == "321100"]
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(f"{base}/regions/321100/index.html")
    charts = page.get_by_role("img")
    names = [charts.nth(i).get_attribute("aria-labelledby") for i in range(charts.count())]
    assert any(n.startswith("targets-321100-2026") for n in names) and any(n.startswith("standing-321100") for n in names)
    figure = page.locator("figure", has_text="2026年工作目标完成情况")
    desc = figure.locator("desc").text_content()
    table = figure.locator("table").inner_text()
    for metric in campaign["metrics"]:
        assert f"{metric['name_zh']}：{metric['count']} 家，占 {metric['of']} 家的 {metric['percent']}%" in desc
        assert metric["name_zh"] in table and f"{metric['percent']}%" in table
    page.screenshot(path=SHOTS / "19-region-charts.png", full_page=True)
    page.close()
