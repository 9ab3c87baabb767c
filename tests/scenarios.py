"""One institution on every public list, built through the command pipeline the way departments
would record it, with a unique marker planted in every restricted field it passes through.

Tests use it to check what every reader sees (the visibility matrix), and that retracting or
correcting the decision behind each list entry shows everywhere the entry was shown.

Dates sit before ``tests.conftest.TODAY`` (2024-06-03): the home was filed in March 2023 and is
GB 38600 compliant, so it is eligible for grading in May 2024; the sanction and the listing come
after the grade is awarded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.domain.actors import Actor
from services.ledger.application import Basis, Command
from tests.conftest import discovery_request, filing_request, unique_credit_code

CIVIL = Actor("civil_affairs", "county", "321111", "经办人秘密姓名M0")
FIRE = Actor("fire_rescue", "county", "321111", "消防经办人秘密M8")
BASIS = Basis("润民测〔2024〕1号", "《养老机构管理办法》")

# A unique marker per restricted field: none may appear where the policy hides it.
MARKERS = {
    "contact_person": "保密联系人M1",
    "legal_representative_id_no": "32011119750101123X",
    "source_detail": "举报人秘密M3，电话13912345678",
    "internal_note": "内部备注秘密M4",
    "location_detail": "隐患位置秘密M5",
    "id_no": "21030219800202456X",
    "facts_summary": "立案事实秘密M7",
    "user": CIVIL.user,
    "fire_user": FIRE.user,
    "mobile": "13912345678",  # inside source_detail: never whole outside a restricted view
}
HOME_NAME = "镇江市润州区全名单测试护理院"
FOUND_NAME = "镇江市润州区未备案测试养老院"


@dataclass
class Entry:
    """One public list entry: the record behind it, the decision that put it there (the one to
    retract), who decided it, and a correction of a public field with what the list then shows."""

    list: str
    record_id: str
    event_id: str
    actor: Actor
    correction: dict[str, Any]
    shows: dict[str, Any] = field(default_factory=dict)  # row field → value; "text": what every list page then says
    corrects: str | None = None  # the decision the correction names, if not ``event_id``

    @property
    def corrected_event(self) -> str:
        return self.corrects or self.event_id


@dataclass
class Scenario:
    home: str
    found: str
    entries: dict[str, Entry]
    hazard: str


def _run(app, name: str, request: dict, target=None, actor: Actor = CIVIL):
    return app.execute(name, Command(actor, BASIS, request), target)


def _last_event(app, record_id: str, event_type: str) -> str:
    found = [r.envelope for r in app.sealer.log.iterate() if r.envelope["aggregate_id"] == str(record_id)
             and r.envelope["event_type"] == event_type]
    return found[-1]["event_id"]


def every_list(app) -> Scenario:
    home = str(_run(app, "institution.file_new", filing_request(
        name=HOME_NAME, credit_code=unique_credit_code(), contact_person=MARKERS["contact_person"],
        legal_representative_id_no=MARKERS["legal_representative_id_no"], first_resident_admitted_on="2023-03-01",
        application_received_on="2023-03-08", filed_on="2023-03-10")).aggregate_id)
    discovery = discovery_request(name=FOUND_NAME, source_detail=MARKERS["source_detail"])
    discovery["handling"]["internal_note"] = MARKERS["internal_note"]
    found = str(_run(app, "institution.discover", discovery).aggregate_id)
    entries = {
        "filed": Entry("filed", home, _last_event(app, home, "InstitutionFiled"), CIVIL,
                       {"name": "镇江市润州区全名单更正护理院"}, {"name": "镇江市润州区全名单更正护理院"}),
        "unfiled": Entry("unfiled", found, _last_event(app, found, "InstitutionDiscovered"), CIVIL,
                         {"name": "镇江市润州区未备案更正养老院"}, {"name": "镇江市润州区未备案更正养老院"}),
    }
    for standard, name in (("GB 38600", "gb38600"), ("GB/T 35796", "gbt35796")):
        assessment = str(_run(app, "compliance.assess", {
            "institution_id": home, "standard": standard, "compliant": True, "failed_clauses": [], "assessed_on": "2024-01-10",
            "assessor": "润州区民政局"}).aggregate_id)
        clause = "GB38600-6.1" if standard == "GB 38600" else "GBT35796-5.1"
        entries[name] = Entry(name, assessment, _last_event(app, assessment, "ComplianceAssessed"), CIVIL,
                              {"compliant": False, "failed_clauses": [clause]}, {"absent": True})

    application = str(_run(app, "grading.apply", {"institution_id": home, "requested_level": 3, "applied_on": "2024-05-06"}).aggregate_id)
    for name, request in (
        ("grading.review_eligibility", {"reviewed_on": "2024-05-08"}),
        ("grading.score", {"assessed_on": "2024-05-10", "scores": {"environment": 110, "facilities": 120, "operations": 130, "service": 480}}),
        ("grading.committee", {"decided_on": "2024-05-11", "approved_level": 3}),
        ("grading.start_publicity", {"started_on": "2024-05-13"}),
        ("grading.close_publicity", {"closed_on": "2024-05-20", "objection_upheld": False}),
        ("grading.award", {"awarded_on": "2024-05-21", "certificate_no": "镇民评证〔2024〕1号"}),
    ):
        _run(app, name, request, application)
    entries["graded"] = Entry("graded", application, _last_event(app, application, "GradeAwarded"), CIVIL,
                              {"certificate_no": "镇民评证〔2024〕9号"}, {"timeline": "镇民评证〔2024〕9号"})

    plan = str(_run(app, "inspection_plan.plan", {
        "title": "2024年润州区养老机构双随机抽查", "kind": "routine", "region_code": "321111", "year": 2024,
        "departments": ["civil_affairs", "fire_rescue"], "ratios": {"A": "100", "B": "100", "C": "100", "D": "100"},
        "inspectors_per_team": 2, "planned_on": "2024-05-06"}).aggregate_id)
    pool = [{"inspector_id": f"ZF-{i:03d}", "department": "civil_affairs" if i % 2 else "fire_rescue"} for i in range(1, 9)]
    _run(app, "inspection_plan.draw", {"inspector_pool": pool, "drawn_on": "2024-05-07"}, plan)
    drawn = next(r.envelope for r in app.sealer.log.iterate() if r.envelope["event_type"] == "InspectionSampleDrawn")
    team = next(s for s in drawn["payload"]["sample"] if s["institution_id"] == home)["inspectors"]
    inspection = str(_run(app, "inspection.schedule", {
        "institution_id": home, "kind": "routine", "plan_id": plan, "departments": ["civil_affairs", "fire_rescue"],
        "inspectors": team, "scheduled_on": "2024-05-13", "notice_given_on": "2024-05-07"}).aggregate_id)
    _run(app, "inspection.conduct", {"conducted_on": "2024-05-13", "inspectors_present": team, "findings": [], "summary": "无问题"}, inspection)
    _run(app, "inspection.publish", {"published_on": "2024-05-20", "public_summary": "未发现问题"}, inspection)
    entries["inspections"] = Entry("inspections", inspection, _last_event(app, inspection, "InspectionResultPublished"), CIVIL,
                                   {"public_summary": "更正：发现1项问题已整改"}, {"public_summary": "更正：发现1项问题已整改"})

    case = str(_run(app, "sanction.file", {"institution_id": home, "ground": "MCA66-46.7", "facts_summary": MARKERS["facts_summary"],
                                           "filed_on": "2024-05-20"}).aggregate_id)
    penalties = [{"type": "fine", "amount": "5000"}]
    _run(app, "sanction.notify", {"served_on": "2024-05-20", "penalties": penalties, "facts": "经查", "legal_basis": "第46条"}, case)
    _run(app, "sanction.decide", {
        "decision_no": "镇民罚〔2024〕1号", "decided_on": "2024-05-24", "violation_type": "侵害老年人合法权益", "facts": "经查属实",
        "legal_basis": "第46条", "penalties": penalties, "compliance": "缴纳罚款", "remedies": "可申请复议", "deciding_authority": "润州区民政局",
    }, case)
    _run(app, "sanction.publish", {"published_on": "2024-05-24", "publication_class": "ordinary"}, case)
    entries["sanctions"] = Entry("sanctions", case, _last_event(app, case, "PenaltyPublished"), CIVIL,
                                 {"penalties": [{"type": "fine", "amount": "3000"}]},
                                 {"penalties": [{"type": "fine", "amount": "3000"}], "text": "3000 元"}, _last_event(app, case, "PenaltyDecided"))

    listing = str(_run(app, "listing.propose", {
        "institution_id": home, "list": "joint_punishment", "ground": "elder_rights_harm", "grounding_kind": "sanction_case",
        "grounding_ref": case, "proposed_on": "2024-05-24",
        "persons": [{"name": "某甲", "role": "院长", "id_no": MARKERS["id_no"]}]}).aggregate_id)
    for name, request in (("listing.notify", {"served_on": "2024-05-24"}),
                          ("listing.decide", {"outcome": "listed", "decided_on": "2024-06-03", "reasons": "侵害老年人合法权益"}),
                          ("listing.publish", {"published_on": "2024-06-03"})):
        _run(app, name, request, listing)
    # The listing's persons come from the proposal: correcting them changes the published row.
    entries["joint_punishment"] = Entry(
        "joint_punishment", listing, _last_event(app, listing, "CreditListingPublished"), CIVIL,
        {"persons": [{"name": "某乙", "role": "院长", "id_no": MARKERS["id_no"]}]}, {"persons": [{"name": "某乙", "role": "院长"}]},
        _last_event(app, listing, "CreditListingProposed"))

    hazard = str(_run(app, "hazard.identify", {
        "institution_id": home, "severity": "general", "category": "other", "criterion_ref": "OTHER", "description": "地面湿滑",
        "responsible_person": "院长", "identified_on": "2024-06-03", "location_detail": MARKERS["location_detail"]}, actor=FIRE).aggregate_id)
    return Scenario(home, found, entries, hazard)
