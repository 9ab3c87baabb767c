"""The envelope every ledger event travels in, and the SHA-256 chain that seals it.

An *unsealed* envelope is what the write side knows when a decision is recorded. Sealing gives it
its place in the one total order of the ledger: ``seq`` (1, 2, 3, … with no gaps), ``prev_hash``
(the previous event's ``hash``, or 64 zeros for the first) and ``hash`` =
SHA-256 over the canonical JSON of the envelope without its ``hash`` member.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from events.canonical import canonical_json

GENESIS_HASH = "0" * 64

#: Members of a sealed envelope, in documentation order.
ENVELOPE_FIELDS = (
    "event_id",
    "event_type",
    "schema_version",
    "seq",
    "aggregate_type",
    "aggregate_id",
    "aggregate_version",
    "institution_id",
    "occurred_at",
    "recorded_at",
    "actor",
    "basis",
    "rule_version",
    "command_id",
    "request_digest",
    "payload",
    "prev_hash",
    "hash",
)
SEAL_FIELDS = ("seq", "prev_hash", "hash")
UNSEALED_FIELDS = tuple(f for f in ENVELOPE_FIELDS if f not in SEAL_FIELDS)


def event_hash(envelope: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical envelope without its ``hash`` member."""
    body = {k: v for k, v in envelope.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def seal(unsealed: dict[str, Any], seq: int, prev_hash: str) -> dict[str, Any]:
    missing = [f for f in UNSEALED_FIELDS if f not in unsealed]
    if missing:
        raise ValueError(f"envelope lacks {missing}")
    extra = sorted(set(unsealed) - set(UNSEALED_FIELDS))
    if extra:
        raise ValueError(f"envelope has unknown members {extra}")
    sealed = dict(unsealed, seq=seq, prev_hash=prev_hash)
    sealed["hash"] = event_hash(sealed)
    return sealed


@dataclass(frozen=True)
class ChainBroken(Exception):
    """The chain does not hold at ``seq``; ``reason`` says how."""

    seq: int
    reason: str

    def __str__(self) -> str:
        return f"chain broken at seq {self.seq}: {self.reason}"


def verify_chain(
    envelopes: Iterable[dict[str, Any]], *, after_seq: int = 0, prev_hash: str = GENESIS_HASH
) -> Iterator[dict[str, Any]]:
    """Yield each envelope after checking it continues the chain; raise ChainBroken otherwise."""
    expected_seq = after_seq + 1
    for envelope in envelopes:
        seq = envelope.get("seq")
        if seq != expected_seq:
            raise ChainBroken(expected_seq, f"expected seq {expected_seq}, found {seq}")
        if envelope.get("prev_hash") != prev_hash:
            raise ChainBroken(expected_seq, "prev_hash does not name the previous event's hash")
        if event_hash(envelope) != envelope.get("hash"):
            raise ChainBroken(expected_seq, "hash does not match the envelope's content")
        prev_hash = envelope["hash"]
        expected_seq += 1
        yield envelope
