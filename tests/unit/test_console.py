"""The officers' workbench (issue #13, first part), through the API process as a browser uses it:
sign in (development sign-in, embedded profile), search with pinyin, export the result and read it
back, open a dossier, record a hazard through the form generated from the catalogue, see refusals
beside the fields, record once however often the form is sent; CSRF, idle timeout and another
region's officer seeing no restricted field. The API's documentation pages load nothing from
the internet."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from services.api.commands import request_models
from services.console.forms import fields_of
from services.console.session import COOKIE, Sessions
from services.domain.operations import OPERATIONS
from tests.conftest import TODAY, Clock
from tests.scenarios import FOUND_NAME, HOME_NAME, MARKERS, every_list
from tests.unit.test_api import bearer, serving, stored


@pytest.fixture
def world(tmp_path):
    with serving(tmp_path / "data", Clock(TODAY)) as (client, runtime):
        scenario = every_list(runtime.ledger)
        runtime.sealer.seal_pending()
        yield client, runtime, scenario


def sign_in(client, department="civil_affairs", level="county", region="321111", role="officer", user="王科员"):
    client.cookies.clear()
    response = client.post("/console/sign-in", data={"department": department, "level": level, "region": region, "role": role,
                                                     "user": user, "next": "/console/search"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html)[1]


def test_the_documentation_pages_load_nothing_from_the_internet(world):
    client, _, _ = world
    for path, asset in (("/docs", "/docs-assets/swagger-ui-bundle.js"), ("/redoc", "/docs-assets/redoc.standalone.js")):
        html = client.get(path).text
        assert asset in html
        assert not re.search(r'(src|href)="https?://', html), re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
        assert "fonts.googleapis" not in html and "cdn.jsdelivr" not in html
        assert client.get(asset).status_code == 200
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200
    bundle = client.get("/docs-assets/redoc.standalone.js")
    assert bundle.status_code == 200 and b"cdn.redoc.ly" not in bundle.content and b"/docs-assets/redoc-logo.svg" in bundle.content
    assert client.get("/docs-assets/redoc-logo.svg").headers["content-type"] == "image/svg+xml"


def test_signing_in_sets_a_safe_session_and_signing_out_ends_it(world):
    client, _, _ = world
    assert client.get("/console/search", follow_redirects=False).headers["location"].startswith("/console/sign-in")
    cookie = sign_in(client).headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/console" in cookie
    page = client.get("/console/search")
    assert page.status_code == 200 and "江苏省镇江市丹阳市民政部门（县级）" in page.text or "民政" in page.text
    forged = client.cookies.get(COOKIE)[:-4] + "0000"
    client.cookies.set(COOKIE, forged, path="/console")
    assert client.get("/console/search", follow_redirects=False).status_code == 303
    sign_in(client)
    client.post("/console/sign-out", data={"csrf": csrf_of(client.get("/console/search").text)}, follow_redirects=False)
    assert client.get("/console/search", follow_redirects=False).status_code == 303
    bad = client.post("/console/sign-in", data={"department": "civil_affairs", "level": "county", "region": "999999",
                                                "role": "officer", "user": "x"})
    assert bad.status_code == 422 and "行政区划" in bad.text


def test_an_idle_session_ends():
    now = [1000.0]
    sessions = Sessions(b"k", idle_seconds=60, clock=lambda: now[0])
    cookie = sessions.dump(sessions.new("token"))
    assert sessions.load(cookie) is not None
    now[0] += 61
    assert sessions.load(cookie) is None
    assert sessions.load(cookie.replace(".", ".0", 1)) is None


def test_an_officer_searches_exports_opens_the_dossier_and_records_a_hazard_once(world):
    client, runtime, scenario = world
    sign_in(client)
    from events.name_keys import pinyin_keys

    found = client.get("/console/search", params={"q": pinyin_keys(HOME_NAME)[1][-6:]})
    assert found.status_code == 200 and HOME_NAME in found.text
    facets = client.get("/console/search", params={"region": "321100"}).text.split("分面统计")[1].split("</details>")[0]
    assert "已列入 1" in facets and "江苏省镇江市润州区" in facets and "已备案 1" in facets
    assert not re.search(r"true|false|region_code|filed|discovered", facets), facets
    total = int(re.search(r"共 (\d+) 家", client.get("/console/search", params={"region": "321111"}).text)[1])
    book = load_workbook(io.BytesIO(client.get("/console/search.xlsx", params={"region": "321111"}).content))
    rows = list(book.active.values)
    assert rows[0][0] == "机构名称" and len(rows) - 1 == total and HOME_NAME in {r[0] for r in rows[1:]}
    csv_rows = client.get("/console/search.csv", params={"region": "321111"}).content.decode("utf-8-sig").splitlines()
    assert len(csv_rows) - 1 == total

    dossier = client.get(f"/console/institutions/{scenario.home}")
    assert dossier.status_code == 200 and HOME_NAME in dossier.text and "台账第" in dossier.text
    assert MARKERS["contact_person"] in dossier.text and "法定代表人" in dossier.text  # its own county officer sees restricted fields
    form = client.get(f"/console/institutions/{scenario.home}/record/hazard.identify")
    assert form.status_code == 200
    for label in ("隐患等级（一般/重大）", "隐患类别", "发现日期", "文书编号", "法律依据"):
        assert label in form.text, label
    assert 'type="date"' in form.text and ">重大隐患<" in form.text and "fire_safety" in form.text and ">消防安全<" in form.text

    before = stored(runtime)
    data = {"csrf": csrf_of(form.text), "idempotency_key": "form-key-1", "basis.document_no": "润消检〔2024〕9号",
            "basis.legal_basis": "《消防法》", "severity": "major", "category": "fire_safety", "criterion_ref": "FIRE-5",
            "description": "疏散通道堆放杂物", "responsible_person": "院长", "identified_on": ""}
    refused = client.post(f"/console/institutions/{scenario.home}/record/hazard.identify", data=data)
    assert refused.status_code == 422 and stored(runtime) == before
    assert re.search(r'id="f-identified_on-error">必填<', refused.text), "the refusal stands beside the field"
    assert 'aria-invalid="true" aria-describedby="f-identified_on-error"' in refused.text

    no_csrf = client.post(f"/console/institutions/{scenario.home}/record/hazard.identify", data=data | {"csrf": "x"})
    assert no_csrf.status_code == 403 and stored(runtime) == before

    data["identified_on"] = "2024-06-03"
    first = client.post(f"/console/institutions/{scenario.home}/record/hazard.identify", data=data)
    assert first.status_code == 201 and "已记录" in first.text, first.text
    after = stored(runtime)
    assert after == before + 1
    again = client.post(f"/console/institutions/{scenario.home}/record/hazard.identify", data=data)
    assert again.status_code == 200 and "未重复记录" in again.text and stored(runtime) == after
    runtime.sealer.seal_pending()
    assert "发现隐患" in client.get(f"/console/institutions/{scenario.home}").text or "隐患" in client.get(f"/console/institutions/{scenario.home}").text


def test_a_refusal_of_competence_is_shown_and_nothing_recorded(world):
    client, runtime, scenario = world
    sign_in(client, department="fire_rescue")
    form = client.get(f"/console/institutions/{scenario.home}/record/institution.suspend")
    assert form.status_code == 200
    before = stored(runtime)
    data = {"csrf": csrf_of(form.text), "idempotency_key": "k2"}
    for spec in fields_of(request_models()["institution.suspend"], OPERATIONS["institution.suspend"].event_type):
        if spec.required:
            data[spec.name] = {"date": "2024-06-03", "select": spec.options[0][0] if spec.options else "", "integer": "1"}.get(spec.kind, "整改")
    refused = client.post(f"/console/institutions/{scenario.home}/record/institution.suspend", data=data)
    assert refused.status_code == 403 and stored(runtime) == before
    assert re.search(r'id="submit-error">未记录：消防救援机构无此职权，应由民政部门办理<', refused.text)
    assert "错误代码 <code>DEPARTMENT_NOT_COMPETENT</code>" in refused.text


def test_another_regions_officer_sees_no_restricted_field(world):
    client, _, scenario = world
    sign_in(client, department="health", level="county", region="210302", role="viewer")
    dossier = client.get(f"/console/institutions/{scenario.home}")
    assert dossier.status_code == 200 and HOME_NAME in dossier.text
    assert MARKERS["contact_person"] not in dossier.text and MARKERS["legal_representative_id_no"] not in dossier.text


def test_the_worklist_shows_overdue_and_due_hazards_and_unfiled_handling_in_my_region(world):
    """Issue #13 part 5 (in part): the API's /v1/worklist and the console's 待办 page show the same
    query: an order past its deadline is overdue, one due within seven days is due soon, one not yet
    ordered is listed as such; a retracted hazard is on no list; another region's officer sees none."""
    client, runtime, scenario = world
    fire = bearer(runtime, "fire_rescue", "county", "321111")

    def hazard(description: str, deadline: str | None) -> str:
        created = client.post("/v1/hazards", headers=fire, json={
            "basis": {"document_no": f"润消检〔2024〕{description}", "legal_basis": "《消防法》"}, "institution_id": scenario.home,
            "severity": "general", "category": "fire_safety", "criterion_ref": "FIRE-5", "description": description,
            "responsible_person": "院长", "identified_on": "2024-05-06"})
        assert created.status_code == 201, created.text
        hazard_id = created.json()["aggregate_id"]
        if deadline:
            ordered = client.post(f"/v1/hazards/{hazard_id}/rectification-order", headers=fire, json={
                "basis": {"document_no": f"润消责改〔2024〕{description}", "legal_basis": "《消防法》第六十条"},
                "measures": "清理", "ordered_on": "2024-05-06", "deadline": deadline})
            assert ordered.status_code == 201, ordered.text
        return hazard_id

    hazard("过期未改", "2024-05-31")
    hazard("本周到期", "2024-06-07")
    later = hazard("尚未下令", None)
    response = client.get("/v1/worklist", params={"region": "321111"}, headers=fire).json()
    assert [h["description"] for h in response["hazards_overdue"]] == ["过期未改"]
    assert [h["description"] for h in response["hazards_due_soon"]] == ["本周到期"]
    assert [(u["name"], u["handling_deadline"], u["overdue"]) for u in response["unfiled_handling"]] == [(FOUND_NAME, "2024-04-30", True)]
    assert "尚未下令" in [h["description"] for h in response["hazards_without_order"]]

    [decision] = client.get(f"/v1/records/{later}", headers=fire).json()["decisions"]
    retracted = client.post(f"/v1/records/{later}/retraction", headers=fire, json={
        "basis": {"document_no": "润消撤〔2024〕1号", "legal_basis": "《消防法》"}, "original_event_id": decision["event_id"],
        "reason": "误报", "approver": "科长", "retracted_on": "2024-06-03"})
    assert retracted.status_code == 201, retracted.text

    sign_in(client, department="fire_rescue")
    page = client.get("/console/worklist")
    assert page.status_code == 200
    overdue = page.text.split('id="hazards-overdue"')[1].split("</table>")[0]
    assert "过期未改" in overdue and "2024-05-31" in overdue and "本周到期" not in overdue and HOME_NAME in overdue
    assert "本周到期" in page.text.split('id="hazards-due-soon"')[1].split("</table>")[0]
    assert "尚未下令" not in page.text

    sign_in(client, department="fire_rescue", region="210302")
    assert "过期未改" not in client.get("/console/worklist").text


