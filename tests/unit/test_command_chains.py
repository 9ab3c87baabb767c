"""Chains of valid commands over HTTP (a Hypothesis state machine): every decision family, and the
corrections and retractions of any of their decisions, in any order, with time passing and the
scheduler running. Single-request fuzzing never reaches a retraction, which needs the decisions
before it; this does.

After every step: no answer was a 500; each record's state in the record-state projection equals
the aggregate's and a fresh fold of the sealed log; each institution's summary, kept incrementally
in its search document, equals the one derived from scratch; every record reads back (as the deciding
department and as the public search sees its institution); the disclosure snapshot builds.
"""

from __future__ import annotations

import copy
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule

from events import CATALOGUE
from events.standing import RELATED_KINDS, summary_of
from events.visibility import confidential
from projections.disclosure import build_snapshot
from projections.record_states import Cut, fold
from services.domain.recorded import LedgerAggregate
from services.ledger.scheduler import run_due
from tests.conftest import TODAY, Clock, discovery_request, english_codes_in, filing_request, unique_credit_code
from tests.unit.test_api import bearer, serving

BASIS = {"document_no": "链测〔2024〕1号", "legal_basis": "《养老机构管理办法》"}
CIVIL = ("civil_affairs", "county", "321111", "officer")
FIRE = ("fire_rescue", "county", "321111", "officer")
PENALTIES = [{"type": "fine", "amount": "5000"}]

# Each family's steps in order, as (route suffix, request); a rule picks a record and tries a step —
# the rules refuse what the record's state does not allow, and that is part of the test.
HAZARD_STEPS = {
    "order": ("rectification-order", {"measures": "整改", "ordered_on": "2024-05-06", "deadline": "2024-05-31"}, FIRE),
    "rectify": ("rectification", {"rectified_on": "2024-05-20", "measures_taken": "已整改"}, FIRE),
    "verify": ("verification", {"verified_on": "2024-05-21", "outcome": "closed"}, FIRE),
    "escalate": ("escalation", {"step": "suspension_ordered", "decided_on": "2024-06-10", "reason": "逾期未改",
                                "rectify_by": "2024-07-10"}, CIVIL),
}
SANCTION_STEPS = {
    "notify": ("notice", {"served_on": "2024-05-20", "penalties": PENALTIES, "facts": "经查", "legal_basis": "第46条"}, CIVIL),
    "decide": ("decision", {"decision_no": "链罚-{n}", "decided_on": "2024-05-24", "violation_type": "侵权", "facts": "经查属实",
                            "legal_basis": "第46条", "penalties": PENALTIES, "compliance": "缴纳", "remedies": "复议",
                            "deciding_authority": "润州区民政局"}, CIVIL),
    "publish": ("publication", {"published_on": "2024-05-24", "publication_class": "ordinary"}, CIVIL),
    "withdraw": ("publication-withdrawal", {"withdrawn_on": "2024-05-30", "reason": "决定被撤销"}, CIVIL),
    "review": ("review", {"outcome": "revoked", "decided_on": "2024-05-29", "authority": "润州区人民政府",
                          "document_no": "润政复〔2024〕1号"}, CIVIL),
}
LISTING_STEPS = {
    "notify": ("notice", {"served_on": "2024-05-24"}, CIVIL),
    "defence": ("defence", {"received_on": "2024-05-27", "summary": "已整改"}, CIVIL),
    "decide": ("decision", {"outcome": "listed", "decided_on": "2024-06-03", "reasons": "侵害老年人合法权益"}, CIVIL),
    "publish": ("publication", {"published_on": "2024-06-03"}, CIVIL),
}
GRADING_STEPS = {
    "review": ("eligibility-review", {"reviewed_on": "2024-05-08"}, CIVIL),
    "score": ("assessment", {"assessed_on": "2024-05-10", "scores": {"environment": 110, "facilities": 120, "operations": 130,
                                                                     "service": 480}}, CIVIL),
    "committee": ("committee-decision", {"decided_on": "2024-05-11", "approved_level": 3}, CIVIL),
    "publicity": ("publicity", {"started_on": "2024-05-13"}, CIVIL),
    "close": ("publicity-closure", {"closed_on": "2024-05-20", "objection_upheld": False}, CIVIL),
    "award": ("award", {"awarded_on": "2024-05-21", "certificate_no": "链证-{n}"}, CIVIL),
    "downgrade": ("downgrade", {"decided_on": "2024-06-05", "new_level": 2, "reason": "重大隐患"}, CIVIL),
}
INSPECTION_STEPS = {
    "conduct": ("conduct", {"conducted_on": "2024-05-13", "inspectors_present": ["ZF-001", "ZF-003"], "findings": [],
                            "summary": "无问题"}, CIVIL),
    "publish": ("publication", {"published_on": "2024-05-20", "public_summary": "未发现问题"}, CIVIL),
}
FAMILIES = {"hazards": HAZARD_STEPS, "sanction-cases": SANCTION_STEPS, "credit-listings": LISTING_STEPS,
            "grading-applications": GRADING_STEPS, "inspections": INSPECTION_STEPS}

