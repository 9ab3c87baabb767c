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

import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from events.canonical import canonical_json
from events.envelope import ChainBroken
from projections.collector_pause import collector_paused
from projections.dead_letters import DeadLetterSink
from projections.enforcement_record import is_record, marked, record_of
from projections.feed import EventFeed, FeedBatch
from projections.institution_document import applies_to, follow
from projections.record_states import apply, is_record_event
from projections.search.index import SearchIndex

MARKING = ("DecisionCorrected", "DecisionRetracted")
log = logging.getLogger("eldercare.projector")
PUBLISH_EVERY_S = 1.0  # while catching up on a backlog: how often its position is published
RECENT_DOCUMENTS = 200_000  # of each kind, kept by the projector to spare reading them back


class Recent:
    """The documents this projector stored last, by kind and id (at most ``size`` of each, the
    oldest forgotten first): read from here instead of the index while the index is known to hold
    exactly what it was given — at the position the projector reached itself. The fold is
    deterministic, so what was stored is what the index holds for those ids at that position."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.docs: dict[str, dict[str, dict[str, Any]]] = {"states": {}, "institutions": {}, "records": {}}

    def get(self, kind: str, ids: list[str], fetch: Callable[[list[str]], dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
        held = self.docs[kind]
        found = {i: held[i] for i in ids if i in held}
        missing = [i for i in ids if i not in found]
        if missing:
            found.update(fetch(missing))
        return found

    def put(self, kind: str, docs: dict[str, dict[str, Any]]) -> None:
        held = self.docs[kind]
        for doc_id in docs.keys() & held.keys():  # stored again: the newest, so never forgotten before older ones
            del held[doc_id]
        held.update(docs)
        if len(held) > max(self.size, len(docs)):  # never what was just given: it may be in flight still
            for stale in list(itertools.islice(held, len(held) - max(self.size, len(docs)))):
                del held[stale]

    def clear(self) -> None:
        for held in self.docs.values():
            held.clear()


class SearchProjector:
    def __init__(self, feed: EventFeed, index: SearchIndex, *, batch_size: int = 5000, dead_letters: DeadLetterSink | None = None) -> None:
        self.feed = feed
        self.index = index
        self.batch_size = batch_size
        self.dead_letters = dead_letters
        self._lock = threading.Lock()
        self._recent = Recent(RECENT_DOCUMENTS)
        self._recent_at: dict[str, Any] | None = None  # the position at which _recent holds what the index holds

    def _poison(self, value: bytes, *, key: bytes | None, reason: str, offset: int | None, seq: int | None, expected: int) -> None:
        if self.dead_letters is None:
            raise ChainBroken(seq if seq is not None else expected, reason)
        self.dead_letters.send(value, key=key, reason=reason, offset=offset, seq=seq)

    def run_once(self) -> int:
        """Project one batch and publish the position it reaches; return how many envelopes the
        feed delivered."""
        with self._lock:
            position = self.index.position()
            n, _, _ = self._apply(position, self.feed.read(position["cursor"], self.batch_size), lambda full: True,
                                  self.index.upsert)
            return n

    def catch_up(self) -> int:
        """Project everything the feed holds; return how many envelopes it delivered.

        A backlog goes in full batches, three at a time in flight: the next one read from the feed
        (one reader thread: the feed is only ever used by one thread at a time) while this one is
        folded, and the one before it written (one writer thread, the batches' writes in order:
        a batch is written only once the one before it is stored, so a position is never stored
        before every write up to it, and a failed write stops the pass before the next).
        Their position is published (made searchable, then stored) about once a second and at the
        end, not with every batch, as the index's refresh is its dearest step."""
        with self._lock, ThreadPoolExecutor(1, thread_name_prefix="feed") as reader, \
                ThreadPoolExecutor(1, thread_name_prefix="index") as writer:
            position, total, unpublished = self.index.position(), 0, None
            published_at = time.monotonic()
            writing: list[Future[None]] = []

            def settle() -> None:  # the write in flight is in, or its failure raised here
                while writing:
                    writing.pop().result()

            def store(*args: Any) -> None:
                settle()
                writing.append(writer.submit(self.index.upsert, *args))

            def publish(full: bool) -> bool:
                return not full or time.monotonic() - published_at >= PUBLISH_EVERY_S

            try:
                batch = self.feed.read(position["cursor"], self.batch_size)
                while batch.envelopes or batch.rejected:
                    ahead = reader.submit(self.feed.read, batch.cursor, self.batch_size) if self._full(batch) else None
                    n, position, published = self._apply(position, batch, publish, store)  # a failure: the pools wait
                    following = ahead.result() if ahead is not None else None
                    total += n
                    if published:
                        unpublished, published_at = None, time.monotonic()
                    else:
                        unpublished = position
                    batch = following if following is not None else self.feed.read(position["cursor"], self.batch_size)
                settle()
            except BaseException:
                self._recent_at = None  # what is in flight may not be stored: read the index afresh next time
                for write in writing:  # it ends before the pool does; should it fail too, that is told, not lost
                    if (failed := write.exception()) is not None:
                        log.error("a batch's write failed while the next was folded: %r", failed)
                raise
            if unpublished is not None:
                self.index.upsert([], unpublished)
            return total

    def _full(self, batch: FeedBatch) -> bool:
        return len(batch.envelopes) + len(batch.rejected) >= self.batch_size

    @collector_paused()
    def _apply(self, position: dict[str, Any], batch: FeedBatch, publish: Callable[[bool], bool],
               store: Callable[..., None]) -> tuple[int, dict[str, Any], bool]:
        """Fold ``batch`` (read after ``position``) and ``store`` what it changed (the index's
        ``upsert`` arguments); ``publish(full)`` says whether its position is published with it.
        Returns (envelopes delivered, position reached, whether published).

        A write may still be in flight (``catch_up``): every document it holds is in ``Recent``
        (which never forgets the last batch it was given), so what is read back from the index are
        documents that write does not touch."""
        delivered_n = len(batch.envelopes) + len(batch.rejected)
        if not delivered_n:
            return 0, position, False
        if position != self._recent_at:  # the index moved on (or back) without us: read it afresh
            self._recent.clear()
        self._recent_at = None  # until this batch is stored
        seq, prev_hash = position["seq"], position["hash"]
        fresh = [e for e in batch.envelopes if e["seq"] > seq]
        recent = self._recent
        states = recent.get("states", sorted({e["aggregate_id"] for e in fresh if is_record_event(e)}), self.index.get_states)
        institutions = recent.get("institutions", sorted({e["institution_id"] for e in fresh if e.get("institution_id")}),
                                  self.index.get_many)
        named = sorted({e["payload"]["original_event_id"] for e in fresh
                        if e.get("event_type") in MARKING and isinstance(e.get("payload"), dict) and "original_event_id" in e["payload"]})
        records = recent.get("records", named, self.index.get_records) if named else {}
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
        reached = {"seq": seq, "cursor": batch.cursor, "hash": prev_hash}
        published = publish(self._full(batch))
        store(list(changed_docs.values()), reached if published else None, list(changed_records.values()),
              list(changed_states.values()))
        recent.put("states", changed_states)
        recent.put("institutions", changed_docs)
        recent.put("records", changed_records)
        self._recent_at = reached
        return delivered_n, reached, published

    def run_forever(self, stop: threading.Event, idle_seconds: float = 0.2, min_pass_seconds: float = 0.0) -> None:
        """Project until stopped: after an empty pass wait ``idle_seconds``; after a pass that
        projected, let at least ``min_pass_seconds`` pass from its start before the next, so that a
        steady trickle of decisions is published (each publication a refresh of every index) a
        bounded number of times a second, not once per decision."""
        while not stop.is_set():
            started = time.monotonic()
            if self.catch_up() == 0:
                stop.wait(idle_seconds)
            else:
                stop.wait(max(0.0, min_pass_seconds - (time.monotonic() - started)))