def test_an_officer_orders_rectification_from_the_worklist(world):
    """Issue #13 parts 4 and 5: from 待办 to the hazard's page, the order form generated like every
    other, recorded through the pipeline; the hazard moves from 'not yet ordered' to 'due soon'."""
    client, runtime, scenario = world
    fire = bearer(runtime, "fire_rescue", "county", "321111")
    created = client.post("/v1/hazards", headers=fire, json={
        "basis": {"document_no": "润消检〔2024〕88号", "legal_basis": "《消防法》"}, "institution_id": scenario.home,
        "severity": "general", "category": "fire_safety", "criterion_ref": "FIRE-5", "description": "灭火器过期",
        "responsible_person": "院长", "identified_on": "2024-06-01"})
    hazard_id = created.json()["aggregate_id"]
    sign_in(client, department="fire_rescue")
    worklist = client.get("/console/worklist").text
    assert f'href="/console/records/{hazard_id}"' in worklist.split('id="hazards-without-order"')[1]
    page = client.get(f"/console/records/{hazard_id}")
    assert page.status_code == 200 and "灭火器过期" in page.text and "隐患描述" in page.text
    assert f"/console/records/{hazard_id}/record/hazard.order" in page.text
    form = client.get(f"/console/records/{hazard_id}/record/hazard.order")
    assert form.status_code == 200 and "整改期限" in form.text and 'href="/console/records/' in form.text
    before = stored(runtime)
    data = {"csrf": csrf_of(form.text), "idempotency_key": "order-1", "basis.document_no": "润消责改〔2024〕88号",
            "basis.legal_basis": "《消防法》第六十条", "measures": "更换灭火器", "ordered_on": "2024-06-03", "deadline": "2024-06-06"}
    done = client.post(f"/console/records/{hazard_id}/record/hazard.order", data=data)
    assert done.status_code == 201 and "已记录" in done.text and stored(runtime) == before + 1
    worklist = client.get("/console/worklist").text
    assert "灭火器过期" in worklist.split('id="hazards-due-soon"')[1].split("</table>")[0]
    assert "灭火器过期" not in worklist.split('id="hazards-without-order"')[1].split("</table>")[0]
    assert client.get(f"/console/records/{hazard_id}/record/institution.suspend").status_code == 404