# Values a correction may try for a field of each kind: plausible, odd and hostile.
CORRECTED_VALUES = {
    "string": st.sampled_from(["更正后的值", "x" * 300, " ", "a\u0000b", "１２３"]),
    "text": st.sampled_from(["更正后的说明", "第一行\n第二行", "", "\u202e反向"]),
    "date": st.sampled_from(["2024-05-07", "2024-02-30", "2099-12-31", "2019-01-01", "24-5-7"]),
    "integer": st.sampled_from([0, 3, -1, 2**60, 121]),
    "decimal": st.sampled_from(["100.5", "1e9", "-1"]),
    "boolean": st.booleans(),
    "enum": st.sampled_from(["closed", "major", "fine", "nonsense"]),
}


def unsealed(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k not in ("recorded_at", "seq", "hash", "prev_hash")}


class CommandChains(RuleBasedStateMachine):
    institutions = Bundle("institutions")
    records = Bundle("records")

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.clock = Clock(TODAY)
        self.serving = serving(Path(self.dir.name), self.clock, ELDERCARE_RATE_LIMIT_PER_MINUTE="0")
        self.client, self.runtime = self.serving.__enter__()
        self.kinds: dict[str, str] = {}  # record id → API collection
        self.n = 0

    def teardown(self) -> None:
        self.serving.__exit__(None, None, None)
        self.dir.cleanup()

    # --- the door ---------------------------------------------------------------------------------

    def post(self, path: str, body: dict, who=CIVIL):
        self.n += 1
        response = self.client.post(path, json={"basis": BASIS, **body}, headers=bearer(self.runtime, *who))
        assert response.status_code < 500, (path, body, response.text)
        if response.status_code >= 400:
            error = response.json()["error"]
            assert error["code"] and error["message_zh"] and not english_codes_in(error["message_zh"]), error
        return response.json() if response.status_code in (200, 201) else None

    def created(self, collection: str, body: dict, who=CIVIL):
        result = self.post(f"/v1/{collection}", body, who)
        if result is None:
            return multiple()
        self.kinds[result["aggregate_id"]] = collection
        return result["aggregate_id"]

    # --- decisions --------------------------------------------------------------------------------

    @rule(target=institutions)
    def file_new(self):
        result = self.post("/v1/filings", filing_request(
            name=f"链测养老院{self.n}", credit_code=unique_credit_code(), receipt_no=f"321111-2023-{self.n:05d}",
            first_resident_admitted_on="2023-03-01", application_received_on="2023-03-08", filed_on="2023-03-10"))
        return result["institution_id"] if result else multiple()

    @rule(target=institutions)
    def discover(self):
        result = self.post("/v1/institutions", discovery_request(name=f"链测未备案{self.n}"))
        return result["institution_id"] if result else multiple()

    @rule(institution=institutions)
    def file_discovered(self, institution):
        self.post(f"/v1/institutions/{institution}/filing", filing_request(
            name=f"链测补办{self.n}", credit_code=unique_credit_code(), receipt_no=f"321111-2024-{self.n:05d}"))

    @rule(target=records, institution=institutions, severity=st.sampled_from(["major", "general"]))
    def identify_hazard(self, institution, severity):
        body = {"institution_id": institution, "severity": severity, "category": "fire_safety",
                "criterion_ref": "MAJOR-FIRE-1" if severity == "major" else "OTHER", "description": "疏散通道堵塞",
                "responsible_person": "院长", "identified_on": "2024-05-06", "location_detail": "三楼"}
        if severity == "general":
            body["category"] = "other"
        return self.created("hazards", body, FIRE)

    @rule(target=records, institution=institutions, standard=st.sampled_from(["GB 38600", "GB/T 35796"]), compliant=st.booleans())
    def assess(self, institution, standard, compliant):
        clause = "GB38600-6.1" if standard == "GB 38600" else "GBT35796-5.1"
        return self.created("compliance-assessments", {
            "institution_id": institution, "standard": standard, "compliant": compliant, "failed_clauses": [] if compliant else [clause],
            "assessed_on": "2024-01-10", "assessor": "润州区民政局"})

    @rule(target=records, institution=institutions)
    def apply_for_grade(self, institution):
        # Eligibility reads GB 38600 compliance: assessed first, as a grading department would require.
        self.post("/v1/compliance-assessments", {"institution_id": institution, "standard": "GB 38600", "compliant": True,
                                                 "failed_clauses": [], "assessed_on": "2024-01-10", "assessor": "润州区民政局"})
        return self.created("grading-applications", {"institution_id": institution, "requested_level": 3, "applied_on": "2024-05-06"})

    @rule(target=records, institution=institutions)
    def file_case(self, institution):
        return self.created("sanction-cases", {"institution_id": institution, "ground": "MCA66-46.7", "facts_summary": "立案事实",
                                               "filed_on": "2024-05-20"})

    @rule(target=records, institution=institutions)
    def propose_listing(self, institution):
        # A listing is grounded on a decided sanction case: one is filed and decided first.
        case = self.created("sanction-cases", {"institution_id": institution, "ground": "MCA66-46.7", "facts_summary": "立案事实",
                                               "filed_on": "2024-05-20"})
        if not isinstance(case, str):
            return multiple()
        self.advance(case, 2)
        return self.created("credit-listings", {
            "institution_id": institution, "list": "joint_punishment", "ground": "elder_rights_harm", "grounding_kind": "sanction_case",
            "grounding_ref": case, "proposed_on": "2024-05-24", "persons": [{"name": "某甲", "role": "院长", "id_no": "21030219800202456X"}]})

    @rule(target=records, institution=institutions)
    def schedule_case_inspection(self, institution):
        return self.created("inspections", {
            "institution_id": institution, "kind": "case", "trigger": "举报", "departments": ["civil_affairs"],
            "inspectors": ["ZF-001", "ZF-003"], "scheduled_on": "2024-05-13"})

    def take(self, record: str, step: str) -> None:
        steps = FAMILIES.get(self.kinds[record], {})
        if step not in steps:
            return
        suffix, body, who = steps[step]
        body = {k: v.format(n=self.n) if isinstance(v, str) and "{n}" in v else v for k, v in body.items()}
        self.post(f"/v1/{self.kinds[record]}/{record}/{suffix}", copy.deepcopy(body), who)

    def advance(self, record: str, depth: int) -> None:
        for step in list(FAMILIES.get(self.kinds[record], {}))[:depth]:
            self.take(record, step)

    @rule(record=records, step=st.sampled_from(sorted({s for steps in FAMILIES.values() for s in steps})))
    def take_a_step(self, record, step):
        self.take(record, step)

    @rule(record=records, depth=st.integers(min_value=1, max_value=7))
    def take_the_steps_in_order(self, record, depth):
        self.advance(record, depth)

    @rule(institution=institutions, family=st.sampled_from(["hazards", "compliance", "grading", "cases", "listings", "inspections"]),
          depth=st.integers(min_value=0, max_value=7), retract=st.booleans(), data=st.data())
    def decide_then_amend(self, institution, family, depth, retract, data):
        """A record taken some way along its lifecycle, then its latest (or an earlier) decision
        retracted or corrected: the chains single requests never reach."""
        record = {
            "hazards": lambda: self.identify_hazard(institution, data.draw(st.sampled_from(["major", "general"]))),
            "compliance": lambda: self.assess(institution, data.draw(st.sampled_from(["GB 38600", "GB/T 35796"])), True),
            "grading": lambda: self.apply_for_grade(institution),
            "cases": lambda: self.file_case(institution),
            "listings": lambda: self.propose_listing(institution),
            "inspections": lambda: self.schedule_case_inspection(institution),
        }[family]()
        if not isinstance(record, str):
            return
        self.advance(record, depth)
        pick = data.draw(st.sampled_from([-1, -1, -1, -2]))
        if retract:
            self.retract(record, pick)
        else:
            self.correct(record, pick, data)

    @rule(days=st.sampled_from([1, 7, 30, 400, 1200]))
    def time_passes(self, days):
        self.clock.set(self.clock().date() + timedelta(days=days))
        run_due(self.runtime.ledger)

    # --- corrections and retractions ----------------------------------------------------------------

    def standing(self, record_id: str) -> list[dict]:
        return self.runtime.ledger.aggregate(LedgerAggregate, record_id).record["decisions"]

    def author(self, decision: dict):
        department = decision["actor"]["department"]
        return FIRE if department == "fire_rescue" else CIVIL

    @rule(record=st.one_of(records, institutions), pick=st.sampled_from([-1, -1, -1, -2]))
    def retract(self, record, pick):
        decisions = self.standing(record)
        if len(decisions) < -pick:
            return
        decision = decisions[pick]
        if self.post(f"/v1/records/{record}/retraction", {
                "original_event_id": decision["event_id"], "reason": "决定错误", "approver": "科长李某", "retracted_on": "2024-06-03"},
                self.author(decision)):
            event(f"retracted {decision['event_type']}")

    @rule(record=st.one_of(records, institutions), pick=st.sampled_from([-1, -1, -2]), data=st.data())
    def correct(self, record, pick, data):
        decisions = self.standing(record)
        if len(decisions) < -pick:
            return
        decision = decisions[pick]
        fields = [f for f in CATALOGUE[decision["event_type"]].fields if f.kind in CORRECTED_VALUES]
        if not fields:
            return
        field = data.draw(st.sampled_from(fields))
        value = data.draw(CORRECTED_VALUES[field.kind])
        if self.post(f"/v1/records/{record}/correction", {
                "original_event_id": decision["event_id"], "reason": "录入错误", "approver": "科长李某", "corrected": {field.name: value},
                "corrected_on": "2024-06-03"}, self.author(decision)):
            event(f"corrected {decision['event_type']}")

    # --- what must hold after every step -------------------------------------------------------------

    @invariant()
    def one_truth(self):
        self.runtime.sealer.seal_pending()
        self.runtime.projector.catch_up()
        envelopes = [r.envelope for r in self.runtime.sealer.log.iterate()]
        replayed, cut = fold(envelopes)
        projected = self.runtime.search.get_states(list(replayed))
        assert set(projected) == set(replayed)
        for record_id, record in replayed.items():
            aggregate = self.runtime.ledger.aggregate(LedgerAggregate, record_id).record
            assert projected[record_id] == record, record_id
            assert (aggregate["state"], aggregate["version"]) == (record["state"], record["version"]), record_id
            for key in ("decisions", "retracted", "amendments"):  # the same decisions, as recorded (the seal aside)
                assert [unsealed(d) for d in aggregate[key]] == [unsealed(d) for d in record[key]], (record_id, key)
        # Each decision's own search document shows it as its record's state holds it: corrected
        # payload and date, or retracted.
        # (a confidential decision — an inspection before it takes place — is in no shared index)
        entries = {d["event_id"]: d for r in replayed.values() for d in r["decisions"] if not confidential(d["event_type"], d["payload"])}
        retracted = {d["event_id"]: d for r in replayed.values() for d in r["retracted"] if not confidential(d["event_type"], d["payload"])}
        documents = self.runtime.search.get_records(sorted(entries | retracted))
        assert set(documents) == set(entries) | set(retracted)
        for event_id, document in documents.items():
            if event_id in retracted:
                assert document["retracted_by"] == retracted[event_id]["retracted_by"], event_id
            else:
                assert (document["payload"], document["occurred_at"], document["retracted_by"]) == (
                    entries[event_id]["payload"], entries[event_id]["occurred_at"], None), event_id
        # The institution document's summary, kept incrementally (one record's contribution per
        # event, stored and read back as JSON), equals the summary derived from scratch.
        for record_id, record in replayed.items():
            if record["kind"] != "Institution":
                continue
            related = [r for r in replayed.values() if r["kind"] in RELATED_KINDS and r["institution_id"] == record_id]
            assert self.runtime.search.get(record_id)["summary"] == summary_of(related), record_id
        build_snapshot(replayed.values(), Cut(cut.seq, cut.hash, cut.recorded_at))

    @invariant()
    def every_record_reads_back(self):
        civil = bearer(self.runtime, *CIVIL)
        for record_id, collection in list(self.kinds.items())[-5:]:
            response = self.client.get(f"/v1/{collection}/{record_id}", headers=civil)
            assert response.status_code == 200, response.text
        search = self.client.get("/v1/public/search", params={"q": "链测", "size": 200})
        assert search.status_code == 200, search.text


CommandChains.TestCase.settings = settings(
    max_examples=30, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_command_chains = CommandChains.TestCase
