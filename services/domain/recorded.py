"""What every ledger event records besides the library's id, version and timestamp, and the base
class of every ledger aggregate.

Each event class names its catalogue type (``EVENT_TYPE``); the catalogue, not the class, is the
published description of its payload. ``unsealed_envelope`` turns a stored event into the envelope
the sealer chains; it is the only place that mapping exists. Applying any event first remembers
its idempotency key on the aggregate, then lets the event class ``evolve`` the aggregate's state.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from events.catalogue import EventType
from events.corrections import DECISION_CORRECTED, DECISION_RETRACTED
from services.domain.errors import Conflict

BOOKKEEPING = ("commands", "event_ids", "history", "corrections")
RETRACTED = "retracted"


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

    @classmethod
    def aggregate_type(cls) -> str:
        """The record kind, from the aggregate the event class is nested in (Hazard.Identified →
        Hazard); corrections and retractions are nested in every kind of record."""
        return cls.__qualname__.split(".")[0]

    def institution_id(self) -> str | None:
        if self.payload.get("institution_id"):
            return self.payload["institution_id"]
        if self.aggregate_type() == "Institution":
            return str(self.originator_id)  # type: ignore[attr-defined]
        return None

    def unsealed_envelope(self) -> dict[str, Any]:
        event_type = self.EVENT_TYPE
        return {
            "event_id": self.event_id,
            "event_type": event_type.name,
            "schema_version": event_type.version,
            "aggregate_type": self.aggregate_type(),
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
    """Base of every ledger aggregate. It remembers the idempotency keys it has acted on (each with
    the digest of its request) in ``commands``, the ids of its events in ``event_ids``, and for each
    decision still standing the state before it in ``history`` — which is what lets a retraction
    return the record to where it was."""

    class Corrected(Recorded, Aggregate.Event):
        EVENT_TYPE = DECISION_CORRECTED

        def evolve(self, aggregate: LedgerAggregate) -> None:
            aggregate.corrections.append(self.payload["original_event_id"])
            aggregate.correct(self.payload["original_event_type"], self.payload["corrected"])

    class Retracted(Recorded, Aggregate.Event):
        EVENT_TYPE = DECISION_RETRACTED

        def evolve(self, aggregate: LedgerAggregate) -> None:
            event_id, _, _, before = aggregate.history.pop()
            assert event_id == self.payload["original_event_id"], "only the latest decision is retracted"
            if not aggregate.history:  # the record's first decision: the record itself is retracted
                aggregate.status = RETRACTED
                return
            for key in [k for k in vars(aggregate) if not k.startswith("_") and k not in BOOKKEEPING]:
                delattr(aggregate, key)
            for key, value in before.items():
                setattr(aggregate, key, value)

    def remember(self, event: Recorded) -> None:
        if not hasattr(self, "commands"):
            self.commands: dict[str, str] = {}
            self.event_ids: list[str] = []
            self.history: list[tuple[str, str, str, dict[str, Any]]] = []
            self.corrections: list[str] = []
        if event.command_id:
            self.commands[event.command_id] = event.request_digest or ""
        self.event_ids.append(event.event_id)
        if not isinstance(event, (LedgerAggregate.Corrected, LedgerAggregate.Retracted)):
            state = {k: copy.deepcopy(v) for k, v in vars(self).items() if not k.startswith("_") and k not in BOOKKEEPING}
            self.history.append((event.event_id, event.EVENT_TYPE.name, event.actor["department"], state))

    def correct(self, event_type: str, fields: dict[str, Any]) -> None:
        """Apply corrected fields of an earlier decision to the state; records that keep a profile
        take them there, others say which of their state fields a correction may change."""
        if hasattr(self, "profile"):
            self.profile.update(fields)

    def decision(self, event_id: str) -> tuple[str, str] | None:
        """(event type, deciding department) of a decision still standing on this record."""
        for entry_id, event_type, department, _ in self.history:
            if entry_id == event_id:
                return event_type, department
        return None

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
