"""Event feeds: where projections read sealed envelopes from, in seq order — the port. The
adapters (the sealed log beside the event store, the ledger's Kafka topic) are transport and live
in ``services/feeds.py``.

A feed is read from a *cursor* it defines (the seq for the sealed log, the next offset for Kafka);
projectors store the cursor with their position so a restart resumes where it stopped. Each feed
checks every envelope's hash against its content; the projector checks that the envelopes continue
the chain (seq and prev_hash), so an altered, dropped or reordered event stops the projection with
the seq named instead of being folded into a read model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from events.envelope import ChainBroken, event_hash
from projections.dead_letters import Rejected


@dataclass(frozen=True)
class FeedBatch:
    envelopes: list[dict[str, Any]]
    cursor: int
    rejected: list[Rejected] = field(default_factory=list)  # messages that are no checked envelope (Kafka only)
    offsets: list[int] = field(default_factory=list)  # where each envelope was read (Kafka only)


class EventFeed(Protocol):
    name: str  # which feed: a cursor means something only to the feed it came from

    def read(self, cursor: int, limit: int) -> FeedBatch:
        """Envelopes after ``cursor`` (at most ``limit``) and the cursor after the last of them."""

    def iterate(self, cursor: int = 0, *, positioned: bool = False) -> Iterator[Any]:
        """Every envelope after ``cursor`` up to the end of the feed as it is when called;
        ``positioned``: each as (envelope, the cursor to read it again from)."""

    def close(self) -> None: ...


def check_envelope(envelope: dict[str, Any]) -> None:
    if event_hash(envelope) != envelope["hash"]:
        raise ChainBroken(envelope["seq"], "hash does not match the envelope's content")
