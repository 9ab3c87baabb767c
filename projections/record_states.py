"""The record-state projection: every record's state, keyed by record id, as the record kinds
declare it (events/record_kinds.py) — corrections and retractions applied once, by ``advance``.

The projector keeps it in the search backend beside the documents, with the same tracked position
(SQLite in the embedded profile, Elasticsearch in the cluster profile); an auditor's replay folds
the same envelopes into a dict with ``fold``. Every read model — the public lists, the hazard
"three lists", inspection obligations, campaign progress, the institution document — is a query
over record states (``StateQuery``), never a second fold of the events.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

from events.envelope import GENESIS_HASH, ChainBroken
from events.record_kinds import KINDS, RETRACTED, Record, advance
from events.regions import prefix_of
from projections.collector_pause import collector_paused

# What a store indexes of each record, besides the record itself.
COLUMNS = ("id", "kind", "seq", "institution_id", "region_code", "status", "opened_on", "ended_on")


def is_record_event(envelope: dict[str, Any]) -> bool:
    """An event on a supervision record (identifier claims are bookkeeping, not records)."""
    kind = KINDS.get(envelope["aggregate_type"])
    return kind is not None and not kind.bookkeeping


def apply(states: MutableMapping[str, Record], envelope: dict[str, Any]) -> Record | None:
    """Fold one sealed envelope into ``states``; the record's state after it, or None (not a record
    event). An event the record already holds (a replay after a crash, a duplicate delivery) is
    not applied twice: the state is returned as it is."""
    if not is_record_event(envelope):
        return None
    record = states.get(envelope["aggregate_id"])
    if record is None or record["seq"] < envelope["seq"]:
        record = states[envelope["aggregate_id"]] = advance(record, envelope)
    return record


@dataclass(frozen=True)
class Cut:
    """The ledger position a set of states stands at."""

    seq: int = 0
    hash: str = GENESIS_HASH
    recorded_at: str | None = None


class SharedParts:
    """Equal parts of many envelopes held once: the same officer's ``actor`` object, and the event
    type, rule version and legal basis texts, which recur across a ledger. A fold keeps every
    standing decision; held once, these take a fifth less memory (every list as of the head of
    1,000,000 events: peak 3.6 -> 2.9 GiB, 40.6 -> 31.3 s). The values are equal, so nothing that
    reads them can tell; nothing in a fold changes them."""

    def __init__(self) -> None:
        self.actors: dict[tuple, dict[str, Any]] = {}
        self.texts: dict[str, str] = {}

    def share(self, envelope: dict[str, Any]) -> None:
        actor = envelope.get("actor")
        if type(actor) is dict and all(type(v) is str for v in actor.values()):
            envelope["actor"] = self.actors.setdefault(tuple(actor.items()), actor)
        for name in ("event_type", "rule_version"):
            if type(value := envelope.get(name)) is str:
                envelope[name] = self.texts.setdefault(value, value)
        basis = envelope.get("basis")
        if type(basis) is dict and type(legal := basis.get("legal_basis")) is str:
            basis["legal_basis"] = self.texts.setdefault(legal, legal)


@collector_paused()
def fold(envelopes: Iterable[dict[str, Any]], up_to_seq: int | None = None,
         start: tuple[dict[str, Record], Cut] | None = None) -> tuple[dict[str, Record], Cut]:
    """Every record's state after ``envelopes`` (in seq order, checked as a chain) up to
    ``up_to_seq``, and where that is; from ``start`` (states at a cut, which the envelopes
    continue; they are folded into in place), else from the ledger's beginning."""
    states, at = start if start is not None else ({}, Cut())
    shared = SharedParts()
    seq, last_hash, recorded_at = at.seq, at.hash, at.recorded_at
    for envelope in envelopes:
        if up_to_seq is not None and envelope["seq"] > up_to_seq:
            break
        if envelope["seq"] != seq + 1 or envelope["prev_hash"] != last_hash:
            raise ChainBroken(seq + 1, f"found seq {envelope['seq']} out of chain")
        seq, last_hash, recorded_at = envelope["seq"], envelope["hash"], envelope["recorded_at"]
        shared.share(envelope)
        apply(states, envelope)
    if up_to_seq is not None and seq < up_to_seq:
        raise ValueError(f"the ledger ends at seq {seq}; cannot cut at {up_to_seq}")
    return states, Cut(seq, last_hash, recorded_at)


def row(record: Record) -> dict[str, Any]:
    """The indexed columns of a record."""
    return {
        "id": record["id"], "kind": record["kind"], "seq": record["seq"], "institution_id": record["institution_id"],
        "region_code": record["region_code"], "status": record["state"]["status"], "opened_on": record["opened_on"],
        "ended_on": record["ended_on"],
    }


@dataclass(frozen=True)
class StateQuery:
    """Which records: of these kinds, in a region (a province, city or county code: everything
    within it), of one institution, in one of these statuses, current at some time between two days
    (opened on or before the end, not ended before the start). Retracted records only when asked for."""

    kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    region: str | None = None
    institution_id: str | None = None
    between: tuple[str, str] | None = None
    retracted: bool = False

    @property
    def region_prefix(self) -> str | None:
        return None if self.region is None else prefix_of(self.region)

    def matches(self, record: Record) -> bool:
        """The same selection as the stores' queries, over records in memory."""
        r = row(record)
        if self.kinds and r["kind"] not in self.kinds:
            return False
        if self.region_prefix is not None and not (r["region_code"] or "").startswith(self.region_prefix):
            return False
        if self.institution_id is not None and r["institution_id"] != self.institution_id:
            return False
        if self.statuses and r["status"] not in self.statuses:
            return False
        if self.between is not None:
            start, end = self.between
            if r["opened_on"] is None or r["opened_on"] > end or (r["ended_on"] is not None and r["ended_on"] < start):
                return False
        return self.retracted or r["status"] != RETRACTED


def select(states: Iterable[Record], query: StateQuery) -> Iterator[Record]:
    """``query`` over records in memory, in id order (as the stores return them)."""
    return iter(sorted((r for r in states if query.matches(r)), key=lambda r: r["id"]))
