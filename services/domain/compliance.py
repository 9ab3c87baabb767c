"""Standards compliance (GB 38600 mandatory since 2022-01-01; GB/T 35796) and campaign targets per
region and year (the seeds' 60 % / 80 % / 100 % compliant, 100 % filed, …)."""

from __future__ import annotations

import re
from decimal import Decimal

from events.checklists import CHECKLIST
from events.grading import CAMPAIGN_TARGET, COMPLIANCE_ASSESSMENT
from services.domain import regions
from services.domain.decisions import Context, Decision
from services.domain.errors import RuleViolation
from services.domain.institution import Institution
from services.domain.recorded import LedgerAggregate
from services.domain.validation import day_of

GBT35796_CLAUSE = re.compile(r"^GBT35796-\d+(\.\d+)*$")


class ComplianceAssessment(LedgerAggregate):
    """State: ``institution_id``, ``region_code``, ``standard``, ``compliant``, ``assessed_on``."""

    KIND = COMPLIANCE_ASSESSMENT
    NAME_ZH = COMPLIANCE_ASSESSMENT.title_zh


class CampaignTarget(LedgerAggregate):
    """State: ``region_code``, ``year``, ``metric``, ``target_percent``."""

    KIND = CAMPAIGN_TARGET
    NAME_ZH = CAMPAIGN_TARGET.title_zh


def assess(ctx: Context) -> Decision:
    """Recorded by civil affairs (it supervises the standards), also for third-party assessments."""
    ctx.actor.require_role("officer")
    ctx.actor.require_department("civil_affairs")
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
    version = ctx.rules.in_force(assessed_on, region)
    return Decision(dict(ctx.request, region_code=region), assessed_on.isoformat(), version.name)


def set_target(ctx: Context) -> Decision:
    ctx.actor.require_role("officer")
    ctx.actor.require_department("civil_affairs")
    region = regions.validate_region_code(ctx.request["region_code"])
    ctx.actor.require_jurisdiction(region)
    if not Decimal(0) <= Decimal(ctx.request["target_percent"]) <= Decimal(100):
        raise RuleViolation("TARGET_INVALID", "目标应在0到100之间", "the target is a percentage from 0 to 100")
    version = ctx.rules.in_force(ctx.today, region)
    return Decision(dict(ctx.request), ctx.today.isoformat(), version.name)
