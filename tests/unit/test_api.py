"""The API answers every bad request with a clear 4xx (stable code, Chinese and English message)
and records nothing; a duplicate request records exactly one event."""

import time
from contextlib import contextmanager

import jwt
import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.api.auth import AUDIENCE, issue_token
from services.api.examples import DISCOVERY_EXAMPLE, FILING_EXAMPLE
from services.bootstrap import build_runtime
from services.settings import Settings
from tests.conftest import english_codes_in

SECRET = "unit-test-secret-0123456789abcdef0123456789"


@contextmanager
def serving(data_dir, clock=None, **env: str):
    """The API on an embedded runtime in ``data_dir`` (on ``clock`` if given), each read catching the index up to
    the last decision (no follower thread):
    (client, runtime), closed afterwards."""
    settings = Settings.from_env({"ELDERCARE_DATA_DIR": str(data_dir), "ELDERCARE_JWT_SECRET": SECRET, **env})
    runtime = build_runtime(settings, clock=clock) if clock is not None else build_runtime(settings)
    try:
        with TestClient(create_app(runtime, follow_in_background=False)) as client:
            yield client, runtime
    finally:
        runtime.close()


@pytest.fixture
def api(tmp_path):
    with serving(tmp_path) as served:
        yield served


def bearer(runtime, department="civil_affairs", level="county", region="321111", role="officer") -> dict:
    s = runtime.settings
    token = issue_token(s.jwt_secret, s.jwt_issuer, department=department, level=level, region=region, user="张三", role=role)
    return {"Authorization": f"Bearer {token}"}


def stored(runtime) -> int:
    return runtime.ledger.recorder.max_notification_id() or 0


def assert_refused(response, status: int, code: str):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message_zh"] and error["message_en"]
    assert not english_codes_in(error["message_zh"]), error["message_zh"]
    return error


def test_a_filing_over_http_is_recorded_sealed_and_searchable(api):
    client, runtime = api
    response = client.post("/v1/filings", json=FILING_EXAMPLE, headers=bearer(runtime))
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "filed" and body["seq"] == 1
    assert response.headers["Location"] == f"/v1/institutions/{body['institution_id']}"
    detail = client.get(f"/v1/institutions/{body['institution_id']}", headers=bearer(runtime, "health", "city", "321100", "viewer"))
    assert detail.json()["profile"]["receipt_no"] == FILING_EXAMPLE["receipt_no"]
    found = client.get("/v1/search", params={"q": "颐和"}, headers=bearer(runtime, "fire_rescue", "county", "321111", "viewer"))
    assert [h["id"] for h in found.json()["hits"]] == [body["institution_id"]]
    assert found.json()["indexed_seq"] >= 1


@pytest.mark.parametrize(
    "department, level, region, status, code",
    [
        ("market_regulation", "county", "321111", 403, "DEPARTMENT_NOT_COMPETENT"),
        ("civil_affairs", "county", "321102", 403, "FILING_AUTHORITY_MISMATCH"),
        ("civil_affairs", "county", "210302", 403, "FILING_AUTHORITY_MISMATCH"),
    ],
)
def test_wrong_department_or_region_is_forbidden_and_records_nothing(api, department, level, region, status, code):
    client, runtime = api
    response = client.post("/v1/filings", json=FILING_EXAMPLE, headers=bearer(runtime, department, level, region))
    assert_refused(response, status, code)
    assert stored(runtime) == 0


def test_a_bad_credit_code_is_refused_and_records_nothing(api):
    client, runtime = api
    body = dict(FILING_EXAMPLE, credit_code="91321111MA1N2P3Q4E")
    assert_refused(client.post("/v1/filings", json=body, headers=bearer(runtime)), 422, "CREDIT_CODE_INVALID")
    assert stored(runtime) == 0


def test_a_late_filing_is_refused_and_records_nothing(api):
    client, runtime = api
    body = dict(FILING_EXAMPLE, first_resident_admitted_on="2024-01-02", application_received_on="2024-03-08")
    error = assert_refused(client.post("/v1/filings", json=body, headers=bearer(runtime)), 422, "FILING_LATE")
    assert error["details"]["late_working_days"] > 0
    assert stored(runtime) == 0


