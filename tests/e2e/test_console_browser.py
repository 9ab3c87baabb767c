"""The officers' workbench as an officer uses it, in Debian's headless Chromium, against the API
process serving the demo ledger: sign in, search with pinyin, open a dossier, record a hazard
through the generated form (a refusal shown beside its field first), export the search to XLSX and
read it back; another region's officer sees no restricted field; no request leaves 127.0.0.1 (the
API documentation included); axe-core on every console page type. Screenshots in
test-artifacts/screenshots/console-*.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.processes import environment, run, start_api

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-artifacts" / "screenshots"
AXE = REPO / "tests" / "e2e" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("console")
    env = environment(ELDERCARE_DATA_DIR=str(tmp / "var"), ELDERCARE_PROFILE="embedded", ELDERCARE_RATE_LIMIT_PER_MINUTE="0")
    run(["demo"], env)
    process, base = start_api(env, tmp)
    yield base
    process.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def intranet_only(context, outside: list[str]) -> None:
    """Refuse, and remember, every request to anywhere but this machine."""
    def route(r):
        if re.match(r"^https?://127\.0\.0\.1(:\d+)?/", r.request.url):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()
    context.route("**/*", route)


def sign_in(page, base, department="民政部门", level="县级", region="321181", role="执法/经办人员", user="王科员"):
    page.context.clear_cookies()  # whoever was signed in before
    page.goto(f"{base}/console/")
    page.get_by_label("部门").select_option(label=department)
    page.get_by_label("层级").select_option(label=level)
    page.get_by_label("所辖地区（行政区划代码）").fill(region)
    page.get_by_label("角色").select_option(label=role)
    page.get_by_label("姓名").fill(user)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/console/search")
    page.wait_for_load_state()


def open_a_danyang_home(page) -> None:
    """Search "yihe" and open the dossier of the first 丹阳市 home found."""
    page.get_by_label("名称、地址、拼音、统一社会信用代码或备案回执编号").fill("yihe")
    page.get_by_role("button", name="检索").click()
    page.wait_for_url("**/console/search?q=yihe*")
    page.locator("table.results tbody th a", has_text="丹阳市").first.click()
    page.wait_for_url("**/console/institutions/*")
    page.wait_for_load_state()


def sign_in_through_the_provider(base: str, provider, name: str) -> None:
    """The cluster profile (called from the walking skeleton, which runs it): an officer clicks
    "通过统一身份认证登录", the test identity provider signs them in (code, PKCE, state, nonce), the
    console shows their search; then a callback carrying another state signs no one in."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    provider.officer = {"department": "market_regulation", "level": "county", "region": "321111", "user": "市监-钱", "role": "officer"}
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = chromium.new_context(viewport={"width": 1366, "height": 768})
        outside: list[str] = []
        intranet_only(context, outside)
        page = context.new_page()
        page.goto(f"{base}/console/search?q=yihe")
        page.get_by_role("link", name="通过统一身份认证登录").click()
        page.wait_for_url("**/console/search*")
        page.wait_for_load_state()
        assert "市监-钱" in page.locator(".who").inner_text() and "市场监管" in page.locator(".who").inner_text()
        page.get_by_label("名称、地址、拼音、统一社会信用代码或备案回执编号").fill(name)
        page.get_by_role("button", name="检索").click()
        page.wait_for_load_state()
        assert name in page.locator("table.results").inner_text(), page.locator("main").inner_text()
        page.screenshot(path=SHOTS / "console-7-cluster-signed-in.png", full_page=True)
        assert axe(page) == []
        context.clear_cookies()
        # a flow started in this browser (its cookie set, the provider not visited), then a callback with a state not ours
        assert context.request.get(f"{base}/console/sign-in/provider", max_redirects=0).status == 303
        page.goto(f"{base}/console/sign-in/callback?code=stolen&state=forged")
        assert "状态参数不符" in page.locator("[role=alert]").inner_text()
        page.goto(f"{base}/console/search")
        assert "/console/sign-in" in page.url
        assert outside == [], outside
        chromium.close()