def test_a_bad_search_filter_is_refused_in_chinese_and_an_empty_one_is_no_filter(world):
    client, _, _ = world
    sign_in(client)
    everything = client.get("/console/search", params={"q": "", "region": "", "status": "", "grade": "", "listed": ""})
    assert everything.status_code == 200 and HOME_NAME in everything.text
    for params, message in (({"region": "3211"}, "地区代码应为 6 位数字"), ({"grade": "9"}, "等级应为未评定或一至五级"),
                            ({"status": "open"}, "状态不在可选范围内"), ({"listed": "yes"}, "筛选条件不在可选范围内")):
        refused = client.get("/console/search", params=params)
        assert refused.status_code == 422 and message in refused.text, params
        assert client.get("/console/search.csv", params=params).status_code == 422


# --- signing in through the identity provider (OpenID Connect, code flow with PKCE) ---------------

@pytest.fixture
def provider():
    from tests.identity_provider import IdentityProvider

    idp = IdentityProvider()
    yield idp
    idp.stop()


@pytest.fixture
def provider_world(tmp_path, provider):
    with serving(tmp_path / "data", Clock(TODAY), **provider.env()) as (client, runtime):
        every_list(runtime.ledger)
        runtime.sealer.seal_pending()
        yield client, runtime


def _to_provider(client, next_path="/console/worklist"):
    """The console's redirect to the provider, and the provider's redirect back (a browser's two hops)."""
    import urllib.parse

    import httpx

    start = client.get(f"/console/sign-in/provider?next={urllib.parse.quote(next_path)}", follow_redirects=False)
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    back = httpx.get(authorize, follow_redirects=False)
    assert back.status_code == 302
    return urllib.parse.urlsplit(authorize), urllib.parse.urlsplit(back.headers["location"])


def test_an_officer_signs_in_through_the_identity_provider_with_pkce_state_and_nonce(provider_world, provider):
    import base64
    import hashlib
    import urllib.parse

    client, _ = provider_world
    page = client.get("/console/sign-in").text
    assert "通过统一身份认证登录" in page and 'action="/console/sign-in"' not in page  # no development sign-in beside it
    provider.officer = {"department": "fire_rescue", "level": "city", "region": "321100", "user": "消防-赵", "role": "officer"}
    authorize, back = _to_provider(client)
    asked = dict(urllib.parse.parse_qsl(authorize.query))
    assert asked["response_type"] == "code" and asked["code_challenge_method"] == "S256" and asked["client_id"] == "eldercare-console"
    assert asked["redirect_uri"] == "http://testserver/console/sign-in/callback" and len(asked["state"]) >= 32 and asked["nonce"]
    callback = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert callback.status_code == 200, callback.text
    assert 'http-equiv="refresh" content="0;url=/console/worklist"' in callback.text
    session = callback.cookies.get(COOKIE) or client.cookies.get(COOKIE)
    assert session
    (exchange,) = provider.exchanges
    presented = base64.urlsafe_b64encode(hashlib.sha256(exchange["code_verifier"].encode()).digest()).rstrip(b"=").decode()
    assert presented == asked["code_challenge"] and exchange["redirect_uri"] == asked["redirect_uri"]
    worklist = client.get("/console/worklist")
    assert worklist.status_code == 200 and "消防-赵" in worklist.text and "消防救援机构" in worklist.text
    # the code was for one exchange only
    assert provider.exchange(exchange)[0] == 400


