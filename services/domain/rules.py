"""The rule table: every number the regulations set, with the date it took effect.

No rule number is a constant in code. A decision asks the table for the version in force on the
decision date and records that version's name (``rule_version``) in its event, so a later change of
the rules never changes how a past decision reads. Each parameter says whether its value was
confirmed in an official text (see shared/research/domain-sources.md) and where it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.domain.errors import RuleViolation


@dataclass(frozen=True)
class Param:
    value: Any
    source: str
    confirmed: bool


@dataclass(frozen=True)
class RuleVersion:
    name: str
    effective_from: date
    params: dict[str, Param] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.params[key].value


@dataclass(frozen=True)
class RuleTable:
    versions: tuple[RuleVersion, ...]

    def in_force(self, day: date) -> RuleVersion:
        applicable = [v for v in self.versions if v.effective_from <= day]
        if not applicable:
            first = min(v.effective_from for v in self.versions)
            raise RuleViolation(
                "RULE_NOT_IN_FORCE",
                f"{day.isoformat()} 早于本系统所执行规则的生效日期 {first.isoformat()}",
                f"{day.isoformat()} is before the first rules this ledger applies ({first.isoformat()})",
                date=day.isoformat(),
            )
        return max(applicable, key=lambda v: v.effective_from)

    def named(self, name: str) -> RuleVersion:
        for v in self.versions:
            if v.name == name:
                return v
        raise KeyError(name)


MEASURES_2020 = RuleVersion(
    name="66号令-2020-11-01",
    effective_from=date(2020, 11, 1),
    params={
        "institution.minimum_beds": Param(
            10, "《养老机构管理办法》(民政部令第66号) 第2条：床位数在10张以上", True
        ),
        "filing.deadline_working_days": Param(
            10, "66号令：收住老年人后10个工作日以内备案", True
        ),
        "inspection.first_within_working_days": Param(
            20, "66号令：备案或发现收住老年人之日起20个工作日内现场检查", True
        ),
        "inspection.min_officers": Param(2, "《行政处罚法》第42条：执法人员不得少于两人", True),
        "inspection.notice_working_days": Param(3, "DOMAIN.md：日常、专项检查提前3个工作日通知（未见官方原文）", False),
        "inspection.publish_within_working_days": Param(20, "DOMAIN.md：检查结果20个工作日内公开（未见官方原文）", False),
        "inspection.risk_classification": Param(
            "D: 列入失信名单或重大隐患逾期; C: 存在未销账重大隐患; B: 未备案或隐患逾期; A: 其他",
            "本系统设定的信用风险分类口径（待各地规则替换）", False,
        ),
    },
)

RULES = RuleTable((MEASURES_2020,))