def axe(page) -> list:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # through the DevTools protocol: the console's content security policy refuses injected <script> tags
        page.evaluate(f"() => {{ {AXE.read_text(encoding='utf-8')}\n }}")
    results = page.evaluate("() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})")
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results["violations"] if v["impact"] in ("serious", "critical")]


def test_an_officer_finds_a_home_records_a_hazard_and_exports_the_search(api, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    outside: list[str] = []
    intranet_only(context, outside)
    page = context.new_page()
    refused: list[str] = []  # anything the content security policy blocked
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, api)
    assert axe(page) == []
    page.evaluate("() => { window.samePage = true; }")
    page.get_by_label("名称、地址、拼音、统一社会信用代码或备案回执编号").fill("yihe")
    page.get_by_role("button", name="检索").click()
    page.wait_for_url("**/console/search?q=yihe*")
    page.locator("#results-status", has_text="共").wait_for(state="attached")
    assert page.evaluate("() => window.samePage === true")  # the results changed in place (htmx), the page stayed
    assert page.locator("#results-status").text_content().startswith("共 ")  # and a screen reader hears the count
    hits = page.locator("table.results tbody th a")
    names = hits.all_inner_texts()
    assert names and all("颐和" in n for n in names), page.locator("main").inner_text()
    page.screenshot(path=SHOTS / "console-1-search.png", full_page=True)
    assert axe(page) == []

    with page.expect_download() as download:
        page.get_by_role("link", name="Excel（XLSX）").click()
    saved = tmp_path / "search.xlsx"
    download.value.save_as(saved)
    rows = list(load_workbook(saved).active.values)
    assert rows[0][0] == "机构名称" and sorted(r[0] for r in rows[1:]) == sorted(names)

    target = next(n for n in names if n.startswith("丹阳市"))
    page.get_by_role("link", name=target).click()
    page.wait_for_url("**/console/institutions/*")
    assert page.locator("h1").inner_text() == target
    page.screenshot(path=SHOTS / "console-2-dossier.png", full_page=True)
    assert axe(page) == []

    page.get_by_role("link", name="登记安全隐患").click()
    page.wait_for_url("**/record/hazard.identify")
    page.get_by_label("文书编号").fill("丹消检〔2026〕7号")
    page.get_by_label("法律依据").fill("《中华人民共和国消防法》")
    page.get_by_label("隐患等级（一般/重大）").select_option(label="重大隐患")
    page.get_by_label("隐患类别").select_option(label="消防安全")
    page.get_by_label("判定依据条目").fill("FIRE-5")
    page.get_by_label("隐患描述").fill("疏散通道堆放杂物")
    page.get_by_label("整改责任人").fill("院长")
    page.get_by_role("button", name="记录", exact=True).click()  # 发现日期 left empty
    page.locator("#error-summary").wait_for()
    date_field = page.get_by_label("发现日期")
    assert date_field.get_attribute("aria-invalid") == "true"
    error = page.locator(f"#{date_field.get_attribute('aria-describedby')}")
    assert error.inner_text() == "必填" and error.is_visible()
    page.screenshot(path=SHOTS / "console-3-refusal-beside-field.png", full_page=True)
    assert axe(page) == []
    date_field.fill("2026-11-20")
    with page.expect_navigation():
        page.get_by_role("button", name="记录", exact=True).click()
    assert page.locator("h1").inner_text() == "已记录", page.locator("main").inner_text()
    page.go_back()  # the same form, with its key, sent again records nothing more
    with page.expect_navigation():
        page.get_by_role("button", name="记录", exact=True).click()
    assert page.locator("h1").inner_text() == "此前已记录（未重复记录）", page.locator("main").inner_text()
    with page.expect_navigation():
        page.get_by_role("link", name="返回机构档案").click()
    assert page.locator(".timeline").inner_text().count("隐患") >= 1
    with page.expect_navigation():
        page.get_by_role("link", name="待办").click()
    assert "疏散通道堆放杂物" in page.locator("#hazards-without-order").inner_text()
    page.screenshot(path=SHOTS / "console-6-worklist.png", full_page=True)
    assert axe(page) == []
    assert outside == [] and refused == [], (outside, refused)
    context.close()


