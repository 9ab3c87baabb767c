"""The search projector: folds the feed into institution documents in a SearchIndex.

It is idempotent: each document carries the seq of the last event folded into it and events at or
below it are skipped, so a crash between writing documents and writing the position, a duplicate
delivery or a full replay leaves every document exactly as one pass would.
"""

from __future__ import annotations

import threading
from typing import Any

from events.envelope import ChainBroken
from projections.feed import EventFeed
from projections.institution_document import applies_to, fold
from projections.search.index import SearchIndex


class SearchProjector:
    def __init__(self, feed: EventFeed, index: SearchIndex, *, batch_size: int = 500) -> None:
        self.feed = feed
        self.index = index
        self.batch_size = batch_size
        self._lock = threading.Lock()

    def run_once(self) -> int:
        """Project one batch; return how many envelopes the feed delivered."""
        with self._lock:
            position = self.index.position()
            batch = self.feed.read(position["cursor"], self.batch_size)
            if not batch.envelopes:
                return 0
            seq, prev_hash = position["seq"], position["hash"]
            fresh = [e for e in batch.envelopes if e["seq"] > seq]
            ids = sorted({e["institution_id"] for e in fresh if applies_to(e)})
            current: dict[str, dict[str, Any]] = self.index.get_many(ids)
            changed: dict[str, dict[str, Any]] = {}
            for envelope in fresh:
                if envelope["seq"] != seq + 1 or envelope["prev_hash"] != prev_hash:
                    raise ChainBroken(seq + 1, f"feed delivered seq {envelope['seq']} out of chain")
                seq, prev_hash = envelope["seq"], envelope["hash"]
                if not applies_to(envelope):
                    continue
                doc = current.get(envelope["institution_id"])
                if doc is not None and doc["seq"] >= envelope["seq"]:
                    continue
                doc = fold(doc, envelope)
                current[doc["id"]] = changed[doc["id"]] = doc
            self.index.upsert(list(changed.values()), {"seq": seq, "cursor": batch.cursor, "hash": prev_hash})
            return len(batch.envelopes)

    def catch_up(self) -> int:
        total = 0
        while True:
            n = self.run_once()
            if n == 0:
                return total
            total += n

    def run_forever(self, stop: threading.Event, idle_seconds: float = 0.2) -> None:
        while not stop.is_set():
            if self.run_once() == 0:
                stop.wait(idle_seconds)
