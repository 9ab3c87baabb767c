"""Disclosure snapshots: the public lists as they stand at one ledger seq, as one JSON file.

The site is rendered from a snapshot and nothing else, so every page can say exactly which ledger
position it shows (seq, hash of that event, time it was recorded), and a snapshot cut at the same
seq is byte-identical however often it is built. Only catalogue-public fields enter a snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from events.canonical import canonical_json
from events.envelope import GENESIS_HASH, ChainBroken
from events.regions import full_name, name_of, parents
from projections.institution_document import OPERATING, applies_to, fold, public_view

FORMAT = "eldercare-disclosure-snapshot/1"


def _sort_key(entry: dict[str, Any]) -> tuple[str, str, str]:
    return (entry["region_code"], entry["name"], entry["id"])


def build_snapshot(envelopes: Iterable[dict[str, Any]], up_to_seq: int | None = None) -> dict[str, Any]:
    """Fold the envelopes (in seq order, checked as a chain) up to ``up_to_seq`` into the lists."""
    documents: dict[str, dict[str, Any]] = {}
    seq, last_hash, recorded_at = 0, GENESIS_HASH, None
    for envelope in envelopes:
        if up_to_seq is not None and envelope["seq"] > up_to_seq:
            break
        if envelope["seq"] != seq + 1 or envelope["prev_hash"] != last_hash:
            raise ChainBroken(seq + 1, f"found seq {envelope['seq']} out of chain")
        seq, last_hash, recorded_at = envelope["seq"], envelope["hash"], envelope["recorded_at"]
        if applies_to(envelope):
            iid = envelope["institution_id"]
            documents[iid] = fold(documents.get(iid), envelope)
    if up_to_seq is not None and seq < up_to_seq:
        raise ValueError(f"the ledger ends at seq {seq}; cannot cut at {up_to_seq}")
    public = [public_view(d) for d in documents.values()]
    filed = sorted((p for p in public if p["status"] in OPERATING), key=_sort_key)
    unfiled = sorted((p for p in public if p["status"] == "discovered"), key=_sort_key)
    region_codes = sorted({code for p in public for code in parents(p["region_code"])})
    return {
        "format": FORMAT,
        "cut": {"seq": seq, "hash": last_hash, "recorded_at": recorded_at},
        "regions": {code: {"name": name_of(code) or code, "full_name": full_name(code)} for code in region_codes},
        "lists": {"filed": filed, "unfiled": unfiled},
    }


def write_snapshot(snapshot: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"disclosure-{snapshot['cut']['seq']:012d}.json"
    path.write_bytes(canonical_json(snapshot) + b"\n")
    return path
