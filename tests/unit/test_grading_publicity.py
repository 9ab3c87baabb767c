"""The grading publicity (公示) as the public sees it (seed 002 二（四）: the whole grading process is
public): an application under publicity is on the public list, on the institution's page and in the
feed, and in the public search, with its period and how to object; objections and their handling
are recorded, the objection itself and the objector stay restricted; when the publicity closes —
or the decision that started it is retracted — it leaves every public place."""

from __future__ import annotations

from datetime import datetime

import pytest

from projections.disclosure import snapshot_at, write_snapshot
from public_site.build import build_site
from services.ledger.application import BEIJING
from tests.conftest import Clock, filing_request
from tests.unit.test_api import assert_refused, bearer, serving

BASIS = {"document_no": "润民评〔2024〕5号", "legal_basis": "GB/T 37276-2018"}
SCORES = {"environment": 110, "facilities": 120, "operations": 130, "service": 480}
OBJECTOR, OBJECTION = "家属李某某", "夜间值班护理员只有一人，与评定材料不符"


@pytest.fixture
def world(tmp_path):
    with serving(tmp_path / "data", Clock(datetime(2024, 6, 3, 10, tzinfo=BEIJING))) as (client, runtime):
        yield client, runtime, tmp_path


def post(client, runtime, path, body, status=201):
    response = client.post(path, json={"basis": BASIS, **body}, headers=bearer(runtime))
    assert response.status_code == status, response.text
    return response.json()


def under_publicity(client, runtime) -> tuple[str, str]:
    home = post(client, runtime, "/v1/filings", filing_request(first_resident_admitted_on="2023-03-01",
                                                               application_received_on="2023-03-08", filed_on="2023-03-10"))
    iid = home["institution_id"]
    post(client, runtime, "/v1/compliance-assessments", {"institution_id": iid, "standard": "GB 38600", "compliant": True,
                                                         "failed_clauses": [], "assessed_on": "2024-01-10", "assessor": "润州区民政局"})
    app = post(client, runtime, "/v1/grading-applications", {"institution_id": iid, "requested_level": 3, "applied_on": "2024-05-06"})
    a = app["aggregate_id"]
    post(client, runtime, f"/v1/grading-applications/{a}/eligibility-review", {"reviewed_on": "2024-05-08"})
    post(client, runtime, f"/v1/grading-applications/{a}/assessment", {"assessed_on": "2024-05-10", "scores": SCORES})
    post(client, runtime, f"/v1/grading-applications/{a}/committee-decision", {"decided_on": "2024-05-11", "approved_level": 3})
    post(client, runtime, f"/v1/grading-applications/{a}/publicity", {"started_on": "2024-05-27"})
    return iid, a


def public_places(client, runtime, tmp_path, name: str) -> dict:
    """The public list row, the public search hit's summary and the built site's pages, as of the ledger's today."""
    runtime.sealer.seal_pending()
    snapshot = snapshot_at((r.envelope for r in runtime.sealer.log.iterate()), on=runtime.ledger.today().isoformat())
    site = tmp_path / f"site-{name}"
    build_site(write_snapshot(snapshot, tmp_path / f"snapshots-{name}"), site, search=False)
    [hit] = client.get("/v1/public/search", params={"q": "颐和"}).json()["hits"]
    iid = hit["id"]
    return {
        "rows": snapshot["lists"]["grading_publicity"],
        "summary": hit["summary"],
        "list_page": (site / "lists/grading_publicity/index.html").read_text(encoding="utf-8"),
        "institution_page": (site / f"institutions/{iid}.html").read_text(encoding="utf-8"),
        "feed": (site / "feeds/changes.atom").read_text(encoding="utf-8"),
        "all": "".join(p.read_text(encoding="utf-8") for p in site.rglob("*") if p.suffix in (".html", ".csv", ".json", ".atom")),
    }


def test_an_application_under_publicity_is_public_with_its_period_and_how_to_object(world):
    client, runtime, tmp_path = world
    iid, application = under_publicity(client, runtime)
    shown = public_places(client, runtime, tmp_path, "open")
    [row] = shown["rows"]
    # 27 May 2024 + 5 working days = 3 June
    assert (row["application_id"], row["level"], row["started_on"], row["ends_on"]) == (application, 3, "2024-05-27", "2024-06-03")
    assert row["authority"] == "江苏省镇江市润州区民政部门"
    assert "2024-06-03 前以书面形式向江苏省镇江市润州区民政部门提出" in row["objection_channel"]
    assert shown["summary"]["grading_publicity"] == {"application_id": application, "level": 3, "started_on": "2024-05-27",
                                                     "ends_on": "2024-06-03"}
    assert "三级" in shown["list_page"] and "2024-05-27 至 2024-06-03" in shown["list_page"] and "未收到异议" in shown["list_page"]
    assert "拟评定为三级，公示期 2024-05-27 至 2024-06-03" in shown["institution_page"]
    assert "评定结果公示" in shown["feed"]


def test_objections_are_recorded_and_handled_the_objector_and_content_stay_restricted(world):
    client, runtime, tmp_path = world
    iid, application = under_publicity(client, runtime)
    post(client, runtime, f"/v1/grading-applications/{application}/objections",
         {"received_on": "2024-05-29", "summary": OBJECTION, "objector": OBJECTOR})
    received = client.get(f"/v1/records/{application}", headers=bearer(runtime)).json()["state"]["objections"][0]["event_id"]
    assert_refused(client.post(f"/v1/grading-applications/{application}/publicity-closure",
                               json={"basis": BASIS, "closed_on": "2024-06-03", "objection_upheld": False}, headers=bearer(runtime)),
                   409, "OBJECTIONS_PENDING")
    shown = public_places(client, runtime, tmp_path, "objected")
    assert "已受理 1 件，已处理 0 件" in shown["list_page"]
    assert OBJECTOR not in shown["all"] and OBJECTION not in shown["all"]
    public_record = client.get(f"/v1/records/{application}", headers=bearer(runtime, "fire_rescue", "county", "210302", "viewer")).json()
    assert OBJECTOR not in str(public_record) and OBJECTION not in str(public_record)
    post(client, runtime, f"/v1/grading-applications/{application}/objection-handling",
         {"objection_event_id": received, "handled_on": "2024-06-03", "upheld": False, "reasons": "经现场核查，夜间值班配备两人，异议不成立"})
    closed = post(client, runtime, f"/v1/grading-applications/{application}/publicity-closure",
                  {"closed_on": "2024-06-03", "objection_upheld": False})
    assert closed["status"] == "publicity_closed"
    after = public_places(client, runtime, tmp_path, "closed")
    assert after["rows"] == [] and after["summary"].get("grading_publicity") is None
    assert "异议不成立：经现场核查" in after["institution_page"] and "公示期满，无成立的异议" in after["institution_page"]


def test_a_retracted_publicity_leaves_every_public_place(world):
    client, runtime, tmp_path = world
    iid, application = under_publicity(client, runtime)
    started = client.get(f"/v1/records/{application}", headers=bearer(runtime)).json()["decisions"][-1]
    assert started["event_type"] == "GradingPublicityStarted"
    post(client, runtime, f"/v1/records/{application}/retraction",
         {"original_event_id": started["event_id"], "reason": "公示前未经集体审议", "approver": "局长王某", "retracted_on": "2024-05-28"})
    shown = public_places(client, runtime, tmp_path, "retracted")
    assert shown["rows"] == [] and shown["summary"].get("grading_publicity") is None
    assert "拟评定为" not in shown["institution_page"] and "公示期 2024-05-27" not in shown["all"]
