"""Nothing is deleted: a wrong decision is corrected or retracted by a new event naming it, with a
reason and an approver; the record and every public list follow, and the history keeps both."""


from projections.disclosure import snapshot_at
from services.domain.actors import Actor
from services.domain.hazard import Hazard
from services.ledger.application import Basis, Command
from tests.conftest import command, county_officer, decide, discovery_request, filing_request, refused

CIVIL = county_officer()
FIRE = Actor("fire_rescue", "county", "321111", "消防监督员")
BASIS = Basis("润民更〔2024〕1号", "《养老机构管理办法》")


def run(app, name, request, target=None, actor=CIVIL):
    return decide(app, name, request, target, actor, BASIS)




def last_envelope(sealer):
    return sealer.log.read(sealer.log.head().seq - 1, 1)[0].envelope


def filed(app, sealer):
    result = app.file_new(command(filing_request()))
    first = next(r.envelope for r in sealer.log.iterate() if r.envelope["event_type"] == "InstitutionFiled")
    return result.aggregate_id, first["event_id"]


def test_a_typo_in_a_filing_is_corrected_and_the_public_list_follows(ledger):
    app, sealer = ledger
    institution, filing = filed(app, sealer)
    correction = {"original_event_id": filing, "reason": "名称录入错误", "approver": "科长李某",
                  "corrected": {"name": "镇江市润州区颐和护理院"}, "corrected_on": "2024-05-06"}
    run(app, "record.correct", correction, institution)
    assert app.institution(institution).profile["name"] == "镇江市润州区颐和护理院"
    envelope = last_envelope(sealer)
    assert envelope["event_type"] == "DecisionCorrected" and envelope["aggregate_type"] == "Institution"
    assert envelope["payload"]["original_event_type"] == "InstitutionFiled"
    listed = snapshot_at(r.envelope for r in sealer.log.iterate())["lists"]["filed"]
    assert [e["name"] for e in listed] == ["镇江市润州区颐和护理院"]


def test_computed_fields_and_identifiers_are_never_corrected(ledger):
    app, sealer = ledger
    institution, filing = filed(app, sealer)
    base = {"original_event_id": filing, "reason": "错误", "approver": "科长李某", "corrected_on": "2024-05-06"}
    for fields in ({"inspection_due_by": "2099-01-01"}, {"credit_code": "91350100M000100Y43"}, {"region_code": "321102"}, {}):
        refused(app, lambda: run(app, "record.correct", dict(base, corrected=fields), institution), "FIELD_NOT_CORRECTABLE")
    refused(app, lambda: run(app, "record.correct", dict(base, corrected={"beds": "many"}), institution), "PAYLOAD_INVALID")


def test_only_the_deciding_department_corrects_with_an_approver_other_than_itself(ledger):
    app, sealer = ledger
    institution, filing = filed(app, sealer)
    correction = {"original_event_id": filing, "reason": "错误", "approver": "科长李某", "corrected": {"beds": 121}, "corrected_on": "2024-05-06"}
    refused(app, lambda: run(app, "record.correct", correction, institution, FIRE), "DEPARTMENT_NOT_COMPETENT")
    refused(app, lambda: run(app, "record.correct", dict(correction, approver=CIVIL.user), institution), "APPROVER_IS_ACTOR")
    refused(app, lambda: run(app, "record.correct", dict(correction, original_event_id="nope"), institution), "ORIGINAL_NOT_FOUND")


def test_retracting_the_latest_decision_returns_the_record_to_its_state_before(ledger):
    app, sealer = ledger
    found = app.discover(command(discovery_request())).aggregate_id
    discovery = last_envelope(sealer)["event_id"]
    app.file(found, command(filing_request()))
    filing = next(r.envelope for r in sealer.log.iterate() if r.envelope["event_type"] == "InstitutionFiled")["event_id"]
    retract = {"original_event_id": discovery, "reason": "误登记", "approver": "科长李某", "retracted_on": "2024-05-06"}
    refused(app, lambda: run(app, "record.retract", retract, found), "RETRACT_LATEST_FIRST")
    run(app, "record.retract", dict(retract, original_event_id=filing, reason="备案材料虚假，撤销备案"), found)
    assert app.institution(found).status == "discovered"
    lists = snapshot_at(r.envelope for r in sealer.log.iterate())["lists"]
    assert (len(lists["filed"]), len(lists["unfiled"])) == (0, 1)
    run(app, "record.retract", retract, found)
    assert app.institution(found).status == "retracted"
    lists = snapshot_at(r.envelope for r in sealer.log.iterate())["lists"]
    assert (len(lists["filed"]), len(lists["unfiled"])) == (0, 0)
    refused(app, lambda: run(app, "record.retract", retract, found), "RECORD_RETRACTED")


def test_a_hazard_deadline_is_corrected_and_its_order_retracted(ledger):
    app, sealer = ledger
    institution, _ = filed(app, sealer)
    hazard = app.execute("hazard.identify", Command(FIRE, BASIS, {
        "institution_id": str(institution), "severity": "general", "category": "fire_safety", "criterion_ref": "GB38600-4",
        "description": "灭火器过期", "responsible_person": "院长", "identified_on": "2024-05-06"})).aggregate_id
    app.execute("hazard.order", Command(FIRE, BASIS, {"measures": "更换", "ordered_on": "2024-05-06", "deadline": "2024-05-10"}), hazard)
    order = last_envelope(sealer)["event_id"]
    correction = {"original_event_id": order, "reason": "期限笔误", "approver": "大队长", "corrected": {"deadline": "2024-05-31"},
                  "corrected_on": "2024-05-07"}
    run(app, "record.correct", correction, hazard, FIRE)
    assert app.aggregate(Hazard, hazard).deadline == "2024-05-31"
    assert last_envelope(sealer)["institution_id"] == str(institution)
    run(app, "record.retract", {"original_event_id": order, "reason": "责令错误", "approver": "大队长", "retracted_on": "2024-05-08"}, hazard, FIRE)
    restored = app.aggregate(Hazard, hazard)
    assert (restored.status, restored.deadline) == ("identified", None)