def test_another_regions_officer_cannot_open_restricted_fields(api, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    sign_in(page, api)
    open_a_danyang_home(page)
    own = page.locator("dl.facts").inner_text()
    dossier = page.url
    assert "法定代表人身份证件号码" in own or "联系人" in own, own
    context.close()

    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    sign_in(page, api, department="卫生健康部门", region="210302", role="查询人员", user="李查询")
    page.goto(dossier)
    other = page.locator("dl.facts").inner_text()
    assert "法定代表人身份证件号码" not in other and len(other) < len(own)
    page.screenshot(path=SHOTS / "console-4-other-region.png", full_page=True)
    context.close()


def test_the_api_documentation_renders_without_the_internet(api, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    outside: list[str] = []
    intranet_only(context, outside)
    page = context.new_page()
    page.goto(f"{api}/docs")
    page.locator(".swagger-ui .opblock").first.wait_for(timeout=20000)
    assert page.locator(".swagger-ui .opblock").count() > 20
    page.screenshot(path=SHOTS / "console-5-docs.png")
    page.goto(f"{api}/redoc")
    page.locator(".api-content").first.wait_for(timeout=20000)
    page.locator('img[src="/docs-assets/redoc-logo.svg"]').wait_for(state="attached", timeout=20000)  # the credit, drawn locally
    assert outside == [], outside
    context.close()


def test_a_wrong_level_application_is_refused_beside_its_field(api, browser):
    """A county officer applies for a level-4 grading for a home in their county; Jiangsu's table
    gives level 4 to the city, and the refusal stands beside 申请等级 in the rule's own words."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    outside: list[str] = []
    intranet_only(context, outside)
    page = context.new_page()
    sign_in(page, api)
    open_a_danyang_home(page)
    page.get_by_role("link", name="等级评定申请").click()
    page.wait_for_url("**/record/grading.apply")
    page.get_by_label("文书编号").fill("丹民评〔2026〕1号")
    page.get_by_label("法律依据").fill("《养老机构等级划分与评定》")
    page.get_by_label("申请等级").fill("4")
    page.get_by_label("申请日期").fill("2026-11-20")
    with page.expect_navigation():
        page.get_by_role("button", name="记录", exact=True).click()
    level = page.get_by_label("申请等级")
    assert level.get_attribute("aria-invalid") == "true"
    beside = page.locator(f"#{level.get_attribute('aria-describedby')}")
    assert beside.inner_text() == "4级养老机构的评定由市级民政部门办理" and beside.is_visible()
    assert "GRADING_AUTHORITY_MISMATCH" in page.locator("#error-summary").inner_text()
    page.screenshot(path=SHOTS / "console-8-wrong-level.png", full_page=True)
    assert axe(page) == []
    assert outside == [], outside
    context.close()


def test_campaign_progress_and_a_register_import_as_officers_use_them(api, browser, tmp_path):
    """A city officer reads the campaign charts and drills down to the homes still short; a
    province officer checks a register file, reads the dry run's table, and records it."""
    from datetime import date

    from tests.register_files import as_csv, filing_rows

    context = browser.new_context(viewport={"width": 1366, "height": 768})
    outside: list[str] = []
    intranet_only(context, outside)
    page = context.new_page()
    sign_in(page, api, level="市级", region="321100", user="镇江市民政局赵")
    with page.expect_navigation():
        page.get_by_role("link", name="工作目标").click()
    assert "工作目标完成情况（江苏省镇江市" in page.locator("h1").inner_text()
    chart = page.locator("svg.chart").first
    assert chart.is_visible() and "GB 38600 达标率" in chart.locator("desc").text_content()
    assert "（演示数据）" in page.locator("#metrics").inner_text()  # the demo's 2026 targets for the city
    assert page.locator("#sub-regions tbody tr").count() >= 2  # the city's counties
    page.screenshot(path=SHOTS / "console-9-campaign.png", full_page=True)
    assert axe(page) == []
    with page.expect_navigation():
        page.locator("#metrics a").first.click()  # the first metric with institutions short of it
    assert page.locator("#shortfall tbody tr td").first.inner_text() != "没有尚未达到的机构"
    page.screenshot(path=SHOTS / "console-9b-shortfall.png", full_page=True)
    assert axe(page) == []

    sign_in(page, api, level="省级", region="320000", user="江苏省民政厅数据迁移专员")
    rows, expected = filing_rows(12, bad_every=5, last_day=date(2026, 10, 31))
    upload = tmp_path / "备案台账.csv"
    upload.write_bytes(as_csv(rows))
    with page.expect_navigation():
        page.get_by_role("link", name="导入台账").click()
    assert axe(page) == []
    page.get_by_label("决定类别").select_option(label="养老机构备案")
    page.get_by_label("文件（CSV 或 XLSX，第一行为表头）").set_input_files(str(upload))
    with page.expect_navigation():
        page.get_by_role("button", name="检查（不记录）").click()
    summary = page.locator("#import-summary").inner_text()
    assert "尚未记入台账" in summary and str(12 - len(expected)) in summary
    refusals = page.locator("#import-refusals").inner_text()
    assert all(f"第 {row} 行" in refusals and code in refusals for row, code in expected.items()), refusals
    page.screenshot(path=SHOTS / "console-10-import-dry-run.png", full_page=True)
    assert axe(page) == []
    with page.expect_navigation():
        page.get_by_role("button", name="确认记入台账").click()
    assert "已记录\t" + str(12 - len(expected)) in page.locator("#import-summary").inner_text()
    assert outside == [], outside
    context.close()


PAGES_AT_200 = ("/console/search?q=yihe", "/console/worklist", "/console/campaign", "/console/import")


def test_every_page_reads_at_200_percent_on_an_office_screen(api, browser):
    """1366×768 at 200 % zoom (a 683×384 CSS-pixel viewport at twice the density): nothing makes the
    page scroll sideways; tables scroll within their own region where they must."""
    context = browser.new_context(viewport={"width": 683, "height": 384}, device_scale_factor=2)
    page = context.new_page()
    sign_in(page, api)
    paths = list(PAGES_AT_200)
    page.goto(f"{api}/console/search?q=yihe")
    dossier = page.locator("table.results tbody th a").first.get_attribute("href")
    paths += [dossier, f"{dossier}/record/hazard.identify"]
    for n, path in enumerate(paths):
        page.goto(f"{api}{path}")
        wide = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert wide <= 1, (path, wide)
        page.screenshot(path=SHOTS / f"console-zoom-{n}.png")
    context.close()


def test_an_officer_signs_in_and_searches_with_the_keyboard_alone(api, browser):
    """Keyboard only: Tab reaches the skip link first and it moves focus to the content; the sign-in
    form is filled and sent with keys; the search box is reached by Tab and sent with Enter; the
    first result opens with Enter."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(f"{api}/console/sign-in")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "跳到正文"
    assert page.locator(".skip-link").bounding_box()["x"] >= 0  # shown when focused
    page.keyboard.press("Enter")  # past the header, straight to the content
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "department"
    page.keyboard.press("Tab")  # 层级
    page.keyboard.press("Tab")
    page.keyboard.type("321181")
    page.keyboard.press("Tab")  # 角色
    page.keyboard.press("Tab")
    page.keyboard.type("键盘用户")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "键盘用户" in page.locator(".who").inner_text()
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "q":
            break
    else:
        raise AssertionError("the search box is not reachable by Tab")
    page.keyboard.type("yihe")
    page.keyboard.press("Enter")
    page.locator("#results-status", has_text="共").wait_for(state="attached")
    first = page.locator("table.results tbody th a").first
    first.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/console/institutions/" in page.url
    context.close()
