"""An institution's standing: everything recorded about it, as the rules that look across
aggregates need it (grading eligibility, escalation, listing grounds).

It is built from the aggregates themselves (never a second copy of their logic): the institution
and every hazard, case, listing, grading or inspection that names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Standing:
    institution: Any
    related: list[Any] = field(default_factory=list)

    def of_type(self, name: str) -> list[Any]:
        return [a for a in self.related if type(a).__name__ == name]

    @property
    def open_major_hazards(self) -> list[Any]:
        return [h for h in self.of_type("Hazard") if h.severity == "major" and h.status != "closed"]

    @property
    def listings(self) -> list[Any]:
        """Current entries on either credit list."""
        return [entry for entry in self.of_type("CreditListing") if entry.active]

    @property
    def listed(self) -> bool:
        return bool(self.listings)

    @property
    def on_joint_punishment_list(self) -> bool:
        return any(entry.list == "joint_punishment" for entry in self.listings)

    def latest_compliance(self, standard: str) -> Any | None:
        assessments = [a for a in self.of_type("ComplianceAssessment") if a.standard == standard]
        return max(assessments, key=lambda a: (a.assessed_on, str(a.id))) if assessments else None

    @property
    def residents_resettled(self) -> bool:
        return bool(getattr(self.institution, "residents_resettled", False))
