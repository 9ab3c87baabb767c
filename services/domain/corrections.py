"""Rules for correcting or retracting an earlier decision on any record.

Only the department that made the decision may correct or retract it, within its jurisdiction,
with a reason and a named approver other than the officer. A correction changes fields the
decision itself carried — never what the ledger computed (deadlines, seals), never identifiers
(credit codes, receipt and decision numbers) and never whom the record concerns. A retraction
undoes the latest decision still standing on the record; earlier ones are retracted in turn.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from events import CATALOGUE
from events.catalogue import problems_in
from events.record_kinds import redated
from services.domain.decisions import Context, Decision
from services.domain.errors import RuleViolation
from services.domain.recorded import LedgerAggregate
from services.domain.validation import not_after_today, reject_shape

NEVER_CORRECTED = ("institution_id", "region_code", "credit_code", "receipt_no", "decision_no")


def _standing_decision(ctx: Context, record: LedgerAggregate) -> tuple[str, str]:
    """The original decision's type, after checking the actor may act on it (the pipeline has
    refused a retracted record already)."""
    found = record.standing_decision(ctx.request["original_event_id"])
    if found is None:
        raise RuleViolation(
            "ORIGINAL_NOT_FOUND", "该记录上没有这一有效决定（已撤销的决定不能再更正或撤销）",
            "no standing decision with this id on this record",
        )
    event_type, department = found
    ctx.actor.require_role("officer")
    ctx.actor.require_department(department)
    ctx.actor.require_jurisdiction(record.record["region_code"])
    if ctx.request["approver"].strip() == ctx.actor.user:
        raise RuleViolation("APPROVER_IS_ACTOR", "更正或撤销须经经办人以外的人员批准", "the approver is someone other than the officer")
    return event_type, department


def _correctable(record: LedgerAggregate, event_type: str) -> dict[str, Any]:
    computed = record.kind.step(event_type).computed  # the record kind declares what the ledger computed
    return {f.name: f for f in CATALOGUE[event_type].fields if f.name not in computed and f.name not in NEVER_CORRECTED}


def _payload(ctx: Context, record: LedgerAggregate, event_type: str) -> dict[str, Any]:
    payload = dict(ctx.request, original_event_type=event_type)
    if record.record["institution_id"]:
        payload["institution_id"] = record.record["institution_id"]
    return payload


def correct(ctx: Context) -> Decision:
    record: LedgerAggregate = ctx.target
    event_type, _ = _standing_decision(ctx, record)
    allowed = _correctable(record, event_type)
    corrected = ctx.request["corrected"]
    refused = sorted(set(corrected) - set(allowed))
    if not corrected or refused:
        titles = {f.name: f.title_zh for f in CATALOGUE[event_type].fields}
        named = "、".join(titles.get(name, name) for name in refused)
        raise RuleViolation(
            "FIELD_NOT_CORRECTABLE", f"以下字段不能更正（系统计算、标识或不属于原决定）：{named or '（未载明更正内容）'}",
            f"these fields cannot be corrected: {', '.join(refused) or '(nothing to correct)'}", fields=refused,
        )
    reject_shape(problems_in(tuple(replace(allowed[name], required=False) for name in allowed), corrected, "corrected"))
    original = next(d for d in record.decisions if d["event_id"] == ctx.request["original_event_id"])
    moved_to = redated(original, corrected)
    if moved_to != original["occurred_at"]:  # a correction of the decision's own date keeps the steps in order
        record.require_in_date_order(moved_to, record.kind.step(event_type), replacing=original["event_id"])
    day = date.fromisoformat(ctx.request["corrected_on"])
    not_after_today(day, ctx.today, "corrected_on")
    return Decision(_payload(ctx, record, event_type), day.isoformat(), ctx.rules.in_force(day, record.record["region_code"]).name)


def retract(ctx: Context) -> Decision:
    record: LedgerAggregate = ctx.target
    event_type, _ = _standing_decision(ctx, record)
    latest = record.decisions[-1]["event_id"]
    if latest != ctx.request["original_event_id"]:
        raise RuleViolation(
            "RETRACT_LATEST_FIRST", "只能撤销该记录上最近一项有效决定；更早的决定须依次撤销",
            "only the latest standing decision is retracted; earlier ones in reverse order",
            latest_event_id=latest,
        )
    day = date.fromisoformat(ctx.request["retracted_on"])
    not_after_today(day, ctx.today, "retracted_on")
    return Decision(_payload(ctx, record, event_type), day.isoformat(), ctx.rules.in_force(day, record.record["region_code"]).name)
