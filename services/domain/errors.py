"""Domain errors: each has a stable machine-readable code and a message in Chinese and English.

The API maps each ``kind`` to one HTTP status; the code and messages pass through unchanged.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    kind = "rejected"  # rejected | forbidden | not_found | conflict

    def __init__(self, code: str, message_zh: str, message_en: str, **details: Any) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.details = details


class RuleViolation(DomainError):
    """The command breaks a rule of the regulations (bad credit code, late filing, …)."""

    kind = "rejected"


class NotCompetent(DomainError):
    """The acting department, level or region has no competence for this decision."""

    kind = "forbidden"


class NotFound(DomainError):
    kind = "not_found"


class Conflict(DomainError):
    """The command conflicts with what is already recorded (duplicate, wrong state, reused key)."""

    kind = "conflict"