def test_a_duplicate_request_records_exactly_one_event(api):
    client, runtime = api
    headers = {**bearer(runtime), "Idempotency-Key": "2f1c7a9e-dup"}
    first = client.post("/v1/institutions", json=DISCOVERY_EXAMPLE, headers=headers)
    second = client.post("/v1/institutions", json=DISCOVERY_EXAMPLE, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.json()["institution_id"] == second.json()["institution_id"]
    assert stored(runtime) == 1
    changed = dict(DISCOVERY_EXAMPLE, residents=3)
    assert_refused(client.post("/v1/institutions", json=changed, headers=headers), 409, "IDEMPOTENCY_KEY_REUSED")
    assert stored(runtime) == 1


def test_filing_an_already_filed_institution_is_a_conflict(api):
    client, runtime = api
    created = client.post("/v1/institutions", json=DISCOVERY_EXAMPLE, headers=bearer(runtime)).json()
    url = f"/v1/institutions/{created['institution_id']}/filing"
    assert client.post(url, json=FILING_EXAMPLE, headers=bearer(runtime)).status_code == 201
    again = dict(FILING_EXAMPLE, receipt_no="321111-2024-0999")
    assert_refused(client.post(url, json=again, headers=bearer(runtime)), 409, "ALREADY_FILED")
    assert stored(runtime) == 4  # discovery, filing, and the two identifier claims


@pytest.mark.parametrize(
    "headers, code",
    [
        ({}, "TOKEN_MISSING"),
        ({"Authorization": "Basic abc"}, "TOKEN_MISSING"),
        ({"Authorization": "Bearer not-a-jwt"}, "TOKEN_INVALID"),
    ],
)
def test_missing_or_malformed_tokens_are_unauthorized(api, headers, code):
    client, runtime = api
    assert_refused(client.post("/v1/filings", json=FILING_EXAMPLE, headers=headers), 401, code)
    assert stored(runtime) == 0


def test_expired_and_forged_tokens_are_unauthorized(api):
    client, runtime = api
    s = runtime.settings
    expired = issue_token(s.jwt_secret, s.jwt_issuer, department="civil_affairs", level="county", region="321111",
                          user="张三", now=time.time() - 13 * 3600)
    assert_refused(client.get("/v1/search", headers={"Authorization": f"Bearer {expired}"}), 401, "TOKEN_EXPIRED")
    forged = jwt.encode(
        {"sub": "x", "department": "civil_affairs", "level": "province", "region": "320000", "role": "officer",
         "iss": s.jwt_issuer, "aud": AUDIENCE, "iat": int(time.time()), "exp": int(time.time()) + 60},
        "another-secret-0123456789abcdef0123456789", algorithm="HS256",
    )
    assert_refused(client.get("/v1/search", headers={"Authorization": f"Bearer {forged}"}), 401, "TOKEN_INVALID")


def test_a_token_naming_no_valid_actor_is_unauthorized(api):
    client, runtime = api
    s = runtime.settings
    bad = jwt.encode(
        {"sub": "x", "department": "police", "level": "county", "region": "321111", "role": "officer",
         "iss": s.jwt_issuer, "aud": AUDIENCE, "iat": int(time.time()), "exp": int(time.time()) + 60},
        s.jwt_secret, algorithm="HS256",
    )
    assert_refused(client.get("/v1/search", headers={"Authorization": f"Bearer {bad}"}), 401, "TOKEN_INVALID")


def test_malformed_json_and_wrong_types_are_clear_4xx(api):
    client, runtime = api
    headers = {**bearer(runtime), "Content-Type": "application/json"}
    assert_refused(client.post("/v1/filings", content=b'{"name": ', headers=headers), 422, "JSON_INVALID")
    error = assert_refused(client.post("/v1/filings", json=dict(FILING_EXAMPLE, beds="many"), headers=headers), 422, "REQUEST_INVALID")
    assert any(p["path"].endswith("beds") for p in error["details"]["problems"])
    assert_refused(client.post("/v1/filings", json=dict(FILING_EXAMPLE, surprise=1), headers=headers), 422, "REQUEST_INVALID")
    assert_refused(client.post("/v1/filings", content="名称".encode("gbk"), headers=headers), 400, "BODY_UNREADABLE")
    assert stored(runtime) == 0


def test_an_oversized_body_is_refused_before_it_is_read(api):
    client, runtime = api
    huge = b'{"name": "' + b"a" * 1_100_000 + b'"}'
    headers = {**bearer(runtime), "Content-Type": "application/json"}
    assert_refused(client.post("/v1/filings", content=huge, headers=headers), 413, "BODY_TOO_LARGE")


@pytest.mark.parametrize("key", ["has space", "k" * 129, "caf\xe9".encode("latin-1")])
def test_an_invalid_idempotency_key_is_refused(api, key):
    client, runtime = api
    headers = {**bearer(runtime), "Idempotency-Key": key}
    assert_refused(client.post("/v1/institutions", json=DISCOVERY_EXAMPLE, headers=headers), 422, "IDEMPOTENCY_KEY_INVALID")
    assert stored(runtime) == 0


def test_bad_search_parameters_and_unknown_ids_are_clear_4xx(api):
    client, runtime = api
    h = bearer(runtime, role="viewer")
    assert_refused(client.get("/v1/search", params={"region": "32"}, headers=h), 422, "QUERY_INVALID")
    assert_refused(client.get("/v1/search", params={"status": "retired"}, headers=h), 422, "QUERY_INVALID")
    assert_refused(client.get("/v1/search", params={"cursor": "!!"}, headers=h), 422, "QUERY_INVALID")
    assert_refused(client.get("/v1/institutions/00000000-0000-0000-0000-000000000000", headers=h), 404, "INSTITUTION_NOT_FOUND")
    assert_refused(client.get("/v1/institutions/not-a-uuid", headers=h), 422, "QUERY_INVALID")
    assert_refused(client.get("/v1/nothing-here", headers=h), 404, "NOT_FOUND")


def test_the_openapi_document_is_chinese_first_and_lists_the_commands(api):
    client, _ = api
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"].startswith("养老机构")
    assert {"/v1/institutions", "/v1/filings", "/v1/institutions/{target_id}/filing", "/v1/search"} <= set(spec["paths"])
    assert spec["paths"]["/v1/filings"]["post"]["summary"] == "养老机构备案（新机构）"


def test_a_hazard_is_recorded_ordered_and_listed_over_http(api):
    client, runtime = api
    institution = client.post("/v1/filings", json=FILING_EXAMPLE, headers=bearer(runtime)).json()["institution_id"]
    fire = bearer(runtime, "fire_rescue", "county", "321111")
    basis = {"document_no": "镇消责改〔2024〕3号", "legal_basis": "《消防法》第六十条"}
    body = {
        "basis": basis, "institution_id": institution, "severity": "major", "category": "fire_safety",
        "criterion_ref": "MH2023-4.2", "description": "消防设施损坏", "responsible_person": "院长", "identified_on": "2024-05-06",
    }
    created = client.post("/v1/hazards", json=body, headers=fire)
    assert created.status_code == 201, created.text
    hazard = created.json()["aggregate_id"]
    assert created.headers["Location"] == f"/v1/hazards/{hazard}"
    order = {"basis": basis, "measures": "修复", "ordered_on": "2024-05-06", "deadline": "2024-06-30"}
    assert client.post(f"/v1/hazards/{hazard}/rectification-order", json=order, headers=fire).json()["status"] == "ordered"
    lists = client.get("/v1/hazard-lists", params={"region": "321100", "month": "2024-05"}, headers=fire).json()
    assert [h["hazard_id"] for h in lists["problems"]] == [hazard]
    missing = dict(body, institution_id="00000000-0000-0000-0000-000000000000")
    assert_refused(client.post("/v1/hazards", json=missing, headers=fire), 404, "INSTITUTION_NOT_FOUND")
    assert_refused(client.post(f"/v1/institutions/{hazard}/filing", json=FILING_EXAMPLE, headers=bearer(runtime)), 404, "INSTITUTION_NOT_FOUND")
    assert_refused(client.get("/v1/hazard-lists", params={"region": "3211", "month": "2024-13"}, headers=fire), 422, "QUERY_INVALID")


def test_every_record_a_command_creates_can_be_read_back_at_its_location(api):
    client, runtime = api
    created = client.post("/v1/filings", json=FILING_EXAMPLE, headers=bearer(runtime))
    institution = created.json()["institution_id"]
    fire = bearer(runtime, "fire_rescue", "county", "321111")
    basis = {"document_no": "镇消〔2024〕1号", "legal_basis": "《消防法》"}
    hazard = client.post("/v1/hazards", json={
        "basis": basis, "institution_id": institution, "severity": "general", "category": "other", "criterion_ref": "OTHER",
        "description": "地面湿滑", "responsible_person": "院长", "identified_on": "2024-05-06"}, headers=fire)
    for response in (created, hazard):
        location = response.headers["Location"]
        record = client.get(location, headers=fire)
        assert record.status_code == 200, location
    read = client.get(hazard.headers["Location"], headers=fire).json()
    assert read["kind"] == "Hazard" and read["status"] == "identified" and read["status_name"] == "已发现"
    assert [d["event_type"] for d in read["decisions"]] == ["HazardIdentified"]
    assert client.get(f"/v1/records/{hazard.json()['aggregate_id']}", headers=fire).json()["kind"] == "Hazard"
    assert_refused(client.get(f"/v1/sanction-cases/{hazard.json()['aggregate_id']}", headers=fire), 404, "SANCTION_CASE_NOT_FOUND")


def test_lookup_shows_restricted_fields_only_to_the_deciding_department_and_civil_affairs(api):
    client, runtime = api
    institution = client.post("/v1/filings", json=FILING_EXAMPLE, headers=bearer(runtime)).json()["institution_id"]
    fire = bearer(runtime, "fire_rescue", "county", "321111")
    basis = {"document_no": "镇消〔2024〕2号", "legal_basis": "《消防法》"}
    client.post("/v1/hazards", json={
        "basis": basis, "institution_id": institution, "severity": "general", "category": "other", "criterion_ref": "OTHER",
        "description": "地面湿滑", "responsible_person": "院长", "identified_on": "2024-05-06",
        "location_detail": "三楼西侧走廊（不公开）"}, headers=fire)
    health = bearer(runtime, "health", "city", "321100", "viewer")
    civil = bearer(runtime, role="viewer")
    anshan_civil = bearer(runtime, "civil_affairs", "city", "210300", "viewer")
    auditor = bearer(runtime, "civil_affairs", "province", "320000", "auditor")
    other_auditor = bearer(runtime, "civil_affairs", "province", "210000", "auditor")

    hit = lambda headers: client.get("/v1/search", params={"q": "颐和"}, headers=headers).json()["hits"][0]  # noqa: E731
    assert hit(civil)["view"] == "restricted" and hit(civil)["profile"]["contact_person"] == FILING_EXAMPLE["contact_person"]
    for headers in (health, anshan_civil):
        assert hit(headers)["view"] == "public" and "contact_person" not in hit(headers)["profile"]
    assert hit(auditor)["view"] == "restricted"
    assert hit(other_auditor)["view"] == "public"  # an auditor sees restricted fields in their own jurisdiction only

    timeline = lambda headers: client.get(f"/v1/institutions/{institution}/timeline", headers=headers).json()["hits"]  # noqa: E731
    hazard_for = lambda headers: next(r for r in timeline(headers) if r["event_type"] == "HazardIdentified")  # noqa: E731
    assert hazard_for(fire)["payload"]["location_detail"] == "三楼西侧走廊（不公开）"
    assert hazard_for(health)["view"] == "public" and "location_detail" not in hazard_for(health)["payload"]
    assert hazard_for(health)["payload"]["description"] == "地面湿滑"
    detail = client.get(f"/v1/institutions/{institution}", headers=health).json()["profile"]
    assert "contact_person" not in detail and detail["name"] == FILING_EXAMPLE["name"]
    assert "contact_person" in client.get(f"/v1/institutions/{institution}", headers=civil).json()["profile"]


def test_the_public_search_needs_no_token_and_shows_only_public_fields(api):
    client, runtime = api
    client.post("/v1/filings", json=FILING_EXAMPLE, headers=bearer(runtime))
    found = client.get("/v1/public/search", params={"q": "yihe"})
    assert found.status_code == 200
    hit = found.json()["hits"][0]
    assert hit["view"] == "public" and hit["name"] == FILING_EXAMPLE["name"]
    assert not {"contact_person", "legal_representative_id_no", "materials", "late_filing_reason"} & (set(hit) | set(hit["profile"]))


def test_the_change_feed_syncs_another_departments_system_incrementally(api):
    client, runtime = api
    viewer = bearer(runtime, "market_regulation", "province", "320000", "viewer")
    client.post("/v1/filings", json=FILING_EXAMPLE, headers=bearer(runtime))
    first = client.get("/v1/changes", params={"since": "0"}, headers=viewer).json()
    assert [h["event_type"] for h in first["hits"]] == ["InstitutionFiled"]
    last_seen = first["hits"][-1]["seq"]
    client.post("/v1/institutions", json=DISCOVERY_EXAMPLE, headers=bearer(runtime))
    second = client.get("/v1/changes", params={"since": str(last_seen)}, headers=viewer).json()
    assert [h["event_type"] for h in second["hits"]] == ["InstitutionDiscovered"]
    by_time = client.get("/v1/changes", params={"since": "2000-01-01T00:00:00+08:00"}, headers=viewer).json()
    assert len(by_time["hits"]) == 2
    assert_refused(client.get("/v1/changes", params={"since": "yesterday"}, headers=viewer), 422, "QUERY_INVALID")
    assert_refused(client.get("/v1/changes", params={"since": "2024-01-01T00:00:00"}, headers=viewer), 422, "QUERY_INVALID")
    status = client.get("/v1/status", headers=viewer).json()
    assert status["sealed_seq"] >= status["indexed_seq"] and status["lag_events"] == status["sealed_seq"] - status["indexed_seq"]


def test_a_streamed_oversized_body_without_a_length_is_cut_off(api):
    client, runtime = api
    def chunks():
        yield b'{"name": "'
        for _ in range(120):
            yield b"a" * 10_000
        yield b'"}'
    headers = {**bearer(runtime), "Content-Type": "application/json"}
    response = client.post("/v1/filings", content=chunks(), headers=headers)
    assert_refused(response, 413, "BODY_TOO_LARGE")
    assert stored(runtime) == 0


def test_bodies_that_are_not_utf8_json_objects_are_clear_4xx(api):
    client, runtime = api
    headers = {**bearer(runtime), "Content-Type": "application/json"}
    assert_refused(client.post("/v1/filings", content=b'{"name": "\xff\xfe"}', headers=headers), 400, "BODY_UNREADABLE")
    assert_refused(client.post("/v1/filings", content=b'[1, 2]', headers=headers), 422, "REQUEST_INVALID")
    assert_refused(client.post("/v1/filings", content=b'', headers=headers), 422, "REQUEST_INVALID")
    big = dict(FILING_EXAMPLE, beds=2**60)
    assert client.post("/v1/filings", json=big, headers=headers).status_code == 422
    assert stored(runtime) == 0


# --- one gate on the way in ------------------------------------------------------------------------

BEYOND = str(2**63)


@pytest.mark.parametrize("path, params", [
    (f"/v1/transparency/checkpoints/{BEYOND}", {}),
    ("/v1/audit/events", {"after": BEYOND}),
    ("/v1/changes", {"since": BEYOND}),
    ("/v1/changes", {"since": "²³"}),  # digits to str.isdigit, not to int()
    ("/v1/transparency/proofs/inclusion", {"seq": BEYOND}),
    ("/v1/transparency/proofs/consistency", {"from": "1", "to": BEYOND}),
    ("/v1/audit/lists/filed", {"seq": BEYOND}),
    ("/v1/hazard-lists", {"region": "321100", "month": "0000-01"}),
])
def test_numbers_beyond_any_ledger_position_are_a_422_naming_the_parameter(api, path, params):
    client, runtime = api
    auditor = bearer(runtime, "civil_affairs", "province", "320000", "auditor")
    error = assert_refused(client.get(path, params=params, headers=auditor), 422, "QUERY_INVALID")
    assert error["details"]["field"] in {*params, "tree_size"} and error["message_zh"].startswith("查询参数")


def test_every_integer_parameter_of_every_route_is_bounded(api):
    client, _ = api
    spec = client.get("/openapi.json").json()
    unbounded = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []):
                schemas = [parameter["schema"], *parameter["schema"].get("anyOf", [])]
                for schema in schemas:
                    if schema.get("type") == "integer" and schema.get("maximum", 2**63) >= 2**63:
                        unbounded.append((method, path, parameter["name"]))
    assert unbounded == []