def test_a_callback_with_another_state_signs_no_one_in_and_spends_no_code(provider_world, provider):
    import urllib.parse

    client, _ = provider_world
    _, back = _to_provider(client)
    query = dict(urllib.parse.parse_qsl(back.query))
    forged = client.get(f"{back.path}?{urllib.parse.urlencode(query | {'state': 'not-the-one-we-sent'})}", follow_redirects=False)
    assert forged.status_code == 400 and "状态参数不符" in forged.text and "OIDC_STATE_MISMATCH" in forged.text
    assert COOKIE not in client.cookies and provider.exchanges == []
    # the callback without this browser's flow cookie (a link sent to someone else) is refused too
    client.cookies.clear()
    assert client.get(f"{back.path}?{back.query}", follow_redirects=False).status_code == 400
    assert COOKIE not in client.cookies and provider.exchanges == []
    assert client.get("/console/search", follow_redirects=False).status_code == 303


def test_an_id_token_with_another_nonce_or_a_denied_sign_in_signs_no_one_in(provider_world, provider):
    client, _ = provider_world
    provider.nonce_override = "a-replayed-id-token"
    _, back = _to_provider(client)
    refused = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert refused.status_code == 400 and "OIDC_NONCE_MISMATCH" in refused.text and COOKIE not in client.cookies
    provider.nonce_override = None
    client.get("/console/sign-in/provider", follow_redirects=False)
    denied = client.get("/console/sign-in/callback?error=access_denied&state=x", follow_redirects=False)
    assert denied.status_code == 400 and "未授权登录" in denied.text and COOKIE not in client.cookies


def test_the_development_sign_in_is_refused_where_an_identity_provider_is_trusted(provider_world):
    client, _ = provider_world
    refused = client.post("/console/sign-in", data={"department": "civil_affairs", "level": "province", "region": "320000",
                                                    "role": "auditor", "user": "x"}, follow_redirects=False)
    assert refused.status_code == 403 and COOKIE not in client.cookies


def test_after_signing_in_an_officer_goes_only_to_a_console_page(provider_world, provider):
    client, _ = provider_world
    for elsewhere in ("https://phish.example/console/", "//phish.example/x", "/console//phish.example"):
        _, back = _to_provider(client, elsewhere)
        arrived = client.get(f"{back.path}?{back.query}", follow_redirects=False)
        assert 'content="0;url=/console/search"' in arrived.text, arrived.text


