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

from events.signed_note import NoteSigner
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
SIGNER = NoteSigner.from_seed("eldercare.localhost/ledger", bytes(range(32)))
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    app, sealer = open_ledger(root / "ledger.sqlite", clock=Clock(datetime(2026, 11, 24, 10, 0, tzinfo=BEIJING)))
    seed_demo(app)
    log = SealedLog(root / "ledger.sqlite")
    tree = LedgerTree(log)
    checkpoints = Checkpointer(tree, SIGNER, clock=lambda: datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc))
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
    page.fill("#search input", target["name"][:6])
    result = page.locator(".pagefind-ui__result-title a", has_text=target["name"]).first
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
                                  "lists/grading_publicity/index.html"])
def test_pages_pass_axe_core(site, browser, path):
    base, snapshot, _ = site
    if path == "INSTITUTION":
        path = f"institutions/{snapshot['lists']['joint_punishment'][0]['id']}.html"
    page = browser.new_page()
    page.goto(f"{base}/{path}")
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
    done = subprocess.run([sys.executable, "-I", str(verifier), "--site", f"{base}/", "--vkey", SIGNER.verifier.text()],
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
