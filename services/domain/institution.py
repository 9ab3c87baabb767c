"""The Institution aggregate: one elderly-care institution's registration record.

States: ``discovered`` (known but unfiled: on the published unfiled list) → ``filed``. An
institution may also be filed at once, without having been discovered first.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from events import lifecycle
from events.registration import INSTITUTION_DISCOVERED, INSTITUTION_FILED
from services.domain.errors import Conflict
from services.domain.recorded import LedgerAggregate, Recorded

DISCOVERED = "discovered"
FILED = "filed"
SUSPENDED = "suspended"  # 停业整顿
CLOSING = "closing"  # a 关停并转 plan is under way
ENDED = {"close": "closed", "suspend_service": "service_suspended", "merge": "merged", "convert": "converted"}
OPERATING = (FILED, SUSPENDED, CLOSING)


class Institution(LedgerAggregate):
    """State: ``status`` and ``profile`` (the latest recorded particulars)."""

    NAME_ZH = "机构"

    class Discovered(Recorded, Aggregate.Created):
        EVENT_TYPE = INSTITUTION_DISCOVERED

        def evolve(self, institution: Institution) -> None:
            institution._take(self, DISCOVERED)

    class FiledAtRegistration(Recorded, Aggregate.Created):
        """Filing of an institution the supervisors did not know before (the usual case)."""

        EVENT_TYPE = INSTITUTION_FILED

        def evolve(self, institution: Institution) -> None:
            institution._take(self, FILED)

    class Filed(Recorded, Aggregate.Event):
        """Filing of an institution that was on the known-unfiled list."""

        EVENT_TYPE = INSTITUTION_FILED

        def evolve(self, institution: Institution) -> None:
            institution._take(self, FILED)

    class ChangeFiled(Recorded, Aggregate.Event):
        EVENT_TYPE = lifecycle.CHANGE_FILED

        def evolve(self, institution: Institution) -> None:
            institution.profile.update(self.payload["changes"])

    class SuspensionOrdered(Recorded, Aggregate.Event):
        EVENT_TYPE = lifecycle.SUSPENSION_ORDERED

        def evolve(self, institution: Institution) -> None:
            institution.status = SUSPENDED

    class ServiceResumed(Recorded, Aggregate.Event):
        EVENT_TYPE = lifecycle.SERVICE_RESUMED

        def evolve(self, institution: Institution) -> None:
            institution.status = FILED

    class ClosurePlanned(Recorded, Aggregate.Event):
        EVENT_TYPE = lifecycle.CLOSURE_PLANNED

        def evolve(self, institution: Institution) -> None:
            institution.status_before_closure = institution.status
            institution.status, institution.closure = CLOSING, dict(self.payload)
            institution.residents_resettled = self.payload["residents"] == 0

    class ResidentsResettled(Recorded, Aggregate.Event):
        EVENT_TYPE = lifecycle.RESIDENTS_RESETTLED

        def evolve(self, institution: Institution) -> None:
            institution.residents_resettled = True

    class Closed(Recorded, Aggregate.Event):
        EVENT_TYPE = lifecycle.INSTITUTION_CLOSED

        def evolve(self, institution: Institution) -> None:
            institution.status = ENDED[self.payload["kind"]]

    class LegalPersonRegistered(Recorded, Aggregate.Event):
        EVENT_TYPE = lifecycle.LEGAL_PERSON_REGISTERED

        def evolve(self, institution: Institution) -> None:
            institution.profile["legal_person_code"] = self.payload["legal_person_code"]

    class LegalPersonRegistrationPending(Recorded, Aggregate.Event):
        EVENT_TYPE = lifecycle.LEGAL_PERSON_PENDING

    class OperatingContractRecorded(Recorded, Aggregate.Event):
        EVENT_TYPE = lifecycle.CONTRACT_RECORDED

        def evolve(self, institution: Institution) -> None:
            institution.contract = dict(self.payload)

    class HandlingUpdated(Recorded, Aggregate.Event):
        EVENT_TYPE = lifecycle.HANDLING_UPDATED

        def evolve(self, institution: Institution) -> None:
            institution.profile["handling"] = self.payload["handling"]

    def record(self, event_class: type, **record: Any) -> None:
        self.trigger_event(event_class, **record)

    def require_status(self, *allowed: str, action_zh: str) -> None:
        if self.status not in allowed:
            raise Conflict(
                "INSTITUTION_STATE_INVALID", f"机构当前状态为 {self.status}，不能{action_zh}",
                f"the institution is {self.status}; allowed only when {', '.join(allowed)}", status=self.status,
            )

    def _take(self, event: Recorded, status: str) -> None:
        if not hasattr(self, "profile"):  # the creating event
            self.profile, self.residents_resettled, self.closure, self.contract = {}, False, None, None
        self.status = status
        self.profile.update(event.payload)

    # --- commands ---------------------------------------------------------------------------

    @classmethod
    def discover(cls, id: UUID, **record: Any) -> Institution:
        return cls._create(cls.Discovered, id=id, **record)

    @classmethod
    def register_filed(cls, id: UUID, **record: Any) -> Institution:
        return cls._create(cls.FiledAtRegistration, id=id, **record)

    def file(self, **record: Any) -> None:
        self.ensure_can_file()
        self.trigger_event(self.Filed, **record)

    def ensure_can_file(self) -> None:
        """Only a known-unfiled institution can be filed; one already filed changes by 变更备案."""
        if self.status not in (DISCOVERED, *OPERATING):
            self.require_status(DISCOVERED, action_zh="备案")
        if self.status != DISCOVERED:
            raise Conflict(
                "ALREADY_FILED",
                f"该机构已于 {self.profile.get('filed_on')} 备案（回执 {self.profile.get('receipt_no')}），如信息变化请办理变更备案",
                "this institution is already filed; changes go through a change filing",
                receipt_no=self.profile.get("receipt_no"),
            )

    @property
    def credit_code(self) -> str | None:
        return self.profile.get("credit_code")
