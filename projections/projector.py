"""The projector: folds the feed into the record-state projection (every record's state, by
``events.record_kinds.advance``), and from the record states into institution documents; and one
enforcement record per decision, for the cross-department search.

It is idempotent: each state and document carries the seq of the last event that changed it, an
event a state already holds is not applied again, and older or equal writes are refused by the
index, so a crash between writing and writing the position, a duplicate delivery or a full replay
leaves everything exactly as one pass would.

It folds only the chain: the event after its position, whose prev_hash is the hash it holds.
Anything else the feed delivers: a message for a seq older than its position is skipped (it holds
only the latest hash; reconciliation compares the topic with the ledger seq by seq); a message
that is unreadable, altered, a different event for the seq it holds, or out of chain is *poison*: with a dead-letter sink (the cluster
profile) it is copied there with an alert and projection goes on; without one (the embedded
profile reads the local sealed log, where such a thing means the ledger itself is damaged) the
projector stops with the seq named.
"""

from __future__ import annotations

import threading
from typing import Any

from events.canonical import canonical_json
from events.envelope import ChainBroken
from projections.dead_letters import DeadLetterSink
from projections.enforcement_record import is_record, marked, record_of
from projections.feed import EventFeed
from projections.institution_document import applies_to, follow
from projections.record_states import apply, is_record_event
from projections.search.index import SearchIndex

MARKING = ("DecisionCorrected", "DecisionRetracted")


class SearchProjector:
    def __init__(self, feed: EventFeed, index: SearchIndex, *, batch_size: int = 500, dead_letters: DeadLetterSink | None = None) -> None:
        self.feed = feed
        self.index = index
        self.batch_size = batch_size
        self.dead_letters = dead_letters
        self._lock = threading.Lock()

    def _poison(self, value: bytes, *, key: bytes | None, reason: str, offset: int | None, seq: int | None, expected: int) -> None:
        if self.dead_letters is None:
            raise ChainBroken(seq if seq is not None else expected, reason)
        self.dead_letters.send(value, key=key, reason=reason, offset=offset, seq=seq)

    def run_once(self) -> int:
        """Project one batch; return how many envelopes the feed delivered."""
        with self._lock:
            position = self.index.position()
            batch = self.feed.read(position["cursor"], self.batch_size)
            if not batch.envelopes and not batch.rejected:
                return 0
            seq, prev_hash = position["seq"], position["hash"]
            fresh = [e for e in batch.envelopes if e["seq"] > seq]
            states = self.index.get_states(sorted({e["aggregate_id"] for e in fresh if is_record_event(e)}))
            institutions: dict[str, dict[str, Any]] = self.index.get_many(sorted({e["institution_id"] for e in fresh if e.get("institution_id")}))
            named = sorted({e["payload"]["original_event_id"] for e in fresh
                            if e.get("event_type") in MARKING and isinstance(e.get("payload"), dict) and "original_event_id" in e["payload"]})
            records: dict[str, dict[str, Any]] = self.index.get_records(named) if named else {}
            changed_states: dict[str, dict[str, Any]] = {}
            changed_docs: dict[str, dict[str, Any]] = {}
            changed_records: dict[str, dict[str, Any]] = {}
            offsets = batch.offsets or [None] * len(batch.envelopes)
            delivered = [(r.offset, None, r) for r in batch.rejected] + [(o, e, None) for e, o in zip(batch.envelopes, offsets, strict=True)]
            if batch.rejected:
                delivered.sort(key=lambda item: item[0])  # in topic order
            for offset, envelope, rejected in delivered:
                if rejected is not None:
                    self._poison(rejected.value, key=rejected.key, reason=rejected.reason, offset=rejected.offset,
                                 seq=rejected.seq, expected=seq + 1)
                    continue
                if envelope["seq"] < seq or (envelope["seq"] == seq and envelope["hash"] == prev_hash):
                    continue  # a copy of what is projected already: idempotent
                if envelope["seq"] != seq + 1 or envelope.get("prev_hash") != prev_hash:
                    reason = (f"a second, different event for seq {envelope['seq']}" if envelope["seq"] == seq
                              else f"out of chain: seq {envelope['seq']} where seq {seq + 1} (after hash {prev_hash[:12]}…) belongs")
                    key = envelope["institution_id"].encode() if envelope.get("institution_id") else None
                    self._poison(canonical_json(envelope), key=key, reason=reason, offset=offset, seq=envelope["seq"], expected=seq + 1)
                    continue
                seq, prev_hash = envelope["seq"], envelope["hash"]
                state = apply(states, envelope)
                if state is not None:
                    changed_states[state["id"]] = state
                if state is not None and applies_to(envelope):
                    doc = follow(institutions.get(envelope["institution_id"]), state, envelope)
                    if doc is not None:
                        institutions[doc["id"]] = changed_docs[doc["id"]] = doc
                if is_record(envelope):
                    record = record_of(envelope, institutions.get(envelope["institution_id"] or ""))
                    records[record["id"]] = changed_records[record["id"]] = record
                    if envelope["event_type"] in MARKING:
                        original = records.get(envelope["payload"]["original_event_id"])
                        if original is not None and original["version"] < envelope["seq"] and state is not None:
                            original = marked(original, envelope, state)
                            records[original["id"]] = changed_records[original["id"]] = original
            if self.dead_letters is not None:
                self.dead_letters.flush()  # dead letters are out before the cursor moves past them
            self.index.upsert(
                list(changed_docs.values()), {"seq": seq, "cursor": batch.cursor, "hash": prev_hash}, list(changed_records.values()),
                list(changed_states.values()),
            )
            return len(batch.envelopes) + len(batch.rejected)

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
