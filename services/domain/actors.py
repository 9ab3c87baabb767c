"""Who acts: a member of staff of one department, at one level, for one region, in one role.

Competence is "谁审批谁监管、谁主管谁监管": what a department may decide depends on its remit and
on the region its level covers (a county bureau its county, a city bureau its city, …).
"""

from __future__ import annotations

from dataclasses import dataclass

from events.registration import DEPARTMENT_NAMES, DEPARTMENTS, LEVELS
from services.domain import regions
from services.domain.errors import NotCompetent, RuleViolation

ROLES = ("officer", "viewer", "auditor")
ROLE_NAMES = {"officer": "执法/经办人员", "viewer": "查询人员", "auditor": "审计人员"}


@dataclass(frozen=True)
class Actor:
    department: str
    level: str
    region: str
    user: str
    role: str = "officer"

    def __post_init__(self) -> None:
        if self.department not in DEPARTMENTS:
            raise RuleViolation("ACTOR_INVALID", f"未知部门：{self.department}", f"unknown department {self.department}")
        if self.level not in LEVELS:
            raise RuleViolation("ACTOR_INVALID", f"未知层级：{self.level}", f"unknown level {self.level}")
        if self.role not in ROLES:
            raise RuleViolation("ACTOR_INVALID", f"未知角色：{self.role}", f"unknown role {self.role}")
        if not self.user.strip():
            raise RuleViolation("ACTOR_INVALID", "经办人不能为空", "the acting user is missing")
        regions.validate_region_code(self.region, level=self.level)

    @property
    def is_system(self) -> bool:
        """The ledger's own scheduler, recording what falls due with time."""
        return self.user.startswith("system:")

    @property
    def title_zh(self) -> str:
        return f"{regions.full_name(self.region)}{DEPARTMENT_NAMES[self.department]}"

    def record(self) -> dict[str, str]:
        """What the ledger keeps of the actor on every decision."""
        return {"department": self.department, "level": self.level, "region": self.region, "user": self.user}

    def covers(self, region_code: str) -> bool:
        return regions.covers(self.region, self.level, region_code)

    def require_role(self, role: str) -> None:
        if self.role != role:
            raise NotCompetent(
                "ROLE_NOT_PERMITTED",
                f"当前角色（{ROLE_NAMES[self.role]}）无权执行此操作，需要：{ROLE_NAMES[role]}",
                f"role {self.role} may not do this; it needs role {role}",
                role=self.role,
                required_role=role,
            )

    def require_department(self, *departments: str) -> None:
        if self.department not in departments:
            names = "、".join(DEPARTMENT_NAMES[d] for d in departments)
            raise NotCompetent(
                "DEPARTMENT_NOT_COMPETENT",
                f"{DEPARTMENT_NAMES[self.department]}无此职权，应由{names}办理",
                f"{self.department} has no competence for this; it belongs to {', '.join(departments)}",
                department=self.department,
                competent_departments=list(departments),
            )

    def require_jurisdiction(self, region_code: str) -> None:
        if not self.covers(region_code):
            raise NotCompetent(
                "OUTSIDE_JURISDICTION",
                f"{regions.full_name(region_code)}（{region_code}）不在{self.title_zh}的管辖范围内",
                f"region {region_code} is outside the jurisdiction of {self.level} {self.region}",
                region_code=region_code,
                actor_region=self.region,
                actor_level=self.level,
            )