def test_the_worklist_shows_defence_windows_publicity_inspections_endings_and_what_the_scheduler_recorded(world):
    """Issue #13 part 5: every list of the worklist is a query over record states shown through the
    gate — a sanction notice's and a listing notice's defence periods, a grading publicity with an
    objection pending, an inspection scheduled (known only to its departments) and one conducted
    but unpublished, what ends within thirty days, and the scheduler's records since the officer's
    last visit (shown once)."""
    from datetime import date, datetime, time, timedelta

    from services.domain.actors import Actor
    from services.ledger.scheduler import run_due
    from tests.conftest import BEIJING, filing_request, unique_credit_code
    from tests.scenarios import _run

    client, runtime, scenario = world
    app = runtime.ledger
    home, fire = scenario.home, Actor("fire_rescue", "county", "321111", "消防-孙")
    case = str(_run(app, "sanction.file", {"institution_id": home, "ground": "MCA66-46.7", "facts_summary": "未按规定",
                                            "filed_on": "2024-05-30"}).aggregate_id)
    _run(app, "sanction.notify", {"served_on": "2024-05-31", "penalties": [{"type": "warning"}], "facts": "经查",
                                  "legal_basis": "第46条"}, case)
    listing = str(_run(app, "listing.propose", {
        "institution_id": home, "list": "key_attention", "ground": "elder_rights_harm", "grounding_kind": "sanction_case",
        "grounding_ref": scenario.entries["sanctions"].record_id, "proposed_on": "2024-05-31"}).aggregate_id)
    _run(app, "listing.notify", {"served_on": "2024-06-01"}, listing)
    other = str(_run(app, "institution.file_new", filing_request(name="润州区公示中颐养院", credit_code=unique_credit_code(), receipt_no="321111-2023-7001", first_resident_admitted_on="2023-03-01", application_received_on="2023-03-08",
                                                                   filed_on="2023-03-10")).aggregate_id)
    _run(app, "compliance.assess", {"institution_id": other, "standard": "GB 38600", "compliant": True, "failed_clauses": [],
                                    "assessed_on": "2024-05-10", "assessor": "润州区民政局"})
    application = str(_run(app, "grading.apply", {"institution_id": other, "requested_level": 2, "applied_on": "2024-05-20"}).aggregate_id)
    for name, request in (("grading.review_eligibility", {"reviewed_on": "2024-05-21"}),
                          ("grading.score", {"assessed_on": "2024-05-22", "scores": {"environment": 100, "facilities": 100,
                                                                                     "operations": 100, "service": 400}}),
                          ("grading.committee", {"decided_on": "2024-05-27", "approved_level": 2}),
                          ("grading.start_publicity", {"started_on": "2024-06-01"}),
                          ("grading.receive_objection", {"received_on": "2024-06-03", "summary": "床位数不实"})):
        _run(app, name, request, application)
    scheduled = str(_run(app, "inspection.schedule", {
        "institution_id": home, "kind": "case", "trigger": "群众举报", "departments": ["fire_rescue"], "inspectors": ["XF-001", "XF-002"],
        "scheduled_on": "2024-06-10"}, actor=fire).aggregate_id)
    conducted = str(_run(app, "inspection.schedule", {
        "institution_id": other, "kind": "case", "trigger": "群众举报", "departments": ["fire_rescue", "civil_affairs"],
        "inspectors": ["XF-001", "MZ-002"], "scheduled_on": "2024-06-01"}, actor=fire).aggregate_id)
    _run(app, "inspection.conduct", {"conducted_on": "2024-06-01", "inspectors_present": ["XF-001", "MZ-002"], "findings": [],
                                     "summary": "无问题"}, conducted, actor=fire)
    runtime.sealer.seal_pending()

    as_fire, as_civil = bearer(runtime, "fire_rescue", "county", "321111"), bearer(runtime)
    lists = client.get("/v1/worklist", params={"region": "321111"}, headers=as_civil).json()
    defence = {r["record_id"]: r for r in lists["defence_windows"]}
    assert set(defence) == {case, listing} and all(r["deadline"] >= "2024-06-03" and r["open"] for r in defence.values())
    assert defence[listing]["subject"] == "拟列入重点关注名单" and defence[case]["served_on"] == "2024-05-31"
    [publicity] = lists["publicity_running"]
    assert (publicity["record_id"], publicity["level"], publicity["objections_pending"]) == (application, 2, 1)
    assert [r["record_id"] for r in lists["results_to_publish"]] == [conducted]
    assert lists["inspections_to_conduct"] == []  # fire rescue's alone: civil affairs does not know of it yet
    lists = client.get("/v1/worklist", params={"region": "321111"}, headers=as_fire).json()
    assert all("deadline" not in r for r in lists["defence_windows"])  # civil affairs' cases: the periods are theirs
    assert [r["record_id"] for r in lists["inspections_to_conduct"]] == [scheduled]
    assert [r["record_id"] for r in lists["results_to_publish"]] == [conducted]
    # a health viewer: no scheduled inspection at all, and no restricted deadline
    as_health = bearer(runtime, "health", "county", "321111", role="viewer")
    theirs = client.get("/v1/worklist", params={"region": "321111"}, headers=as_health).json()
    assert theirs["inspections_to_conduct"] == [] and scheduled not in str(theirs)
    assert all("deadline" not in r for r in theirs["defence_windows"]) and len(theirs["defence_windows"]) == 2

    sign_in(client, department="fire_rescue")
    page = client.get("/console/worklist").text
    assert "（限办理部门查看）" in page.split('id="defence-windows"')[1].split("</table>")[0]
    for table, marker in (("defence-windows", "拟列入重点关注名单"), ("publicity-running", "润州区公示中颐养院"),
                          ("inspections-to-conduct", "2024-06-10"), ("results-to-publish", "2024-06-01")):
        assert marker in page.split(f'id="{table}"')[1].split("</table>")[0], table

    # thirty days before the penalty publication's longest period ends: it is ending; the scheduler,
    # run once the grading publicity is over … records nothing here, so move to after a hazard deadline
    case_state = client.get(f"/v1/records/{scenario.entries['sanctions'].record_id}", headers=as_fire).json()["state"]
    until = date.fromisoformat(case_state["publication"]["publish_until"])
    runtime.ledger.clock.now = datetime.combine(until - timedelta(days=20), time(10), BEIJING)
    ending = client.get("/v1/worklist", params={"region": "321111"}, headers=as_fire).json()["ending_soon"]
    assert [(r["record_id"], r["ends_on"]) for r in ending if r["subject"] == "行政处罚信息公示期"] == \
        [(scenario.entries["sanctions"].record_id, until.isoformat())]
    first = client.get("/console/worklist").text  # the visit before the scheduler ran
    runtime.ledger.clock.now = datetime.combine(until + timedelta(days=1), time(10), BEIJING)
    marks = run_due(runtime.ledger)
    runtime.sealer.seal_pending()
    assert marks, "something fell due"
    second = client.get("/console/worklist").text.split('id="scheduler-recorded"')[1].split("</table>")[0]
    assert "自上次查看待办" in second and "公示期届满" in second, second
    assert "公示期届满" not in first.split('id="scheduler-recorded"')[1]
    third = client.get("/console/worklist").text.split('id="scheduler-recorded"')[1].split("</table>")[0]
    assert "公示期届满" not in third and "调度程序没有新的记录" in third
    # the API's window: after ``since``, at or before ``until`` (the console's visit: up to what its read saw)
    every = client.get("/v1/worklist", params={"region": "321111", "since": 0}, headers=as_fire).json()["scheduler_recorded"]
    [ended] = [r for r in every if r["title"] == "公示期届满"]
    window = {"region": "321111", "since": 0}
    assert ended not in client.get("/v1/worklist", params=window | {"until": ended["seq"] - 1}, headers=as_fire).json()["scheduler_recorded"]
    assert ended in client.get("/v1/worklist", params=window | {"until": ended["seq"]}, headers=as_fire).json()["scheduler_recorded"]


