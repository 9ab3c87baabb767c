"""Property tests (hypothesis): random sequences of valid and invalid commands over institutions,
hazards and sanction cases never break an invariant, and replaying the stored log rebuilds
identical aggregates and an identical sealed chain."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from events.envelope import verify_chain
from services.domain.actors import Actor
from services.domain.errors import DomainError
from services.domain.hazard import Hazard
from services.ledger.application import Basis, Command, open_ledger
from services.ledger.scheduler import run_due
from services.ledger.sealed_log import SealedLog
from services.ledger.sealer import Sealer
from tests.conftest import Clock, county_officer, filing_request, unique_credit_code

CIVIL = county_officer()
FIRE = Actor("fire_rescue", "county", "321111", "消防")
BASIS = Basis("性质〔2024〕1号", "测试依据")


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.path = Path(self.dir.name) / "ledger.sqlite"
        self.clock = Clock()
        self.clock.set(date(2024, 5, 6))
        self.app, self.sealer = open_ledger(self.path, clock=self.clock)
        self.institutions: list[str] = []
        self.hazards: list[str] = []
        self.closed: set[str] = set()
        self.keys = 0

    def teardown(self) -> None:
        self.app.close()
        self.dir.cleanup()

    def run(self, name, request, target=None, actor=CIVIL, key=None):
        try:
            return self.app.execute(name, Command(actor, BASIS, request, key), target)
        except DomainError:
            return None  # refused: the invariants must hold all the same

    @property
    def today(self) -> date:
        return self.clock().date()

    @rule(beds=st.integers(min_value=0, max_value=300), late=st.booleans())
    def file_an_institution(self, beds, late):
        admitted = self.today - timedelta(days=40 if late else 3)
        request = filing_request(
            beds=beds, nursing_beds=min(beds, 10), credit_code=unique_credit_code(), receipt_no=f"p-{len(self.institutions)}-{beds}",
            first_resident_admitted_on=admitted.isoformat(), application_received_on=self.today.isoformat(), filed_on=self.today.isoformat(),
        )
        result = self.run("institution.file_new", request)
        if result is not None:
            self.institutions.append(str(result.aggregate_id))

    @rule(repeat=st.booleans())
    def resend_the_last_request(self, repeat):
        """Idempotency under random retries: the same key twice records once."""
        self.keys += 1
        request = filing_request(credit_code=unique_credit_code(), receipt_no=f"k-{self.keys}",
                                 first_resident_admitted_on=(self.today - timedelta(days=2)).isoformat(),
                                 application_received_on=self.today.isoformat(), filed_on=self.today.isoformat())
        before = self.app.recorder.max_notification_id() or 0
        first = self.run("institution.file_new", request, key=f"key-{self.keys}")
        after_first = self.app.recorder.max_notification_id() or 0
        if repeat and first is not None:
            again = self.run("institution.file_new", request, key=f"key-{self.keys}")
            assert again.replayed and again.aggregate_id == first.aggregate_id
            assert (self.app.recorder.max_notification_id() or 0) == after_first
        if first is not None:
            self.institutions.append(str(first.aggregate_id))
            assert after_first == before + 3  # the filing and its two identifier claims

    @precondition(lambda self: self.institutions)
    @rule(data=st.data(), major=st.booleans())
    def find_a_hazard(self, data, major):
        institution = data.draw(st.sampled_from(self.institutions))
        request = {"institution_id": institution, "severity": "major" if major else "general", "category": "fire_safety",
                   "criterion_ref": "MH2023-4.2" if major else "GB38600-4", "description": "隐患", "responsible_person": "院长",
                   "identified_on": self.today.isoformat()}
        result = self.run("hazard.identify", request, actor=FIRE)
        if result is not None:
            self.hazards.append(str(result.aggregate_id))

    @precondition(lambda self: self.hazards)
    @rule(data=st.data(), step=st.sampled_from(["order", "rectify", "verify_ok", "verify_fail", "escalate"]), days=st.integers(0, 30))
    def act_on_a_hazard(self, data, step, days):
        hazard = data.draw(st.sampled_from(self.hazards))
        today = self.today.isoformat()
        requests = {
            "order": ("hazard.order", {"measures": "整改", "ordered_on": today, "deadline": (self.today + timedelta(days=days)).isoformat()}, FIRE),
            "rectify": ("hazard.rectify", {"rectified_on": today, "measures_taken": "已整改"}, FIRE),
            "verify_ok": ("hazard.verify", {"verified_on": today, "outcome": "closed"}, FIRE),
            "verify_fail": ("hazard.verify", {"verified_on": today, "outcome": "not_rectified"}, FIRE),
            "escalate": ("hazard.escalate", {"step": "suspension_ordered", "decided_on": today, "reason": "逾期"}, CIVIL),
        }
        name, request, actor = requests[step]
        was_closed = self.app.aggregate(Hazard, hazard).status == "closed"
        self.run(name, request, hazard, actor)
        if was_closed:
            assert self.app.aggregate(Hazard, hazard).status == "closed", "a closed hazard never reopens"

    @rule(days=st.integers(1, 20))
    def time_passes(self, days):
        self.clock.set(self.today + timedelta(days=days))
        run_due(self.app)

    @invariant()
    def overdue_only_after_the_deadline_and_orders_never_silently_lapse(self):
        for hazard_id in self.hazards:
            hazard = self.app.aggregate(Hazard, hazard_id)
            if hazard.status == "overdue":
                assert hazard.deadline is not None and hazard.deadline < self.today.isoformat()
            if hazard.status == "ordered":
                # the scheduler runs whenever time passes, so an open order is never past its deadline
                assert hazard.deadline >= self.today.isoformat()

    @invariant()
    def the_sealed_log_is_one_unbroken_chain_of_every_stored_event(self):
        records = self.sealer.log.read(0, 100_000)
        assert len(list(verify_chain(r.envelope for r in records))) == len(records)
        assert len(records) == (self.app.recorder.max_notification_id() or 0)

    @invariant()
    def replaying_the_store_rebuilds_identical_aggregates_and_seals(self):
        replay, _ = open_ledger(self.path, clock=self.clock)
        try:
            for aggregate_id in self.institutions + self.hazards:
                live = self.app.repository.get(UUID(aggregate_id))
                rebuilt = replay.repository.get(live.id)
                assert vars(rebuilt) == vars(live)
            fresh = Path(self.dir.name) / "resealed.sqlite"
            resealed = SealedLog(fresh)
            Sealer(replay, resealed).seal_pending()
            assert [r.envelope_bytes for r in resealed.read(0, 100_000)] == [r.envelope_bytes for r in self.sealer.log.read(0, 100_000)]
            resealed.close()
            fresh.unlink()
        finally:
            replay.close()


LedgerMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestLedgerProperties = LedgerMachine.TestCase
