"""Replay: the state of an institution, or of every public list, as of any seq or moment, folded
from the sealed events up to that point — from the event store's sealed log or from the Kafka
topic, which must agree.

"As of" a moment means as the ledger knew it then: events *recorded* at or before it. Each event
also carries ``occurred_at`` (when the decision was taken), shown in histories; a decision recorded
late changes the state from its recording on, and the history says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from events.canonical import canonical_json
from events.envelope import ChainBroken
from events.visibility import view
from projections.disclosure import snapshot_at
from projections.institution_document import FIELDS, applies_to, follow
from projections.record_states import apply
from services.ledger.sealed_log import SealedLog


class NotInLedger(LookupError):
    pass


def resolve_seq(log: SealedLog, *, seq: int | None = None, at: str | None = None) -> int:
    """The ledger position a query asks for: a seq, the last seq recorded at or before ``at``,
    or (neither) the head."""
    head = log.head().seq
    if seq is not None:
        if not 0 <= seq <= head:
            raise NotInLedger(f"seq {seq} is not in the ledger (head {head})")
        return seq
    if at is not None:
        return log.seq_before(at)
    return head


def institution_as_of(log: SealedLog, institution_id: str, seq: int) -> dict[str, Any] | None:
    """The institution's full document (restricted fields included) as of ``seq``, folded the way
    the projector folds it; None if the ledger did not know it yet."""
    states: dict[str, dict[str, Any]] = {}
    document = None
    for envelope in log.of_institution(institution_id, up_to_seq=seq):
        state = apply(states, envelope)
        if state is not None and applies_to(envelope):
            document = follow(document, state, envelope)
    return None if document is None else view(FIELDS, document, full=True)


class SourceBehind(LookupError):
    """A source (e.g. the Kafka topic, before the relay caught up) ends before the seq asked for."""

    def __init__(self, last_seq: int, wanted: int) -> None:
        super().__init__(f"ends at seq {last_seq}; seq {last_seq + 1}…{wanted} are not there (yet)")
        self.last_seq = last_seq


def checked(envelopes: Iterable[dict[str, Any]], up_to_seq: int) -> Iterator[dict[str, Any]]:
    """The envelopes up to ``up_to_seq``, refusing any gap or reordering (with the seq named) and
    a source that ends before ``up_to_seq``."""
    expected = 1
    for envelope in envelopes:
        if envelope["seq"] > up_to_seq:
            return
        if envelope["seq"] < expected:
            raise ChainBroken(envelope["seq"], f"seq {envelope['seq']} appears again after seq {expected - 1}")
        if envelope["seq"] > expected:
            raise ChainBroken(expected, f"missing: found seq {envelope['seq']} where seq {expected} belongs")
        expected += 1
        yield envelope
    if expected - 1 < up_to_seq:
        raise SourceBehind(expected - 1, up_to_seq)


def lists_as_of(envelopes: Iterable[dict[str, Any]], seq: int) -> dict[str, Any]:
    """The disclosure snapshot (every public list, page and timeline) as of ``seq``."""
    return snapshot_at(checked(envelopes, seq), up_to_seq=seq)


def digest(value: Any) -> str:
    """SHA-256 of a state's canonical JSON: two replays agree iff their digests do."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def store_envelopes(log: SealedLog) -> Iterator[dict[str, Any]]:
    for record in log.iterate(batch=5000):
        yield record.envelope


def kafka_envelopes(bootstrap: str, topic: str) -> Iterator[dict[str, Any]]:
    """The ledger topic from its first offset to its end as of the call; each message's hash is
    checked (an altered one raises ChainBroken naming its seq)."""
    from services.feeds import KafkaFeed

    feed = KafkaFeed(bootstrap, topic)
    try:
        yield from feed.iterate()
    finally:
        feed.close()


def compare_replays(sources: dict[str, Callable[[], Iterable[dict[str, Any]]]], seq: int) -> dict[str, Any]:
    """Replay every public list to ``seq`` from each source; they agree iff every replay runs
    (no gap, duplicate or altered event; none ends before ``seq``) and all digests are equal."""
    digests: dict[str, str] = {}
    broken: dict[str, dict[str, Any]] = {}
    behind: dict[str, dict[str, Any]] = {}
    for name, envelopes in sources.items():
        try:
            digests[name] = digest(lists_as_of(envelopes(), seq))
        except ChainBroken as exc:
            broken[name] = {"seq": exc.seq, "problem": exc.reason}
        except SourceBehind as short:
            behind[name] = {"last_seq": short.last_seq, "problem": str(short)}
    return {"as_of_seq": seq, "digests": digests, "broken": broken, "behind": behind,
            "agree": not broken and not behind and len(set(digests.values())) == 1}
