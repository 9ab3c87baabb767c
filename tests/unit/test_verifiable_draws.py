"""Double-random draws anyone can check (issue #12): the plan commits to the seed's hash before the
pools exist, the draw reveals the seed; a second plan for the same scope needs a recorded reason;
before its inspections only the plan's departments (and auditors) read the sample, seed and pools;
once they are done the site publishes the draw's inputs, and events/draw.py alone re-runs it."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from events.draw import draw, seed_commitment, verify
from projections.disclosure import snapshot_at, write_snapshot
from public_site.build import build_site
from services.ledger.application import BEIJING
from tests.conftest import Clock, filing_request, unique_credit_code
from tests.unit.test_api import bearer, serving
from tests.unit.test_inspection_rules import INSPECTORS, PLAN, drawn_plan, populate, run

BASIS = {"document_no": "润民检〔2024〕5号", "legal_basis": "国办发〔2019〕5号"}


def test_the_plan_commits_to_the_seed_the_draw_reveals(ledger):
    app, _ = ledger
    populate(app, 3)
    plan_id, drawn = drawn_plan(app)
    planned = next(app.sealer.log.iterate_types(("InspectionPlanned",)))["payload"]
    assert len(planned["seed_commitment"]) == 64 and "seed" not in planned
    p = drawn["payload"]
    assert seed_commitment(p["seed"]) == planned["seed_commitment"] == p["seed_commitment"]
    assert verify(p) == []
    assert verify(dict(p, seed="0" * 64))[0] == "the seed does not match the commitment the plan recorded"


def test_a_ledger_whose_key_changed_cannot_draw_a_committed_plan(ledger):
    app, _ = ledger
    populate(app, 3)
    plan_id = run(app, "inspection_plan.plan", PLAN).aggregate_id
    app.draw_key = b"another key" * 3
    from tests.conftest import refused

    refused(app, lambda: run(app, "inspection_plan.draw", {"inspector_pool": INSPECTORS, "drawn_on": "2024-05-07"}, plan_id),
            "DRAW_KEY_CHANGED")


def test_a_second_plan_for_the_same_scope_states_its_reason(ledger):
    app, sealer = ledger
    from tests.conftest import refused

    first = str(run(app, "inspection_plan.plan", PLAN).aggregate_id)
    error = refused(app, lambda: run(app, "inspection_plan.plan", PLAN), "PLAN_EXISTS")
    assert first in error.message_zh
    second = run(app, "inspection_plan.plan", dict(PLAN, replan_reason="原计划参与部门调整，经局务会研究重新制定")).aggregate_id
    planned = [e["payload"] for e in sealer.log.iterate_types(("InspectionPlanned",))]
    assert planned[-1]["earlier_plans"] == [first] and second
    assert run(app, "inspection_plan.plan", dict(PLAN, year=2025, planned_on="2024-05-06")).aggregate_id  # another period: no reason


@pytest.fixture
def world(tmp_path):
    with serving(tmp_path / "data", Clock(datetime(2024, 6, 3, 10, tzinfo=BEIJING))) as (client, runtime):
        yield client, runtime, tmp_path


def post(client, runtime, path, body, who=("civil_affairs", "county", "321111")):
    response = client.post(path, json={"basis": BASIS, **body}, headers=bearer(runtime, *who))
    assert response.status_code == 201, response.text
    return response.json()["aggregate_id"]


def test_before_its_inspections_only_the_plans_departments_read_the_sample(world):
    client, runtime, tmp_path = world
    for n in range(3):
        post(client, runtime, "/v1/filings", filing_request(name=f"润州区第{n}颐养院", credit_code=unique_credit_code(),
                                                            receipt_no=f"321111-2024-{n:04d}"))
    fire_only = dict(PLAN, departments=["fire_rescue"], title="2024年润州区消防双随机抽查")
    fire = ("fire_rescue", "county", "321111")
    plan = post(client, runtime, "/v1/inspection-plans", fire_only, fire)
    post(client, runtime, f"/v1/inspection-plans/{plan}/draw", {"inspector_pool": [dict(i, department="fire_rescue") for i in INSPECTORS],
                                                                "drawn_on": "2024-05-07"}, fire)

    def seen(who):
        record = client.get(f"/v1/records/{plan}", headers=bearer(runtime, *who)).json()
        drawn = record["decisions"][-1]["payload"]
        return record["state"].get("sample"), drawn.get("seed"), drawn.get("institution_pool")

    assert all(seen(fire)) and all(seen(("fire_rescue", "city", "321100", "viewer")))
    assert all(seen(("civil_affairs", "province", "320000", "auditor")))
    for outsider in (("civil_affairs", "county", "321111"), ("health", "county", "321111"), ("market_regulation", "city", "321100")):
        assert seen(outsider) == (None, None, None), outsider
    assert client.get(f"/v1/records/{plan}").status_code == 401  # the public reads no plan record
    hits = client.get("/v1/records", params={"event_type": "InspectionSampleDrawn"}, headers=bearer(runtime, "health", "county", "321111"))
    assert hits.status_code == 200 and all("seed" not in h.get("payload", {}) for h in hits.json()["hits"])


def test_once_the_inspections_are_done_the_site_publishes_the_draw_for_anyone_to_rerun(world):
    client, runtime, tmp_path = world
    for n in range(3):
        post(client, runtime, "/v1/filings", filing_request(name=f"润州区第{n}颐养院", credit_code=unique_credit_code(),
                                                            receipt_no=f"321111-2024-{n:04d}"))
    plan = post(client, runtime, "/v1/inspection-plans", PLAN)
    post(client, runtime, f"/v1/inspection-plans/{plan}/draw", {"inspector_pool": INSPECTORS, "drawn_on": "2024-05-07"})

    def published(name):
        runtime.sealer.seal_pending()
        snapshot = snapshot_at((r.envelope for r in runtime.sealer.log.iterate()), on="2024-06-03")
        site = tmp_path / name
        build_site(write_snapshot(snapshot, tmp_path / f"snap-{name}"), site, search=False)
        return snapshot["draws"], site

    draws, site = published("before")
    [listed] = draws
    assert listed["plan_id"] == plan and listed["seed_commitment"] and "seed" not in listed and "sample" not in listed
    page = (site / "draws/index.html").read_text(encoding="utf-8")
    assert listed["seed_commitment"] in page and "检查完成后公开" in page
    assert not (site / f"draws/{plan}.json").exists()
    record = client.get(f"/v1/records/{plan}", headers=bearer(runtime)).json()
    for entry in record["state"]["sample"]:
        inspection = post(client, runtime, "/v1/inspections", {
            "institution_id": entry["institution_id"], "kind": "routine", "plan_id": plan, "departments": PLAN["departments"],
            "inspectors": entry["inspectors"], "scheduled_on": "2024-05-20", "notice_given_on": "2024-05-14"})
        post(client, runtime, f"/v1/inspections/{inspection}/conduct", {
            "conducted_on": "2024-05-20", "inspectors_present": entry["inspectors"], "findings": [], "summary": "未发现问题"})
    draws, site = published("after")
    [listed] = draws
    inputs = json.loads((site / f"draws/{plan}.json").read_text(encoding="utf-8"))
    assert verify(inputs) == [] and inputs["seed_commitment"] == listed["seed_commitment"]
    assert draw(inputs["seed"], inputs["institution_pool"], inputs["inspector_pool"], inputs["ratios"],
                inputs["inspectors_per_team"]) == inputs["sample"]
    assert inputs["seed"] in (site / "draws/index.html").read_text(encoding="utf-8")


def test_an_inspection_before_it_takes_place_is_known_only_to_its_departments(world):
    """An inspection scheduled from the draw tells whom the inspectors will visit: until it takes
    place no other department finds it — not as a record, not in the records search, the timeline or
    the change feed; afterwards every department sees that it was conducted."""
    client, runtime, tmp_path = world
    home = post(client, runtime, "/v1/filings", filing_request(credit_code=unique_credit_code(), receipt_no="321111-2024-0999"))
    fire = ("fire_rescue", "county", "321111")
    inspection = post(client, runtime, "/v1/inspections", {
        "institution_id": home, "kind": "case", "trigger": "群众举报夜间无人值守", "departments": ["fire_rescue"],
        "inspectors": ["XF-01", "XF-02"], "scheduled_on": "2024-06-03"}, fire)
    health = ("health", "county", "321111")
    civil = ("civil_affairs", "city", "321100")

    def found(who) -> dict:
        headers = bearer(runtime, *who)
        return {
            "record": client.get(f"/v1/records/{inspection}", headers=headers).status_code,
            "typed": client.get(f"/v1/inspections/{inspection}", headers=headers).status_code,
            "search": [h["event_type"] for h in client.get("/v1/records", params={"q": "润民检"}, headers=headers).json()["hits"]],
            "timeline": [h["event_type"] for h in client.get(f"/v1/institutions/{home}/timeline", headers=headers).json()["hits"]],
            "changes": [h["event_type"] for h in client.get("/v1/changes", params={"since": "0"}, headers=headers).json()["hits"]],
        }

    # its department reads the record; the shared search (records, timelines, change feed) holds it for no one
    assert found(fire)["record"] == found(fire)["typed"] == 200 and "InspectionScheduled" not in found(fire)["timeline"]
    assert "InstitutionFiled" in found(health)["search"]  # the search itself answers other departments
    assert found(("civil_affairs", "province", "320000", "auditor"))["record"] == 200
    for outsider in (health, civil):
        seen = found(outsider)
        assert seen["record"] == seen["typed"] == 404, (outsider, seen)
        assert "InspectionScheduled" not in seen["search"] + seen["timeline"] + seen["changes"], (outsider, seen)
    post(client, runtime, f"/v1/inspections/{inspection}/conduct", {
        "conducted_on": "2024-06-03", "inspectors_present": ["XF-01", "XF-02"], "findings": [], "summary": "夜间值守已整改"}, fire)
    after = found(health)
    assert after["record"] == 200 and "InspectionConducted" in after["timeline"] and "InspectionScheduled" not in after["timeline"]


def test_no_trace_of_an_inspection_before_it_takes_place_reaches_anyone_else(world):
    """Found by a review: a correction of the scheduling, its retraction, the search's counts and
    facets, and the institution's public stamp (its page and search document) told other departments
    and the public that an inspection was coming. None of them does now."""
    client, runtime, tmp_path = world
    home = post(client, runtime, "/v1/filings", filing_request(credit_code=unique_credit_code(), receipt_no="321111-2024-0998"))
    stamp = client.get("/v1/public/search", params={"q": "颐和"}).json()["hits"][0]["seq"]
    fire = ("fire_rescue", "county", "321111")
    inspection = post(client, runtime, "/v1/inspections", {
        "institution_id": home, "kind": "case", "trigger": "举报", "departments": ["fire_rescue"], "inspectors": ["XF-01", "XF-02"],
        "scheduled_on": "2024-06-03"}, fire)
    scheduled = client.get(f"/v1/records/{inspection}", headers=bearer(runtime, *fire)).json()["decisions"][0]["event_id"]
    post(client, runtime, f"/v1/records/{inspection}/correction", {"original_event_id": scheduled, "reason": "改期", "approver": "大队长",
                                                                   "corrected": {"scheduled_on": "2024-06-07"}, "corrected_on": "2024-06-03"}, fire)
    health = bearer(runtime, "health", "county", "321111")
    records = client.get("/v1/records", params={"institution_id": home, "facets": "true"}, headers=health).json()
    assert records["total"] == len(records["hits"]) == 1  # the filing only
    assert "InspectionScheduled" not in str(records["facets"]) and "DecisionCorrected" not in str(records["facets"])
    changes = client.get("/v1/changes", params={"since": "0"}, headers=health).json()
    assert "2024-06-07" not in str(changes) and "InspectionScheduled" not in str(changes)
    assert client.get("/v1/public/search", params={"q": "颐和"}).json()["hits"][0]["seq"] == stamp
    runtime.sealer.seal_pending()
    snapshot = snapshot_at((r.envelope for r in runtime.sealer.log.iterate()), on="2024-06-03")
    assert snapshot["institutions"][home]["page_stamp"]["seq"] == stamp
    post(client, runtime, f"/v1/records/{inspection}/retraction", {"original_event_id": scheduled, "reason": "取消检查", "approver": "大队长",
                                                                   "retracted_on": "2024-06-03"}, fire)
    assert client.get(f"/v1/records/{inspection}", headers=health).status_code == 404
    assert "2024-06-07" not in client.get(f"/v1/institutions/{home}/timeline", headers=health).text
