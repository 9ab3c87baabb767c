"""An institution's standing: everything recorded about it, as the rules that look across
aggregates need it (grading eligibility, escalation, listing grounds, the draw's risk classes).

It is built from the aggregates themselves — the institution and every hazard, case, listing,
grading or inspection that names it — and read with the one set of predicates the read side uses
too (events/standing.py), never a second copy of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from events import standing as facts


@dataclass
class Standing:
    institution: Any
    related: list[Any] = field(default_factory=list)

    def of_type(self, name: str) -> list[Any]:
        """The related records of one kind that stand (a retracted record counts for nothing)."""
        return [a for a in self.related if type(a).__name__ == name and facts.stands(a.record)]

    @property
    def open_major_hazards(self) -> list[Any]:
        return [h for h in self.of_type("Hazard") if h.severity == "major" and facts.is_open_hazard(h.record["state"])]

    @property
    def listings(self) -> list[Any]:
        """Current entries on either credit list."""
        return [entry for entry in self.of_type("CreditListing") if facts.is_listed(entry.record["state"])]

    @property
    def listed(self) -> bool:
        return bool(self.listings)

    @property
    def on_joint_punishment_list(self) -> bool:
        return any(entry.list == "joint_punishment" for entry in self.listings)

    def latest_compliance(self, standard: str) -> Any | None:
        return self._aggregate_of(facts.latest_compliance([a.record for a in self.of_type("ComplianceAssessment")], standard))

    def current_grade(self, on: str) -> Any | None:
        """The grading application whose grade the institution holds on ``on``."""
        return self._aggregate_of(facts.current_grade([a.record for a in self.of_type("GradingApplication")], on))

    def _aggregate_of(self, record: dict[str, Any] | None) -> Any | None:
        return None if record is None else next(a for a in self.related if str(a.id) == record["id"])

    @property
    def residents_resettled(self) -> bool:
        return bool(getattr(self.institution, "residents_resettled", False))
