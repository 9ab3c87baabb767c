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
