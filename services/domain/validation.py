"""Checks every rule function shares: the request against the catalogue, and dates against today."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from events.catalogue import Field, Problem, problems_in
from services.domain.errors import RuleViolation


def reject_shape(problems: list[Problem]) -> None:
    if problems:
        first = problems[0]
        raise RuleViolation(
            "PAYLOAD_INVALID",
            f"{first.path}：{first.message_zh}",
            f"{first.path} {first.message_en}",
            problems=[{"path": p.path, "message_zh": p.message_zh, "message_en": p.message_en} for p in problems],
        )


def check_shape(fields: tuple[Field, ...], request: dict[str, Any], computed: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
    """The request holds exactly the event's fields less those the ledger computes (``optional``:
    those the rules may fill in from the rule table when the request leaves them out)."""
    supplied = [name for name in computed if name in request]
    if supplied:
        raise RuleViolation(
            "PAYLOAD_INVALID",
            f"以下字段由系统计算，不能由请求提供：{', '.join(supplied)}",
            f"these fields are computed by the ledger and may not be supplied: {', '.join(supplied)}",
            fields=supplied,
        )
    reject_shape(problems_in(tuple(replace(f, required=False) if f.name in optional else f for f in fields if f.name not in computed),
                             request))


def not_after_today(day: date, today: date, field: str) -> None:
    if day > today:
        raise RuleViolation(
            "DATE_IN_FUTURE",
            f"{field} 不能晚于今天（{today.isoformat()}）",
            f"{field} may not be later than today ({today.isoformat()})",
            field=field,
        )


def day_of(ctx: Any, field: str) -> date:
    """The request's date ``field``, which may not lie after the ledger's today."""
    day = date.fromisoformat(ctx.request[field])
    not_after_today(day, ctx.today, field)
    return day
