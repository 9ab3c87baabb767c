"""Dead letters: messages on the ledger topic a projection must not fold — unreadable bytes, an
envelope that does not hash to its hash, one that does not continue the chain (a forged or
out-of-order seq), a second, different event for a seq already projected — are copied to
``<topic>.dead-letter`` with why, and the projection goes on with the next message. Each one
raises an alert: an ERROR line on the ``eldercare.alerts`` logger (structured JSON, for log-based
alerting); the dead-letter topic itself is the record of them.

The Kafka sink is ``services/feeds.KafkaDeadLetters``. The copy is sent and flushed before the projector's cursor moves past the message, so a crash
can at worst dead-letter the same message twice (each copy names its source offset), never lose
it. The topic itself is created by the relay, with the ledger topic's retention (forever).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Rejected:
    """A message the feed could not turn into a checked envelope."""

    offset: int
    key: bytes | None
    value: bytes
    reason: str
    seq: int | None = None


class DeadLetterSink(Protocol):
    def send(self, value: bytes, *, key: bytes | None, reason: str, offset: int | None, seq: int | None) -> None: ...

    def flush(self) -> None: ...


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dead-letter"