def test_campaign_progress_per_region_with_charts_and_the_institutions_still_short(world):
    """Issue #13 part 6: a city officer sees the city's four metrics against its target (a chart with
    every number in words and the same numbers in a table), each county of the city, and drills down
    to the institutions a metric still counts as short; a corrected target shows corrected and a
    retracted one is gone (one truth); a region outside the jurisdiction is refused."""
    client, runtime, scenario = world
    city = bearer(runtime, "civil_affairs", "city", "321100")
    set_target = client.post("/v1/campaign-targets", headers=city, json={
        "basis": {"document_no": "镇民发〔2024〕3号", "legal_basis": "养老机构服务质量综合监管工作方案"},
        "region_code": "321100", "year": 2024, "metric": "filed", "target_percent": "100", "source": "到年底全部备案"})
    assert set_target.status_code == 201, set_target.text
    target_id = set_target.json()["aggregate_id"]

    api = client.get("/v1/campaign-progress", params={"region": "321100", "year": 2024, "sub_regions": True}, headers=city).json()
    filed = next(m for m in api["metrics"] if m["metric"] == "filed")
    assert (filed["count"], filed["of"], filed["met"]) == (1, 2, False)  # the home filed, the found one not
    county = next(s for s in api["sub_regions"] if s["region"] == "321111")
    assert next(m for m in county["metrics"] if m["metric"] == "filed")["of"] == 2
    short = client.get("/v1/campaign-progress/shortfall", params={"region": "321100", "year": 2024, "metric": "filed"}, headers=city).json()
    assert [r["institution_id"] for r in short["institutions"]] == [scenario.found]
    assert client.get("/v1/campaign-progress/shortfall", params={"region": "321100", "year": 2024, "metric": "bogus"},
                      headers=city).status_code == 422

    sign_in(client, level="city", region="321100")
    page = client.get("/console/campaign", params={"year": 2024, "metric": "filed"})
    assert page.status_code == 200, page.text
    metrics = page.text.split('id="metrics"')[1].split("</table>")[0]
    assert "备案率" in metrics and "1 / 2 家" in metrics and "50.0%" in metrics and "到年底全部备案" in metrics and "未达到" in metrics
    assert "备案率：1 家，占 2 家的 50.0%，目标 100%，未达到" in page.text and 'role="img"' in page.text
    subs = page.text.split('id="sub-regions"')[1].split("</table>")[0]
    assert "润州区" in subs and 'href="/console/campaign?region=321111' in subs
    drill = client.get("/console/campaign/shortfall", params={"region": "321100", "year": 2024, "metric": "filed"})
    assert drill.status_code == 200 and FOUND_NAME in drill.text and f"/console/institutions/{scenario.found}" in drill.text
    assert HOME_NAME not in drill.text.split('id="shortfall"')[1]

    [decision] = client.get(f"/v1/records/{target_id}", headers=city).json()["decisions"]
    corrected = client.post(f"/v1/records/{target_id}/correction", headers=city, json={
        "basis": {"document_no": "镇民发〔2024〕4号", "legal_basis": "养老机构服务质量综合监管工作方案"}, "original_event_id": decision["event_id"],
        "reason": "录入错误", "approver": "科长", "corrected": {"target_percent": "50"}, "corrected_on": "2024-06-03"})
    assert corrected.status_code == 201, corrected.text
    page = client.get("/console/campaign", params={"year": 2024, "metric": "filed"}).text
    assert "目标 50%，已达到" in page and "目标 100%" not in page
    retracted = client.post(f"/v1/records/{target_id}/retraction", headers=city, json={
        "basis": {"document_no": "镇民发〔2024〕5号", "legal_basis": "养老机构服务质量综合监管工作方案"}, "original_event_id": decision["event_id"],
        "reason": "目标另行制定", "approver": "科长", "retracted_on": "2024-06-03"})
    assert retracted.status_code == 201, retracted.text
    page = client.get("/console/campaign", params={"year": 2024, "metric": "filed"}).text
    assert "目标 50%" not in page and "到年底全部备案" not in page and "未设定" in page

    for params in ({"region": "210300"}, {"region": "3211"}, {"metric": "x"}):
        assert client.get("/console/campaign", params=params).status_code == 422, params


def test_the_search_walks_the_region_tree_of_the_jurisdiction(world):
    """Issue #13 part 2: a city officer sees the city's counties that hold results, with how many,
    and goes down into one and back up; nothing above the jurisdiction is offered."""
    client, _, _ = world
    sign_in(client, level="city", region="321100")
    page = client.get("/console/search").text
    tree = page.split('class="region-tree"')[1].split("</nav>")[0]
    assert 'aria-current="true">镇江市' in tree and "润州区</a> <span class=\"muted\">2 家" in tree
    assert "江苏省" not in tree  # the province is beyond a city officer's jurisdiction
    county = client.get("/console/search", params={"region": "321111"}).text
    tree = county.split('class="region-tree"')[1].split("</nav>")[0]
    assert 'href="/console/search?region=321100">镇江市</a>' in tree and 'aria-current="true">润州区' in tree and "<ul>" not in tree


