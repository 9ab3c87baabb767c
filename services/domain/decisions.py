"""What a command's rules see (``Context``) and what they decide (``Decision``).

A rule function takes a Context and returns a Decision or raises a DomainError; it never touches
storage. Operations (services/domain/operations.py) pair each rule function with the aggregate
method that records its event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from services.domain.actors import Actor
from services.domain.rules import RULES, RuleTable


@dataclass(frozen=True)
class Decision:
    """The event payload, its legal date, the rules that judged it, and any identifiers it binds
    to one institution for good (``claims``: (kind, value) pairs)."""

    payload: dict[str, Any]
    occurred_at: str
    rule_version: str
    claims: tuple[tuple[str, str], ...] = ()


class Lookup(Protocol):
    """Read access the rules may have to the rest of the ledger."""

    def aggregate(self, cls: type, aggregate_id: UUID) -> Any: ...

    def standing(self, institution_id: str) -> Any: ...

    def institutions_in(self, region_code: str) -> list[str]: ...

    def records_with(self, event_types: tuple[str, ...]) -> list[Any]: ...

    def draw_seed(self, nonce: str) -> str: ...


@dataclass(frozen=True)
class Context:
    request: dict[str, Any]
    actor: Actor
    today: date
    target: Any | None = None
    lookup: Lookup | None = None
    rules: RuleTable = field(default=RULES)
    # A decision taken before the ledger, imported from an existing register by an officer whose
    # jurisdiction covers it: competence is judged by department and region, not by level.
    imported: bool = False