@pytest.mark.parametrize("field, value", [
    ("name", "颐和\u0000养老院"), ("address", "镇江市\u202e院老养"), ("contact_person", "王\u0007芳"), ("name", "颐和\n养老院"),
])
def test_control_characters_are_refused_at_the_door_naming_the_field(api, field, value):
    client, runtime = api
    before = stored(runtime)
    body = dict(FILING_EXAMPLE, **{field: value})
    error = assert_refused(client.post("/v1/filings", json=body, headers=bearer(runtime)), 422, "REQUEST_INVALID")
    assert error["details"]["problems"][0]["path"] == f"body.{field}" and "控制字符" in error["message_zh"]
    basis = dict(FILING_EXAMPLE, basis=dict(FILING_EXAMPLE["basis"], document_no="润民\u0000备"))
    error = assert_refused(client.post("/v1/filings", json=basis, headers=bearer(runtime)), 422, "REQUEST_INVALID")
    assert error["details"]["problems"][0]["path"] == "body.basis.document_no"
    assert stored(runtime) == before


def test_the_catalogue_refuses_control_characters_for_every_way_in():
    # The pipeline's own check (imports, the CLI, corrections), not only the API's models.
    from events import CATALOGUE
    from events.catalogue import problems_in

    fields = CATALOGUE["HazardIdentified"].fields
    text_field = next(f for f in fields if f.kind == "text")
    line_field = next(f for f in fields if f.kind == "string")
    assert problems_in((text_field,), {text_field.name: "第一行\n第二行\t缩进"}) == []
    problem, = problems_in((text_field,), {text_field.name: "a\u0000b"})
    assert problem.path == f"payload.{text_field.name}" and "U+0000" in problem.message_zh
    problem, = problems_in((line_field,), {line_field.name: "一\n二"})
    assert "U+000A" in problem.message_en


def test_decisions_run_on_threads_of_their_own_sized_by_the_setting(tmp_path):
    assert Settings.from_env({"ELDERCARE_DATA_DIR": str(tmp_path / "d"), "ELDERCARE_JWT_SECRET": SECRET}).command_threads == 16
    with serving(tmp_path, ELDERCARE_COMMAND_THREADS="3") as (client, runtime):
        pool = client.app.state.command_threads
        assert pool.total_tokens == 3
        borrowed = []
        execute = runtime.ledger.execute

        def watched(*args, **kwargs):
            borrowed.append(pool.borrowed_tokens)  # this decision holds one of the pool's threads
            return execute(*args, **kwargs)

        runtime.ledger.execute = watched
        response = client.post("/v1/filings", json=FILING_EXAMPLE, headers=bearer(runtime))
        assert response.status_code == 201 and borrowed == [1]
        assert pool.borrowed_tokens == 0  # given back once the decision is answered