def test_an_officer_imports_a_register_after_seeing_the_dry_run_as_a_table(world):
    """Issue #13 part 7: the file is checked first — the table says how many rows would be recorded
    and names each refused row with its reason — and nothing is recorded until the officer confirms;
    confirming records exactly the checked file once (a second click records nothing more); another
    officer cannot record a file someone else checked; a wrong file type is refused in Chinese."""
    from tests.register_files import as_csv, filing_rows

    client, runtime, _ = world
    rows, expected = filing_rows(30, bad_every=7, last_day=__import__("datetime").date(2024, 5, 31))
    content = as_csv(rows)
    sign_in(client, level="province", region="320000", user="迁移专员")
    form = client.get("/console/import")
    assert form.status_code == 200 and "备案" in form.text and 'enctype="multipart/form-data"' in form.text
    before = stored(runtime)
    checked = client.post("/console/import", data={"family": "filings", "csrf": csrf_of(form.text)},
                          files={"file": ("备案台账.csv", content, "text/csv")})
    assert checked.status_code == 200, checked.text
    assert stored(runtime) == before  # the dry run records nothing
    summary = checked.text.split('id="import-summary"')[1].split("</table>")[0]
    assert "尚未记入台账" in summary and f"<td>{30 - len(expected)}</td>" in summary and f"<td>{len(expected)}</td>" in summary
    refusals = checked.text.split('id="import-refusals"')[1].split("</table>")[0]
    for row, code in expected.items():
        assert f"第 {row} 行" in refusals and code in refusals, (row, code)
    confirm = {k: re.search(rf'name="{k}" value="([^"]*)"', checked.text.split('action="/console/import/record"')[1])[1]
               for k in ("csrf", "family", "digest", "suffix", "file_name")}

    sign_in(client, level="province", region="320000", user="另一名专员")  # someone else cannot record the file checked by the first
    other = client.get("/console/import")
    assert client.post("/console/import/record", data=confirm | {"csrf": csrf_of(other.text)}).status_code == 410
    assert stored(runtime) == before

    sign_in(client, level="province", region="320000", user="迁移专员")
    page = client.get("/console/import")
    recorded = client.post("/console/import/record", data=confirm | {"csrf": csrf_of(page.text)})
    assert recorded.status_code == 201, recorded.text
    assert stored(runtime) > before + 30 - len(expected) - 1
    assert f"<th scope=\"row\">已记录</th><td>{30 - len(expected)}</td>" in recorded.text
    again = client.post("/console/import/record", data=confirm | {"csrf": csrf_of(page.text)})
    assert again.status_code == 410  # the checked file was recorded and let go
    rechecked = client.post("/console/import", data={"family": "filings", "csrf": csrf_of(page.text)},
                            files={"file": ("备案台账.csv", content, "text/csv")})
    assert f"<th scope=\"row\">此前已导入（不重复记录）</th><td>{30 - len(expected)}</td>" in rechecked.text

    wrong = client.post("/console/import", data={"family": "filings", "csrf": csrf_of(page.text)},
                        files={"file": ("notes.txt", b"hello", "text/plain")})
    assert wrong.status_code == 422 and "请选择 CSV 或 XLSX 格式的文件" in wrong.text
    forged = client.post("/console/import", data={"family": "filings", "csrf": "forged"}, files={"file": ("a.csv", content, "text/csv")})
    assert forged.status_code == 403 and stored(runtime) == stored(runtime)


def test_check_without_recording_then_a_wrong_level_refused_beside_its_field(world):
    """Issue #13 part 4: "检查（不记录）" runs every rule and records nothing (the API's dry_run
    too); a county officer applying for a level-4 grading — the city's to grade in Jiangsu — is
    refused beside 申请等级, the field that decided it, with the rule's own words."""
    client, runtime, scenario = world
    sign_in(client)
    form = client.get(f"/console/institutions/{scenario.home}/record/hazard.identify")
    data = {"csrf": csrf_of(form.text), "idempotency_key": "check-1", "basis.document_no": "润消检〔2024〕9号",
            "basis.legal_basis": "《消防法》", "severity": "general", "category": "fire_safety", "criterion_ref": "FIRE-5",
            "description": "安全出口指示灯损坏", "responsible_person": "院长", "identified_on": "2024-06-01"}
    before = stored(runtime)
    checked = client.post(f"/console/institutions/{scenario.home}/record/hazard.identify", data=data | {"dry_run": "true"})
    assert checked.status_code == 200 and 'id="check-passed"' in checked.text and "尚未记录" in checked.text
    assert stored(runtime) == before and '>安全出口指示灯损坏</textarea>' in checked.text and 'value="check-1"' in checked.text
    done = client.post(f"/console/institutions/{scenario.home}/record/hazard.identify", data=data)
    assert done.status_code == 201 and stored(runtime) == before + 1

    api = client.post("/v1/hazards", params={"dry_run": "true"}, headers=bearer(runtime), json={
        "basis": {"document_no": "润民检〔2024〕10号", "legal_basis": "《养老机构管理办法》"}, "institution_id": scenario.home,
        "severity": "general", "category": "fire_safety", "criterion_ref": "FIRE-5", "description": "试", "responsible_person": "院长",
        "identified_on": "2024-06-01"})
    assert api.status_code == 200 and api.json()["dry_run"] is True and api.json()["seq"] is None and "location" not in api.headers
    assert stored(runtime) == before + 1

    form = client.get(f"/console/institutions/{scenario.home}/record/grading.apply")
    refused = client.post(f"/console/institutions/{scenario.home}/record/grading.apply", data={
        "csrf": csrf_of(form.text), "idempotency_key": "apply-4", "basis.document_no": "润民评〔2024〕1号",
        "basis.legal_basis": "《养老机构等级划分与评定》", "requested_level": "4", "applied_on": "2024-06-01"})
    assert refused.status_code == 403, refused.text
    beside = re.search(r'id="f-requested_level-error">([^<]+)<', refused.text)
    assert beside and beside[1] == "4级养老机构的评定由市级民政部门办理"
    assert 'id="f-requested_level" name="requested_level" type="number" value="4" aria-invalid="true"' in refused.text
    assert "GRADING_AUTHORITY_MISMATCH" in refused.text and stored(runtime) == before + 1


