"""The Institution aggregate: one elderly-care institution's registration record, its lifecycle as
declared in events/lifecycle.py (``INSTITUTION``).

States: ``discovered`` (known but unfiled: on the published unfiled list) → ``filed`` → suspended,
closing, and the ends of 关停并转. An institution may also be filed at once, without having been
discovered first. State: ``status`` and ``profile`` (the latest recorded particulars), and what the
lifecycle adds (closure plan, residents resettled, 公建民营 contract).
"""

from __future__ import annotations

from events.lifecycle import CLOSING, DISCOVERED, ENDED, FILED, INSTITUTION, OPERATING, SUSPENDED
from events.record_kinds import Step
from services.domain.errors import Conflict
from services.domain.recorded import LedgerAggregate

__all__ = ["CLOSING", "DISCOVERED", "ENDED", "FILED", "OPERATING", "SUSPENDED", "Institution"]


class Institution(LedgerAggregate):
    KIND = INSTITUTION
    NAME_ZH = INSTITUTION.title_zh

    def require_step(self, step: Step | None) -> None:
        """Only a known-unfiled institution can be filed; one already filed changes by 变更备案."""
        if step is not None and step.name == "InstitutionFiled" and self.status in OPERATING:
            raise Conflict(
                "ALREADY_FILED",
                f"该机构已于 {self.profile.get('filed_on')} 备案（回执 {self.profile.get('receipt_no')}），如信息变化请办理变更备案",
                "this institution is already filed; changes go through a change filing",
                receipt_no=self.profile.get("receipt_no"),
            )
        super().require_step(step)

    def require_status(self, *allowed: str, action_zh: str) -> None:
        """For rules about another record that need this institution in a given state."""
        if self.status not in allowed:
            raise Conflict(
                "INSTITUTION_STATE_INVALID",
                f"机构当前状态为“{INSTITUTION.state_name(self.status)}”，不能{action_zh}",
                f"the institution is {self.status}; allowed only when {', '.join(allowed)}", status=self.status,
            )

    @property
    def credit_code(self) -> str | None:
        return self.profile.get("credit_code")
