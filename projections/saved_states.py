"""Record states saved at a publication's cut, so that the next publication folds only the events
recorded since instead of the whole ledger (40,000 institutions, 346,350 events: reading and
checking every envelope and folding them took about 13 s of an incremental site build).

A file ``states-<seq>.marshal`` beside the disclosure snapshots holds a header line — the format,
the cut (seq, hash, time), the feed it was read from and the feed's cursor before the cut's own
envelope, the length and SHA-256 of the body — and the body: the record states and the snapshot's
per-institution parts (projections/disclosure.InstitutionParts), in ``marshal`` form (plain values
only; nothing in it is code, unlike a pickle).

Resuming trusts the file only as far as the ledger vouches for it: the body must match its digest,
and the feed, read again from the saved cursor, must first yield exactly the cut's envelope (its
seq and hash); the fold then checks every later envelope as the chain it continues. Anything else —
no file, another feed, a cut past the wanted one, a ledger that differs at the cut, another Python —
means a fold of the whole ledger. Reproducing a past publication never uses a saved file
(services/publication.py): it must come from the ledger alone, and it is how a saved file's
publication is checked.
"""

from __future__ import annotations

import hashlib
import json
import logging
import marshal
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from events.record_kinds import Record
from projections.collector_pause import collector_paused
from projections.disclosure import InstitutionParts
from projections.feed import EventFeed
from projections.record_states import Cut, fold

FORMAT = "eldercare-saved-states/1"
PYTHON = f"{sys.implementation.name}-{sys.version_info[0]}.{sys.version_info[1]}/marshal-{marshal.version}"
log = logging.getLogger("eldercare.saved_states")


@dataclass
class Folded:
    """Record states at ``cut``, the feed's cursor before the cut's own envelope, and the snapshot
    parts made from them last; ``resumed_from``: the seq of the saved states it started from
    (None: a fold of the whole ledger)."""

    states: dict[str, Record]
    cut: Cut
    cursor: int | None
    parts: InstitutionParts
    resumed_from: int | None = None


def _name(seq: int) -> str:
    return f"states-{seq:012d}.marshal"


def save(directory: Path, feed: EventFeed, folded: Folded) -> Path | None:
    """Write ``folded`` (and remove the files saved before it); None if there is nothing to save
    (an empty ledger, or no cursor to resume from)."""
    if folded.cursor is None or not folded.cut.seq:
        return None
    body = marshal.dumps((folded.states, folded.parts.made))
    header = {"format": FORMAT, "python": PYTHON, "feed": feed.name,
              "cut": {"seq": folded.cut.seq, "hash": folded.cut.hash, "recorded_at": folded.cut.recorded_at},
              "cursor": folded.cursor, "length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / _name(folded.cut.seq)
    partial = path.with_suffix(".partial")
    with open(partial, "wb") as file:
        file.write(json.dumps(header, sort_keys=True).encode() + b"\n")
        file.write(body)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)
    for older in directory.glob("states-*.marshal"):
        if older != path:
            older.unlink(missing_ok=True)
    return path


def _load(directory: Path, feed: EventFeed, up_to_seq: int | None) -> tuple[dict[str, Any], Any] | None:
    """The saved header and body usable for a fold up to ``up_to_seq`` from ``feed``, or None."""
    for path in sorted(directory.glob("states-*.marshal"), reverse=True):
        try:
            with open(path, "rb") as file:
                header = json.loads(file.readline())
                body = file.read()
        except (OSError, ValueError) as unreadable:
            log.warning("saved states %s unreadable (%s); folding the whole ledger", path.name, unreadable)
            continue
        if header.get("format") != FORMAT or header.get("python") != PYTHON or header.get("feed") != feed.name:
            continue
        if up_to_seq is not None and header["cut"]["seq"] > up_to_seq:
            continue
        if len(body) != header["length"] or hashlib.sha256(body).hexdigest() != header["sha256"]:
            log.warning("saved states %s do not match their digest; folding the whole ledger", path.name)
            continue
        return header, marshal.loads(body)
    return None


class _Positions:
    """The envelopes of a positioned read, remembering the cursor before each of the last two
    (a fold reads one envelope past its cut before it stops)."""

    def __init__(self, positioned: Iterator[tuple[dict[str, Any], int]], first: tuple[dict[str, Any], int] | None = None) -> None:
        self.positioned = positioned
        self.last = self.previous = (first[0]["seq"], first[1]) if first else None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for envelope, cursor in self.positioned:
            self.previous, self.last = self.last, (envelope["seq"], cursor)
            yield envelope

    def cursor_of(self, seq: int) -> int | None:
        """The cursor before the envelope at ``seq``, if it is one of the last two read."""
        return next((cursor for at, cursor in (self.last, self.previous) if at == seq), None) if self.last else None


@collector_paused()
def states_at(feed: EventFeed, directory: Path, up_to_seq: int | None = None) -> Folded:
    """The record states at ``up_to_seq`` (None: the feed's end): from the states saved in
    ``directory`` and the events since, when the ledger vouches for them; else the whole ledger."""
    loaded = _load(directory, feed, up_to_seq)
    if loaded is not None:
        header, (states, made) = loaded
        saved = Cut(header["cut"]["seq"], header["cut"]["hash"], header["cut"]["recorded_at"])
        positioned = feed.iterate(header["cursor"], positioned=True)
        first = next(positioned, None)
        if first is not None and first[0]["seq"] == saved.seq and first[0]["hash"] == saved.hash:
            read = _Positions(positioned, first)
            states, cut = fold(read, up_to_seq, start=(states, saved))
            return Folded(states, cut, read.cursor_of(cut.seq), InstitutionParts(made), resumed_from=saved.seq)
        log.warning("saved states at seq %s are not the ledger's (it reads otherwise there); folding the whole ledger", saved.seq)
    read = _Positions(feed.iterate(0, positioned=True))
    states, cut = fold(read, up_to_seq)
    return Folded(states, cut, read.cursor_of(cut.seq), InstitutionParts())