def test_a_search_made_in_place_returns_only_the_result_region_and_console_pages_are_locked_down(world):
    """Issue #13 "htmx for partial updates": the same search, asked in place, answers with the result
    region alone (and the region field out of band, so the form follows the region tree); a bad
    filter answers in the region; an expired session sends the whole page to sign in. Console
    pages carry a deny-by-default content security policy, are never framed or cached; the
    vendored script is the one its manifest names."""
    import hashlib
    import json

    from services.console.pages import HERE

    client, _, scenario = world
    sign_in(client, level="city", region="321100")
    whole = client.get("/console/search", params={"q": "yihe"})
    assert '<form method="get" action="/console/search"' in whole.text and 'id="results"' in whole.text
    htmx = {"HX-Request": "true", "HX-Target": "results"}
    part = client.get("/console/search", params={"region": "321111"}, headers=htmx)
    assert part.status_code == 200 and "<html" not in part.text and part.text.count('id="results"') == 1
    assert 'id="region" name="region"' in part.text and 'value="321111"' in part.text and 'hx-swap-oob="true"' in part.text
    assert HOME_NAME in part.text and 'class="region-tree" hx-boost="true" hx-target="#results"' in part.text
    assert f'href="/console/institutions/{scenario.home}"' in part.text.split('class="results"')[1]  # a dossier opens as a page
    bad = client.get("/console/search", params={"region": "32"}, headers=htmx)
    assert bad.status_code == 422 and "<html" not in bad.text and "地区代码应为 6 位数字" in bad.text

    headers = whole.headers
    assert "default-src 'self'" in headers["content-security-policy"] and "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in client.get("/healthz").headers  # the API's answers are left as they are
    assert "<script>" not in whole.text and " style=" not in whole.text  # nothing inline for the policy to refuse

    client.cookies.clear()
    expired = client.get("/console/search", params={"q": "yihe"}, headers=htmx, follow_redirects=False)
    assert expired.headers["hx-redirect"].startswith("/console/sign-in")

    [asset] = json.loads((HERE / "static" / "vendor" / "ASSETS.json").read_text())
    served = client.get(f"/console/static/vendor/{asset['file']}")
    assert served.status_code == 200 and hashlib.sha256(served.content).hexdigest() == asset["sha256"] and asset["licence"] == "0BSD"
    assert (HERE / "static" / "vendor" / f"{asset['file']}.LICENSE").exists()


def test_a_listing_term_and_a_grade_validity_show_as_ending_within_thirty_days(world):
    """The worklist's 'ending' list takes each record's end from its own lifecycle (the listing's
    term, the grade's validity): shown from thirty days before, not earlier."""
    from datetime import date, datetime, time, timedelta

    from tests.conftest import BEIJING

    client, runtime, scenario = world
    civil = bearer(runtime)
    for entry, field, subject in ((scenario.entries["joint_punishment"], "expires_on", "养老服务市场失信联合惩戒对象名单列入期限"),
                                  (scenario.entries["graded"], "valid_until", "3级等级有效期")):
        until = date.fromisoformat(client.get(f"/v1/records/{entry.record_id}", headers=civil).json()["state"][field])
        for days_before, listed in ((40, False), (10, True)):
            runtime.ledger.clock.now = datetime.combine(until - timedelta(days=days_before), time(10), BEIJING)
            ending = client.get("/v1/worklist", params={"region": "321111"}, headers=civil).json()["ending_soon"]
            shown = [(r["subject"], r["ends_on"]) for r in ending if r["record_id"] == entry.record_id]
            assert shown == ([(subject, until.isoformat())] if listed else []), (subject, days_before, ending)


def test_a_retracted_notice_or_listing_leaves_the_defence_windows_everywhere(world):
    """One truth: retracting a listing's notice puts the record back before its defence window, and
    retracting the proposal itself takes the record off; the API's worklist and the console's 待办
    both follow."""
    from tests.scenarios import _run

    client, runtime, scenario = world
    app = runtime.ledger
    listing = str(_run(app, "listing.propose", {
        "institution_id": scenario.home, "list": "key_attention", "ground": "elder_rights_harm", "grounding_kind": "sanction_case",
        "grounding_ref": scenario.entries["sanctions"].record_id, "proposed_on": "2024-05-31"}).aggregate_id)
    _run(app, "listing.notify", {"served_on": "2024-06-01"}, listing)
    runtime.sealer.seal_pending()
    civil = bearer(runtime)
    sign_in(client)

    def shown() -> tuple[bool, bool]:
        api = listing in [r["record_id"] for r in client.get("/v1/worklist", params={"region": "321111"}, headers=civil).json()["defence_windows"]]
        page = f"/console/records/{listing}" in client.get("/console/worklist").text.split('id="defence-windows"')[1].split("</table>")[0]
        return api, page

    assert shown() == (True, True)
    proposal, notice = client.get(f"/v1/records/{listing}", headers=civil).json()["decisions"]
    for decision in (notice, proposal):
        retracted = client.post(f"/v1/records/{listing}/retraction", headers=civil, json={
            "basis": {"document_no": f"润民撤〔2024〕{decision['event_type']}号", "legal_basis": "《养老机构管理办法》"},
            "original_event_id": decision["event_id"], "reason": "依据不足", "approver": "科长", "retracted_on": "2024-06-03"})
        assert retracted.status_code == 201, retracted.text
        assert shown() == (False, False), decision["event_type"]


def test_a_search_the_index_cannot_answer_is_a_page_in_chinese_and_503(world, monkeypatch):
    """The embedded index unable to catch up for a read (projections/read_your_writes.py): the
    console's page says so in Chinese with Retry-After; the API answers its JSON error."""
    import sqlite3

    from services.api.examples import DISCOVERY_EXAMPLE

    client, runtime, _ = world
    sign_in(client)

    def failing_pass():
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(runtime.projector, "run_once", failing_pass)
    recorded = client.post("/v1/institutions", json=dict(DISCOVERY_EXAMPLE, name="控制台检索不可用托老所"),
                           headers=bearer(runtime) | {"Idempotency-Key": "console-index-behind"})
    assert recorded.status_code == 201, recorded.text
    page = client.get("/console/search", params={"q": "控制台检索不可用"})
    assert page.status_code == 503 and page.headers["Retry-After"] and "text/html" in page.headers["content-type"]
    assert "检索服务暂时不可用" in page.text and "SEARCH_UNAVAILABLE" not in page.text
    api = client.get("/v1/search", params={"q": "控制台检索不可用"}, headers=bearer(runtime))
    assert api.status_code == 503 and api.json()["error"]["code"] == "SEARCH_UNAVAILABLE"
