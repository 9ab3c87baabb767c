"""What needs an officer's attention in a region today, as a query over record states
(projections/record_states.py), each as of today (a deadline passed today counts, whether or not
the scheduler has recorded it yet):

- hazards: open ones whose rectification deadline has passed (overdue), those due within the next
  seven days, and those identified without a rectification order yet;
- unfiled institutions whose handling deadline has passed or falls within the next fourteen days;
- defence windows: sanction cases and credit listings whose notice was served and no decision
  taken yet, with the day the statement (or hearing request) period ends — open, or over and
  awaiting the decision;
- grading publicity periods running, with objections not yet handled;
- inspections scheduled and not yet conducted, and those conducted whose results are not yet
  published;
- what ends within thirty days: penalty publications (the longest period), credit listings
  (their term) and grades (their validity);
- what the ledger's scheduler recorded (an order's deadline passing, a term ending) after a given
  ledger position.

Retracted records are on no list. Inspections not yet conducted are confidential: the caller
passes only the records the reader may know of (events.visibility.knows_record).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from events import credit, grading, inspections, sanctions
from events.catalogue import CATALOGUE, Field
from events.hazards import CLOSED
from events.lifecycle import DISCOVERED, handling_deadline
from events.record_kinds import KINDS as RECORD_KINDS
from events.record_kinds import Record, state_on
from events.regions import full_name
from projections.hazard_lists import hazard_row

HAZARD_DAYS, HANDLING_DAYS, ENDING_DAYS, SCHEDULER_DAYS = 7, 14, 30, 7
KINDS = ("Hazard", "Institution", "SanctionCase", "CreditListing", "GradingApplication", "Inspection")
INSTITUTION_NAME = Field("institution_name", "string", "机构名称", public=True)


def _row_fields(*more: Field) -> tuple[Field, ...]:
    """The columns every list below shares, then its own."""
    return (
        Field("record_id", "string", "记录编号", public=True),
        Field("kind_name", "string", "记录类别", public=True),
        Field("institution_id", "string", "机构编号", public=True),
        INSTITUTION_NAME,
        Field("region_code", "string", "行政区划", public=True),
        Field("region_name", "string", "所在地区", public=True),
        Field("status_name", "string", "状态", public=True),
        Field("departments", "array", "办理部门", public=True, items=Field("department", "string", "部门", public=True)),
        *more,
    )


DEFENCE_FIELDS = _row_fields(
    Field("subject", "string", "事项", public=True),
    Field("served_on", "string", "告知书送达日期", public=True),
    Field("deadline", "string", "陈述申辩（听证申请）期限", public=False),
    Field("open", "boolean", "期限是否未届满", public=False),
)
PUBLICITY_FIELDS = _row_fields(
    Field("level", "integer", "拟评定等级", public=True),
    Field("started_on", "string", "公示开始日期", public=True),
    Field("ends_on", "string", "公示截止日期", public=True),
    Field("objections_pending", "integer", "未处理的异议", public=True),
)
INSPECTION_FIELDS = _row_fields(
    Field("inspection_kind", "string", "检查类型", public=True),
    Field("scheduled_on", "string", "安排日期", public=False),
    Field("conducted_on", "string", "检查日期", public=True),
)
ENDING_FIELDS = _row_fields(
    Field("subject", "string", "事项", public=True),
    Field("ends_on", "string", "届满日期", public=True),
)
SCHEDULER_FIELDS = _row_fields(
    Field("event_id", "string", "事件编号", public=True),
    Field("seq", "integer", "台账序号", public=True),
    Field("title", "string", "记录事项", public=True),
    Field("occurred_on", "string", "日期", public=True),
)
UNFILED_FIELDS = (
    Field("institution_id", "string", "机构编号", public=True),
    Field("name", "string", "机构名称", public=True),
    Field("region_code", "string", "行政区划", public=True),
    Field("region_name", "string", "所在地区", public=True),
    Field("handling_deadline", "string", "办结时限", public=True),
    Field("overdue", "boolean", "是否逾期", public=True),
)


def _base(record: Record, state: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    kind = RECORD_KINDS[record["kind"]]
    departments = sorted({d["actor"]["department"] for d in record["decisions"]} - {""})
    institution_id = state.get("institution_id") or record["institution_id"]
    return {"record_id": record["id"], "kind_name": kind.title_zh, "institution_id": institution_id,
            "institution_name": names.get(institution_id or "", ""), "region_code": state["region_code"],
            "region_name": full_name(state["region_code"]), "status_name": kind.state_name(state["status"]), "departments": departments}


def _defence(record: Record, state: dict[str, Any], day: str) -> dict[str, Any] | None:
    """A sanction case or credit listing whose notice was served, before its decision."""
    if record["kind"] == "SanctionCase" and state["status"] == sanctions.NOTICED and state.get("notice"):
        notice = state["notice"]
        deadline = max(d for d in (notice.get("statement_deadline"), notice.get("hearing_request_deadline")) if d)
        subject = f"行政处罚案件（{sanctions.GROUND_NAMES.get(state['ground'], state['ground'])}）"
        return {"subject": subject, "served_on": notice.get("served_on"), "deadline": deadline, "open": deadline >= day}
    if record["kind"] == "CreditListing" and state["status"] in (credit.NOTICED, credit.DEFENDED) and state.get("defence_deadline"):
        subject = f"拟列入{credit.LIST_NAMES.get(state['list'], state['list'])}"
        served = next((d["payload"].get("served_on") for d in record["decisions"] if d["event_type"] == credit.LISTING_NOTICE_SERVED.name), None)
        return {"subject": subject, "served_on": served, "deadline": state["defence_deadline"], "open": state["defence_deadline"] >= day}
    return None


# What ends within the horizon, by kind: the subject the list names it by. The day it ends is the one
# the kind's own lifecycle declares for its time-driven step (a publication's longest period, a
# listing's term, a grade's validity), in the states that step may follow.
ENDINGS = {
    "SanctionCase": lambda state: "行政处罚信息公示期",
    "CreditListing": lambda state: f"{credit.LIST_NAMES.get(state['list'], state['list'])}列入期限",
    "GradingApplication": lambda state: f"{state.get('level')}级等级有效期",
}


def _ending(record: Record, state: dict[str, Any], day: str, horizon: str) -> dict[str, Any] | None:
    """A penalty publication, a credit listing or a grade that ends within the horizon."""
    subject = ENDINGS.get(record["kind"])
    if subject is None:
        return None
    until = next((due for step in RECORD_KINDS[record["kind"]].timed_steps()
                  if state["status"] in step.after and (due := step.falls_due(state))), None)
    return {"subject": subject(state), "ends_on": until} if until and day <= until <= horizon else None


def _scheduled(record: Record, since_seq: int | None, since_day: str, until_seq: int | None = None) -> list[dict[str, Any]]:
    """The decisions the ledger's scheduler recorded on a record after ``since_seq`` (or, without
    one, on or after ``since_day``), and at or before ``until_seq`` when given."""
    out = []
    for decision in record["decisions"]:
        if not decision["actor"]["user"].startswith("system:"):
            continue
        later = decision["seq"] > since_seq if since_seq is not None else decision["occurred_at"][:10] >= since_day
        if later and (until_seq is None or decision["seq"] <= until_seq):
            out.append({"event_id": decision["event_id"], "seq": decision["seq"], "title": CATALOGUE[decision["event_type"]].title_zh,
                        "occurred_on": decision["occurred_at"][:10]})
    return out


def institution_names(records: Iterable[Record]) -> dict[str, str]:
    return {r["id"]: r["state"]["profile"]["name"] for r in records if r["kind"] == "Institution" and r["state"].get("profile")}


def worklist(records: Iterable[Record], region_prefix: str, today: date, since_seq: int | None = None,
             names: dict[str, str] | None = None, until_seq: int | None = None) -> dict[str, Any]:
    """``records``: the region's records of ``KINDS`` — of institutions, at least the unfiled ones
    (the lists name the others from ``names``, institution id → name, when given)."""
    day, week, fortnight = today.isoformat(), (today + timedelta(days=HAZARD_DAYS)).isoformat(), (today + timedelta(days=HANDLING_DAYS)).isoformat()
    horizon, since_day = (today + timedelta(days=ENDING_DAYS)).isoformat(), (today - timedelta(days=SCHEDULER_DAYS)).isoformat()
    overdue, due_soon, unordered, unfiled = [], [], [], []
    defence, publicity, to_conduct, to_publish, ending, scheduler = [], [], [], [], [], []
    records = list(records)
    names = {**institution_names(records), **(names or {})}
    for record in records:
        state = state_on(record, day)
        if state is None or not (state.get("region_code") or "").startswith(region_prefix):
            continue
        for mark in _scheduled(record, since_seq, since_day, until_seq):
            scheduler.append(_base(record, record["state"], names) | mark)
        if (row := _defence(record, state, day)) is not None:
            defence.append(_base(record, state, names) | row)
        if (row := _ending(record, state, day, horizon)) is not None:
            ending.append(_base(record, state, names) | row)
        if record["kind"] == "GradingApplication" and state["status"] == grading.IN_PUBLICITY:
            pending = sum(1 for o in state.get("objections") or () if not o.get("handled_on"))
            publicity.append(_base(record, state, names) | {"level": state.get("approved_level"), "started_on": state["publicity_started_on"],
                                                            "ends_on": state["publicity_ends_on"], "objections_pending": pending})
        if record["kind"] == "Inspection" and state["status"] in (inspections.SCHEDULED, inspections.CONDUCTED):
            row = _base(record, state, names) | {"inspection_kind": inspections.KIND_NAMES.get(state["kind"], state["kind"]),
                                                 "scheduled_on": state.get("scheduled_on"), "conducted_on": state.get("conducted_on"),
                                                 "departments": list(state["departments"])}
            (to_conduct if state["status"] == inspections.SCHEDULED else to_publish).append(row)
        if record["kind"] == "Hazard" and state["status"] != CLOSED:
            row = hazard_row(record["id"], state) | {"institution_name": names.get(state["institution_id"], "")}
            deadline = state.get("deadline")
            if deadline and not state.get("rectified_on") and deadline < day:
                overdue.append(row)
            elif deadline and not state.get("rectified_on") and deadline <= week:
                due_soon.append(row)
            elif not deadline and not state.get("rectified_on"):
                unordered.append(row)
        elif record["kind"] == "Institution" and state["status"] == DISCOVERED:
            deadline = handling_deadline(state)
            if deadline and deadline <= fortnight:
                unfiled.append({"institution_id": record["id"], "name": state["profile"]["name"], "region_code": state["region_code"],
                                "region_name": full_name(state["region_code"]), "handling_deadline": deadline, "overdue": deadline < day})
    key = lambda r: (r.get("deadline") or r.get("identified_on") or "", r["region_code"], r["hazard_id"])  # noqa: E731
    return {
        "region": region_prefix, "as_of": day,
        "hazards_overdue": sorted(overdue, key=key), "hazards_due_soon": sorted(due_soon, key=key),
        "hazards_without_order": sorted(unordered, key=key),
        "unfiled_handling": sorted(unfiled, key=lambda r: (r["handling_deadline"], r["region_code"], r["institution_id"])),
        "defence_windows": sorted(defence, key=lambda r: (not r["open"], r["deadline"], r["record_id"])),
        "publicity_running": sorted(publicity, key=lambda r: (r["ends_on"], r["record_id"])),
        "inspections_to_conduct": sorted(to_conduct, key=lambda r: (r["scheduled_on"] or "", r["record_id"])),
        "results_to_publish": sorted(to_publish, key=lambda r: (r["conducted_on"] or "", r["record_id"])),
        "ending_soon": sorted(ending, key=lambda r: (r["ends_on"], r["record_id"])),
        "scheduler_recorded": sorted(scheduler, key=lambda r: -r["seq"]),
        "scheduler_since": {"seq": since_seq} if since_seq is not None else {"day": since_day},
    }
