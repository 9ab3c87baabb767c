"""What every ledger event records besides the library's id, version and timestamp, and the base
class of every ledger aggregate.

Each event class names its catalogue type (``EVENT_TYPE``); the catalogue, not the class, is the
published description of its payload. ``unsealed_envelope`` turns a stored event into the envelope
the sealer chains; it is the only place that mapping exists. Applying any event first remembers
its idempotency key on the aggregate, then lets the event class ``evolve`` the aggregate's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from events.catalogue import EventType
from services.domain.errors import Conflict


@dataclass(frozen=True)
class Recorded:
    EVENT_TYPE: ClassVar[EventType]

    event_id: str
    occurred_at: str
    actor: dict[str, str]
    basis: dict[str, str]
    rule_version: str
    command_id: str | None
    request_digest: str | None
    payload: dict[str, Any]

    def apply(self, aggregate: Any) -> None:
        aggregate.remember(self)
        self.evolve(aggregate)

    def evolve(self, aggregate: Any) -> None:
        """The state change this event makes; each event class says what it is."""

    def institution_id(self) -> str | None:
        if "institution_id" in self.payload:
            return self.payload["institution_id"]
        if self.EVENT_TYPE.aggregate_type == "Institution":
            return str(self.originator_id)  # type: ignore[attr-defined]
        return None

    def unsealed_envelope(self) -> dict[str, Any]:
        event_type = self.EVENT_TYPE
        return {
            "event_id": self.event_id,
            "event_type": event_type.name,
            "schema_version": event_type.version,
            "aggregate_type": event_type.aggregate_type,
            "aggregate_id": str(self.originator_id),  # type: ignore[attr-defined]
            "aggregate_version": self.originator_version,  # type: ignore[attr-defined]
            "institution_id": self.institution_id(),
            "occurred_at": self.occurred_at,
            "recorded_at": self.timestamp.isoformat(),  # type: ignore[attr-defined]
            "actor": self.actor,
            "basis": self.basis,
            "rule_version": self.rule_version,
            "command_id": self.command_id,
            "request_digest": self.request_digest,
            "payload": self.payload,
        }


class LedgerAggregate(Aggregate):
    """Base of every ledger aggregate: it remembers the idempotency keys it has acted on (each
    with the digest of its request) in ``commands`` and the ids of its events in ``event_ids``."""

    def remember(self, event: Recorded) -> None:
        if not hasattr(self, "commands"):
            self.commands: dict[str, str] = {}
            self.event_ids: list[str] = []
        if event.command_id:
            self.commands[event.command_id] = event.request_digest or ""
        self.event_ids.append(event.event_id)

    def already_did(self, command_id: str | None, digest: str) -> bool:
        """True if this exact request was already acted on; a key reused for another request is
        a conflict."""
        if command_id is None or command_id not in getattr(self, "commands", {}):
            return False
        if self.commands[command_id] != digest:
            raise key_reused()
        return True


def key_reused() -> Conflict:
    return Conflict(
        "IDEMPOTENCY_KEY_REUSED",
        "该幂等键（Idempotency-Key）已用于内容不同的请求，请为新请求使用新的幂等键",
        "this Idempotency-Key was already used for a different request; use a new key",
    )
