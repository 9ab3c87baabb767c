"""The ledger position an institution's page states is true: what the page shows is exactly what
it showed at the position it states (on the same day), at every cut of a ledger that corrects and
retracts; a retraction moves it (the page changed), an event the public may not know of never
does. (List, region and national pages state the build's one cut: issue #16.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from projections.disclosure import snapshot_at
from services.demo import seed_demo
from services.domain.actors import Actor
from services.ledger.application import BEIJING, Basis, Command, open_ledger
from tests.conftest import Clock

DAY = "2026-11-24"
BASIS = Basis("位置测〔2026〕1号", "《养老机构管理办法》")


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    """The demo ledger, then: an inspection plan's title corrected, a published penalty's publication
    retracted, an unfiled institution's discovery retracted, an inspection scheduled (known to its
    departments alone), a change filing, and a major hazard identified and retracted (the record itself)."""
    root = tmp_path_factory.mktemp("positions")
    app, sealer = open_ledger(root / "ledger.sqlite", clock=Clock(datetime(2026, 11, 24, 10, 0, tzinfo=BEIJING)))
    seed_demo(app)
    envelopes = [r.envelope for r in sealer.log.iterate()]

    def first(event_type: str) -> dict[str, Any]:
        return next(e for e in envelopes if e["event_type"] == event_type)

    def civil(region: str) -> Actor:
        return Actor("civil_affairs", {2: "province", 4: "city"}.get(len(region.rstrip("0")), "county"), region, "位置测试")

    def run(name: str, request: dict[str, Any], target: str | None, actor: Actor) -> dict[str, Any]:
        app.execute(name, Command(actor, BASIS, request), target)
        sealer.seal_pending()
        return sealer.log.read(sealer.log.head().seq - 1, 1)[0].envelope

    def correction(envelope: dict[str, Any], **changed: Any) -> dict[str, Any]:
        return {"original_event_id": envelope["event_id"], "reason": "录入错误", "approver": "科长李某", "corrected": changed,
                "corrected_on": "2026-11-23"}

    def retraction(envelope: dict[str, Any]) -> dict[str, Any]:
        return {"original_event_id": envelope["event_id"], "reason": "决定错误，予以撤销", "approver": "科长李某", "retracted_on": "2026-11-23"}

    planned = first("InspectionPlanned")
    run("record.correct", correction(planned, title="2026年镇江市养老机构“双随机、一公开”联合抽查（更正）"), planned["aggregate_id"],
        Actor(planned["actor"]["department"], planned["actor"]["level"], planned["actor"]["region"], "位置测试"))
    published = first("PenaltyPublished")
    run("record.retract", retraction(published), published["aggregate_id"],
        Actor(published["actor"]["department"], published["actor"]["level"], published["actor"]["region"], "位置测试"))
    events_on = {}
    for e in envelopes:
        events_on[e["aggregate_id"]] = events_on.get(e["aggregate_id"], 0) + 1
    discovered = next(e for e in envelopes if e["event_type"] == "InstitutionDiscovered" and events_on[e["aggregate_id"]] == 1)
    run("record.retract", retraction(discovered), discovered["aggregate_id"], civil(discovered["payload"]["region_code"]))
    filed = [e for e in envelopes if e["event_type"] == "InstitutionFiled"]
    inspected, changed = filed[-1], filed[-2]
    run("inspection.schedule", {"institution_id": inspected["aggregate_id"], "kind": "case", "trigger": "群众举报",
                                "departments": ["fire_rescue"], "inspectors": ["XF-001", "XF-002"], "scheduled_on": "2026-12-10"},
        None, Actor("fire_rescue", "county", inspected["payload"]["region_code"], "位置测试"))
    run("institution.change", {"changes": {"contact_phone": "0511-80001234"}, "changed_on": "2026-11-23"}, changed["aggregate_id"],
        civil(changed["payload"]["region_code"]))
    fire = Actor("fire_rescue", "county", inspected["payload"]["region_code"], "位置测试")
    hazard = run("hazard.identify", {"institution_id": inspected["aggregate_id"], "severity": "major", "category": "fire_safety",
                                     "criterion_ref": "MH2023-4.2", "description": "消防设施不符合", "responsible_person": "院长",
                                     "identified_on": "2026-11-23"}, None, fire)
    run("record.retract", retraction(hazard), hazard["aggregate_id"], fire)
    envelopes = [r.envelope for r in sealer.log.iterate()]
    snapshots = {seq: snapshot_at(envelopes, up_to_seq=seq, on=DAY) for seq in range(1, len(envelopes) + 1)}
    yield {"envelopes": envelopes, "snapshots": snapshots, "tail": [e["event_type"] for e in envelopes[-7:]]}
    app.close()


def test_the_ledger_ends_with_the_decisions_that_test_the_positions(ledger):
    assert ledger["tail"] == ["DecisionCorrected", "DecisionRetracted", "DecisionRetracted", "InspectionScheduled", "InstitutionChangeFiled",
                              "HazardIdentified", "DecisionRetracted"]


def test_every_institution_page_shows_what_it_showed_at_the_position_it_states(ledger):
    snapshots, envelopes = ledger["snapshots"], ledger["envelopes"]
    checked = 0
    for cut, snapshot in snapshots.items():
        for iid, institution in snapshot["institutions"].items():
            stamp = institution["page_stamp"]
            assert stamp["seq"] <= cut and stamp["hash"] == envelopes[stamp["seq"] - 1]["hash"]
            assert snapshots[stamp["seq"]]["institutions"].get(iid) == institution, f"institution {iid} at cut {cut}"
            assert snapshots[stamp["seq"]]["timelines"].get(iid) == snapshot["timelines"][iid]
            checked += 1
    assert checked > 5000


def test_a_retraction_moves_the_position_and_a_confidential_event_never_does(ledger):
    snapshots, envelopes = ledger["snapshots"], ledger["envelopes"]
    head = len(envelopes)
    corrected, penalty, discovery, scheduled, change, hazard, retracted = range(head - 6, head + 1)
    # the penalty's institution: its page no longer shows the publication, and says so by its position
    case = envelopes[penalty - 1]["aggregate_id"]
    iid = next(e["institution_id"] for e in envelopes if e["aggregate_id"] == case)
    assert snapshots[penalty - 1]["lists"]["sanctions"] and not snapshots[penalty]["lists"]["sanctions"]
    assert snapshots[penalty]["institutions"][iid]["page_stamp"]["seq"] == penalty
    # the retracted discovery: the institution has no page any more
    assert envelopes[discovery - 1]["aggregate_id"] in snapshots[discovery - 1]["institutions"]
    assert envelopes[discovery - 1]["aggregate_id"] not in snapshots[discovery]["institutions"]
    # an inspection still to take place is known to its departments alone: no page's position moves
    assert {i: v["page_stamp"] for i, v in snapshots[scheduled]["institutions"].items()} == \
        {i: v["page_stamp"] for i, v in snapshots[scheduled - 1]["institutions"].items()}
    # a change filing moves its institution's page, and no other
    moved = {i for i, v in snapshots[change]["institutions"].items() if v["page_stamp"]["seq"] == change}
    assert moved == {envelopes[change - 1]["aggregate_id"]}
    # a hazard identified, then retracted (the record itself): the page showed it and no longer does
    home = envelopes[hazard - 1]["institution_id"]
    assert snapshots[hazard]["institutions"][home]["open_hazards"] != snapshots[retracted]["institutions"][home]["open_hazards"]
    assert snapshots[retracted]["institutions"][home]["page_stamp"]["seq"] == retracted
