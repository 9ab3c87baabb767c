"""What every ledger event records besides the library's id, version and timestamp.

Each event class names its catalogue type (``EVENT_TYPE``); the catalogue, not the class, is the
published description of its payload. ``unsealed_envelope`` turns a stored event into the envelope
the sealer chains; it is the only place that mapping exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from events.catalogue import EventType


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

    def institution_id(self) -> str | None:
        return str(self.originator_id)  # type: ignore[attr-defined]

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
