"""Reconciliation: the event store, Kafka, the search index and the published site must tell the
same story. Each part is summarised (count, last seq, checksum) and compared with the sealed log;
every disagreement is reported with the seq or document concerned.

- store: the eventsourcing notification log against the sealed log (same count; each sealed
  envelope is what sealing the stored event gives, so an edit of the event store after sealing is
  found at its seq), and each sealed row's index columns against its envelope;
- Kafka: the topic against the sealed log, seq by seq (missing, duplicated, different hash; a
  tail not yet relayed is lag, not loss, and reported as such);
- search index: every record state, institution document and enforcement record it holds against
  the ones a fresh fold of the sealed log (up to the index's position) makes, by SHA-256;
- site: the published snapshot's cut against the ledger, and its content against a fresh replay.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from events.canonical import loads
from events.envelope import GENESIS_HASH, ChainBroken, event_hash
from projections.memory_store import MemoryIndex
from projections.projector import SearchProjector
from services.audit.replay import digest, lists_as_of, store_envelopes
from services.ledger.sealed_log import SealedLog


@dataclass(frozen=True)
class Disagreement:
    part: str  # store | kafka | index | site
    subject: str  # "seq 42", "institution <id>", "record <id>"
    seq: int | None
    problem: str


@dataclass
class Reconciliation:
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    disagreements: list[Disagreement] = field(default_factory=list)

    def add(self, part: str, subject: str, seq: int | None, problem: str) -> None:
        self.disagreements.append(Disagreement(part, subject, seq, problem))

    @property
    def agree(self) -> bool:
        return not self.disagreements

    def as_dict(self) -> dict[str, Any]:
        return {
            "agree": self.agree,
            "summaries": self.summaries,
            "disagreements": [d.__dict__ for d in self.disagreements],
        }


def document_checksum(document: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _ledger_summary(log: SealedLog) -> dict[str, Any]:
    head = log.head()
    return {"count": head.seq, "last_seq": head.seq, "last_hash": head.hash}


def check_store(log: SealedLog, result: Reconciliation, *, app: Any | None = None, seal: Any | None = None) -> dict[int, str]:
    """The sealed log's own consistency, and (given the eventsourcing application and the sealing
    function) its agreement with the event store. Returns seq -> hash."""
    hashes: dict[int, str] = {}
    previous, expected = GENESIS_HASH, 1
    rows = log.db.rows(
        "SELECT seq, notification_id, event_type, aggregate_id, aggregate_version, hash, envelope FROM sealed_log ORDER BY seq"
    )
    notifications = {}
    if app is not None:
        start = 0
        while batch := app.recorder.select_notifications(start=start, limit=5000, inclusive_of_start=False):
            notifications.update({n.id: n for n in batch})
            start = batch[-1].id
    for seq, nid, event_type, aggregate_id, version, stored_hash, raw in rows:
        try:
            envelope = loads(bytes(raw))
        except ValueError:
            result.add("store", f"seq {seq}", seq, "the sealed envelope is not JSON any more")
            expected, previous = seq + 1, stored_hash
            continue
        if seq != expected:
            result.add("store", f"seq {expected}", expected, f"sealed log jumps to seq {seq}")
        expected = seq + 1
        if (envelope["seq"], envelope["event_type"], envelope["aggregate_id"], envelope["aggregate_version"], envelope["hash"]) != (
            seq, event_type, aggregate_id, version, stored_hash
        ):
            result.add("store", f"seq {seq}", seq, "the sealed row's columns differ from its envelope")
        if event_hash(envelope) != envelope["hash"]:
            result.add("store", f"seq {seq}", seq, "the envelope does not hash to its hash")
        elif envelope["prev_hash"] != previous:
            result.add("store", f"seq {seq}", seq, "prev_hash is not the previous event's hash")
        if app is not None and seal is not None:
            notification = notifications.pop(nid, None)
            if notification is None:
                result.add("store", f"seq {seq}", seq, f"the event store has no notification {nid}")
            else:
                resealed = seal(app.mapper.to_domain_event(notification).unsealed_envelope(), seq, envelope["prev_hash"])
                if resealed["hash"] != envelope["hash"]:
                    result.add("store", f"seq {seq}", seq, "the event store's event differs from the one sealed")
        hashes[seq] = envelope["hash"]
        previous = envelope["hash"]
    if app is not None:
        for nid in sorted(notifications):
            result.add("store", f"notification {nid}", None, "stored but not sealed yet")
    result.summaries["store"] = _ledger_summary(log) | {
        "notifications": None if app is None else len(rows) + len(notifications),
        "checksum": hashlib.sha256("".join(hashes[s] for s in sorted(hashes)).encode()).hexdigest(),
    }
    return hashes


def check_kafka(envelopes: Iterable[dict[str, Any]], hashes: dict[int, str], result: Reconciliation) -> None:
    seen: dict[int, str] = {}
    count, last = 0, 0
    for envelope in envelopes:
        count += 1
        seq = envelope["seq"]
        if seq in seen:
            result.add("kafka", f"seq {seq}", seq, "delivered more than once" if envelope["hash"] == seen[seq]
                       else "a second, different message for this seq; its hash differs from the ledger's")
            continue
        seen[seq] = envelope["hash"]
        last = max(last, seq)
        if seq not in hashes:
            result.add("kafka", f"seq {seq}", seq, "in Kafka but not in the ledger")
        elif hashes[seq] != envelope["hash"]:
            result.add("kafka", f"seq {seq}", seq, "hash differs from the ledger's")
    head = max(hashes, default=0)
    missing = [s for s in range(1, last + 1) if s not in seen]
    for seq in missing:
        result.add("kafka", f"seq {seq}", seq, "missing from the topic")
    lag = head - last
    result.summaries["kafka"] = {
        "count": count, "last_seq": last, "lag": lag,
        "checksum": hashlib.sha256("".join(seen[s] for s in sorted(seen)).encode()).hexdigest(),
    }


class _LogFeed:
    def __init__(self, log: SealedLog, up_to_seq: int) -> None:
        self.log, self.up_to_seq = log, up_to_seq

    def read(self, cursor: int, limit: int):
        from projections.feed import FeedBatch

        records = self.log.read(after_seq=cursor, limit=limit, up_to_seq=self.up_to_seq)
        envelopes = [r.envelope for r in records]
        return FeedBatch(envelopes, envelopes[-1]["seq"] if envelopes else cursor)


def check_index(log: SealedLog, index_documents: Iterator[tuple[str, str, dict[str, Any]]], position: dict[str, Any],
                result: Reconciliation) -> None:
    """``index_documents`` yields (kind, id, document) for every document the index holds."""
    seq = position["seq"]
    expected_hash = log.hashes(seq - 1, 1)[0] if seq else GENESIS_HASH
    if position["hash"] != expected_hash:
        result.add("index", f"seq {seq}", seq, "the index's position names a hash the ledger does not have at that seq")
    folded = MemoryIndex()
    SearchProjector(_LogFeed(log, seq), folded, batch_size=5000).catch_up()  # type: ignore[arg-type]
    expected = {(kind, i): document_checksum(d) for kind, i, d in folded.documents()}
    held: dict[tuple[str, str], str] = {}
    for kind, doc_id, document in index_documents:
        held[(kind, doc_id)] = document_checksum(document)
    for key in sorted(expected.keys() | held.keys()):
        kind, doc_id = key
        if key not in held:
            result.add("index", f"{kind} {doc_id}", None, "missing from the index")
        elif key not in expected:
            result.add("index", f"{kind} {doc_id}", None, "in the index but not in the ledger")
        elif held[key] != expected[key]:
            result.add("index", f"{kind} {doc_id}", None, "document differs from what the ledger folds to")
    result.summaries["index"] = {
        "position_seq": seq, "lag": log.head().seq - seq,
        "institutions": sum(1 for k in held if k[0] == "institution"), "records": sum(1 for k in held if k[0] == "record"),
        "states": sum(1 for k in held if k[0] == "state"),
        "checksum": hashlib.sha256("".join(f"{k[0]}:{k[1]}:{held[k]}" for k in sorted(held)).encode()).hexdigest(),
    }


def check_snapshot(log: SealedLog, snapshot: dict[str, Any], result: Reconciliation) -> None:
    cut = snapshot["cut"]
    seq = cut["seq"]
    if seq > log.head().seq or (seq and log.hashes(seq - 1, 1)[0] != cut["hash"]):
        result.add("site", f"seq {seq}", seq, "the published snapshot's cut is not a position in the ledger")
        return
    replayed = lists_as_of(store_envelopes(log), seq)
    if digest(replayed) != digest(snapshot):
        for name in sorted(set(replayed["lists"]) | set(snapshot["lists"])):
            if replayed["lists"].get(name) != snapshot["lists"].get(name):
                result.add("site", f"list {name}", seq, "the published list differs from a replay of the ledger")
        for iid in sorted(set(replayed["institutions"]) | set(snapshot["institutions"])):
            if replayed["institutions"].get(iid) != snapshot["institutions"].get(iid):
                result.add("site", f"institution {iid}", seq, "the published page differs from a replay of the ledger")
        if not any(d.part == "site" for d in result.disagreements):
            result.add("site", f"seq {seq}", seq, "the published snapshot differs from a replay of the ledger")
    result.summaries["site"] = {"cut_seq": seq, "lag": log.head().seq - seq, "checksum": digest(snapshot)}


def reconcile(
    log: SealedLog, *, app: Any | None = None, seal: Any | None = None,
    kafka: Callable[[], Iterable[dict[str, Any]]] | None = None, index: Any | None = None,
    snapshot: Callable[[], dict[str, Any] | None] | None = None,
) -> Reconciliation:
    """Every part a deployment has against the sealed log: the event store (given the application
    and the sealing function), the Kafka topic (given a way to read it from the start), the search
    index (a SearchIndex) and the snapshot behind the latest publication (a loader)."""
    result = Reconciliation()
    hashes = check_store(log, result, app=app, seal=seal)
    if kafka is not None:
        try:
            check_kafka(kafka(), hashes, result)
        except ChainBroken as broken:  # a message whose content does not hash to its hash
            result.add("kafka", f"seq {broken.seq}", broken.seq, f"altered in the topic: {broken.reason}")
    if index is not None:
        for _ in range(3):  # a live projector may move the index while it is read: read it again
            before, attempt = index.position(), Reconciliation()
            check_index(log, index.documents(), before, attempt)
            if index.position() == before:
                break
        result.summaries["index"] = attempt.summaries["index"] | {"moved_while_read": index.position() != before}
        result.disagreements += attempt.disagreements
    if snapshot is not None:
        try:
            published = snapshot()
        except FileNotFoundError as missing:
            result.add("site", "latest publication", None, f"its disclosure snapshot is gone: {missing}")
        else:
            if published is not None:
                check_snapshot(log, published, result)
    return result
