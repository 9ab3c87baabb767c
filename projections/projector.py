"""The search projector: folds the feed into institution documents and enforcement records.

It is idempotent: each document carries the seq of the last event that changed it and older or
equal writes are refused by the index, so a crash between writing documents and writing the
position, a duplicate delivery or a full replay leaves every document exactly as one pass would.
"""

from __future__ import annotations

import threading
from typing import Any

from events.envelope import ChainBroken
from projections.enforcement_record import is_record, marked, record_of
from projections.feed import EventFeed
from projections.institution_document import applies_to, fold
from projections.search.index import SearchIndex

MARKING = ("DecisionCorrected", "DecisionRetracted")


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
            institutions: dict[str, dict[str, Any]] = self.index.get_many(sorted({e["institution_id"] for e in fresh if e["institution_id"]}))
            named = sorted({e["payload"]["original_event_id"] for e in fresh if e["event_type"] in MARKING})
            records: dict[str, dict[str, Any]] = self.index.get_records(named) if named else {}
            changed_docs: dict[str, dict[str, Any]] = {}
            changed_records: dict[str, dict[str, Any]] = {}
            for envelope in fresh:
                if envelope["seq"] != seq + 1 or envelope["prev_hash"] != prev_hash:
                    raise ChainBroken(seq + 1, f"feed delivered seq {envelope['seq']} out of chain")
                seq, prev_hash = envelope["seq"], envelope["hash"]
                if applies_to(envelope):
                    doc = institutions.get(envelope["institution_id"])
                    related_first = doc is None and envelope["aggregate_type"] != "Institution"
                    if not related_first and (doc is None or doc["seq"] < envelope["seq"]):
                        doc = fold(doc, envelope)
                        institutions[doc["id"]] = changed_docs[doc["id"]] = doc
                if is_record(envelope):
                    record = record_of(envelope, institutions.get(envelope["institution_id"] or ""))
                    records[record["id"]] = changed_records[record["id"]] = record
                    if envelope["event_type"] in MARKING:
                        original = records.get(envelope["payload"]["original_event_id"])
                        if original is not None and original["version"] < envelope["seq"]:
                            original = marked(original, envelope)
                            records[original["id"]] = changed_records[original["id"]] = original
            self.index.upsert(
                list(changed_docs.values()), {"seq": seq, "cursor": batch.cursor, "hash": prev_hash}, list(changed_records.values())
            )
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
