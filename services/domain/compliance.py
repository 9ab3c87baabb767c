"""Standards compliance (GB 38600 mandatory since 2022-01-01; GB/T 35796) and campaign targets per
region and year (the seeds' 60 % / 80 % / 100 % compliant, 100 % filed, …)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from events.checklists import CHECKLIST
from events.grading import CAMPAIGN_TARGET_SET, COMPLIANCE_ASSESSED
from services.domain import regions
from services.domain.decisions import Context, Decision
from services.domain.errors import RuleViolation
from services.domain.institution import Institution
from services.domain.recorded import LedgerAggregate, Recorded
from services.domain.validation import check_shape, day_of

GBT35796_CLAUSE = re.compile(r"^GBT35796-\d+(\.\d+)*$")


class ComplianceAssessment(LedgerAggregate):
    """State: ``institution_id``, ``standard``, ``compliant``, ``assessed_on``."""

    NAME_ZH = "标准符合性评估"

    class Assessed(Recorded, Aggregate.Created):
        EVENT_TYPE = COMPLIANCE_ASSESSED

        def evolve(self, assessment: ComplianceAssessment) -> None:
            p = self.payload
            assessment.institution_id, assessment.standard = p["institution_id"], p["standard"]
            assessment.compliant, assessment.assessed_on = p["compliant"], p["assessed_on"]

    @classmethod
    def assess(cls, id: UUID, **record: Any) -> ComplianceAssessment:
        return cls._create(cls.Assessed, id=id, **record)


class CampaignTarget(LedgerAggregate):
    """State: ``region_code``, ``year``, ``metric``, ``target_percent``."""

    NAME_ZH = "工作目标"

    class Set(Recorded, Aggregate.Created):
        EVENT_TYPE = CAMPAIGN_TARGET_SET

        def evolve(self, target: CampaignTarget) -> None:
            p = self.payload
            target.region_code, target.year, target.metric, target.target_percent = p["region_code"], p["year"], p["metric"], p["target_percent"]

    @classmethod
    def set(cls, id: UUID, **record: Any) -> CampaignTarget:
        return cls._create(cls.Set, id=id, **record)


def assess(ctx: Context) -> Decision:
    """Recorded by civil affairs (it supervises the standards), also for third-party assessments."""
    ctx.actor.require_role("officer")
    ctx.actor.require_department("civil_affairs")
    check_shape(COMPLIANCE_ASSESSED.fields, ctx.request, ("region_code",))
    institution = ctx.lookup.aggregate(Institution, ctx.request["institution_id"])
    region = institution.profile["region_code"]
    ctx.actor.require_jurisdiction(region)
    failed = ctx.request["failed_clauses"]
    if ctx.request["compliant"] == bool(failed):
        raise RuleViolation(
            "COMPLIANCE_INCONSISTENT", "不符合的须列明不符合条款；符合的不列条款", "non-compliance lists its failed clauses; compliance lists none",
        )
    standard = ctx.request["standard"]
    for clause in failed:
        known = clause in CHECKLIST and clause.startswith("GB38600-") if standard == "GB 38600" else GBT35796_CLAUSE.match(clause)
        if not known:
            raise RuleViolation("CLAUSE_UNKNOWN", f"{clause} 不是 {standard} 的条款编号", f"{clause} is not a clause of {standard}")
    assessed_on = day_of(ctx, "assessed_on")
    version = ctx.rules.in_force(assessed_on)
    return Decision(dict(ctx.request, region_code=region), assessed_on.isoformat(), version.name)


def set_target(ctx: Context) -> Decision:
    ctx.actor.require_role("officer")
    ctx.actor.require_department("civil_affairs")
    check_shape(CAMPAIGN_TARGET_SET.fields, ctx.request, ())
    region = regions.validate_region_code(ctx.request["region_code"])
    ctx.actor.require_jurisdiction(region)
    if not Decimal(0) <= Decimal(ctx.request["target_percent"]) <= Decimal(100):
        raise RuleViolation("TARGET_INVALID", "目标应在0到100之间", "the target is a percentage from 0 to 100")
    version = ctx.rules.in_force(ctx.today)
    return Decision(dict(ctx.request), ctx.today.isoformat(), version.name)
