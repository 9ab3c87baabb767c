"""The Institution aggregate: one elderly-care institution's registration record.

States: ``discovered`` (known but unfiled: on the published unfiled list) → ``filed``. An
institution may also be filed at once, without having been discovered first.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from events.registration import INSTITUTION_DISCOVERED, INSTITUTION_FILED
from services.domain.errors import Conflict
from services.domain.recorded import LedgerAggregate, Recorded

DISCOVERED = "discovered"
FILED = "filed"


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

    def _take(self, event: Recorded, status: str) -> None:
        if not hasattr(self, "profile"):  # the creating event
            self.profile = {}
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
        if self.status == FILED:
            raise Conflict(
                "ALREADY_FILED",
                f"该机构已于 {self.profile.get('filed_on')} 备案（回执 {self.profile.get('receipt_no')}），如信息变化请办理变更备案",
                "this institution is already filed; changes go through a change filing",
                receipt_no=self.profile.get("receipt_no"),
            )

    @property
    def credit_code(self) -> str | None:
        return self.profile.get("credit_code")
