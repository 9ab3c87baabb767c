"""The institution page answers first (issue #16, part 1): before the details, a box says whether
the home is filed, the grade it holds with its validity and awarding body, every public list it is
on — and warns, prominently, of a current joint-punishment listing, a penalty under publication, an
open major hazard, a suspension or a missing filing. The warnings come from the same lists the list
pages show, so a retraction takes them away as it takes the list entry away."""

from __future__ import annotations

import re

import pytest

from tests.conftest import TODAY, Clock
from tests.scenarios import every_list
from tests.unit.test_api import bearer, serving
from tests.unit.test_retractions_everywhere import published

BASIS = {"document_no": "润民撤〔2024〕2号", "legal_basis": "《养老机构管理办法》"}


@pytest.fixture
def world(tmp_path):
    with serving(tmp_path / "data", Clock(TODAY)) as (client, runtime):
        yield client, runtime, every_list(runtime.ledger), tmp_path


def answer_box(texts: dict[str, str], iid: str) -> str:
    page = texts[f"institutions/{iid}.html"]
    box = re.search(r'<section class="answer".*?</section>', page, re.S)
    assert box, "the page has no answer box"
    assert page.index('class="answer"') < page.index('class="timeline"'), "the answers come before the record"
    return box.group(0)


def test_the_page_warns_first_of_what_a_family_must_not_miss(world):
    client, runtime, scenario, tmp_path = world
    snapshot, texts = published(runtime, tmp_path, "warn")
    institution = snapshot["institutions"][scenario.home]
    assert [w["kind"] for w in institution["warnings"]] == ["joint_punishment", "sanctions"]
    box = answer_box(texts, scenario.home)
    assert "请注意" in box and "列入养老服务市场失信联合惩戒对象名单" in box and "有行政处罚信息正在公示" in box
    assert 'href="../lists/joint_punishment/index.html"' in box
    assert set(institution["on_lists"]) >= {"filed", "graded", "gb38600", "joint_punishment", "sanctions", "inspections"}
    grade = institution["grade"]
    assert f"有效期至 {grade['valid_until']}" in box and grade["awarded_by"].endswith("民政部门") and grade["awarded_by"] in box
    unfiled = answer_box(texts, scenario.found)
    assert "未办理备案" in unfiled


def test_retracting_the_listing_takes_its_warning_away(world):
    client, runtime, scenario, tmp_path = world
    entry = scenario.entries["joint_punishment"]
    headers = bearer(runtime, entry.actor.department, entry.actor.level, entry.actor.region)
    response = client.post(f"/v1/records/{entry.record_id}/retraction", headers=headers, json={
        "basis": BASIS, "original_event_id": entry.event_id, "reason": "列入决定被撤销", "approver": "局长", "retracted_on": "2024-06-03"})
    assert response.status_code == 201, response.text
    snapshot, texts = published(runtime, tmp_path, "retracted")
    assert [w["kind"] for w in snapshot["institutions"][scenario.home]["warnings"]] == ["sanctions"]
    assert "失信联合惩戒对象名单" not in answer_box(texts, scenario.home).split("所在名单")[0]
