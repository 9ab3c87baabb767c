"""The cyclic garbage collector paused while the ledger is folded.

A fold (a replay, a projection batch, a disclosure snapshot) allocates millions of small dicts and
lists that live on — every record's standing decisions — and CPython's cyclic collector, run by
allocation counts, traverses all of them again and again: half of a replay's time (bench/replay.py:
every list as of the head of 200,000 events, 9.3 s with it, 4.6 s without). What a fold builds is
JSON values, which hold no reference cycles, so reference counting alone frees them. The collector
is off while any such pause runs in the process (threads may pause at once) and on again when the
last one ends, if it was on before the first.

The pause is the process's: while an auditor's replay folds inside the API, cyclic garbage that
other requests make waits for the collector until the fold ends (a fold's length, bounded; the
embedded follower pauses one batch at a time).
"""

from __future__ import annotations

import gc
import threading
from contextlib import ContextDecorator
from typing import Any

_lock = threading.Lock()
_pauses = 0
_resume = False


class collector_paused(ContextDecorator):  # noqa: N801  (used as a function: ``with collector_paused():``)
    """A context (or a function decorator) during which the collector is off. A class, not a
    generator: an exception passes through untouched (a generator context would set its traceback,
    which frozen exceptions such as ChainBroken refuse)."""

    def __enter__(self) -> None:
        global _pauses, _resume
        with _lock:
            if _pauses == 0:
                _resume = gc.isenabled()
                gc.disable()
            _pauses += 1

    def __exit__(self, *exc: Any) -> None:
        global _pauses
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _resume:
                gc.enable()


class heap_frozen(ContextDecorator):  # noqa: N801  (used as a function: ``with heap_frozen():``)
    """A context during which everything alive at its start is out of the collector's sight
    (``gc.freeze``): a publication holds a fold's worth of record states and the snapshot made
    from them while it builds the site, which allocates enough to run the collector over and over;
    frozen, those are never traversed, and processes forked meanwhile (the render workers, the
    snapshot writer) do not copy every page of that heap to mark it (an incremental build at
    40,000 institutions: 10.8-11.5 s against 8.8-9.3 s frozen). Seen again at the end. Not nested
    (``gc.unfreeze`` thaws everything)."""

    def __enter__(self) -> None:
        gc.freeze()

    def __exit__(self, *exc: Any) -> None:
        gc.unfreeze()
