"""The embedded search index as the API reads it: off the write path, yet read-your-writes by seq.

A decision no longer waits for its own projection: its save seals it and returns. The projection
runs in the embedded profile's follower thread, woken by every commit, and takes whatever has been
committed since its last pass in one batch. A reader must still never see less than the ledger
has acknowledged (a retraction answered 200 must be gone from the next search), so every read first
asks for the index to have reached the ledger's head as the read begins — ``wanted()``, one indexed
query; every decision acknowledged before, by this process or another, is at or below it — and, if
the follower has not got there yet, projects the gap itself (the projector's lock makes it one pass at a
time: a reader behind another finds the work done). A projection that fails leaves the reader with
what the index holds, and the follower's error is on /readyz, as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from projections.projector import SearchProjector
from projections.search.index import SearchIndex

log = logging.getLogger("eldercare.projector")

#: The index's methods that read (each first catches up); every other attribute passes through.
READS = frozenset({"get", "get_many", "get_records", "get_states", "states", "search", "search_records", "documents", "position"})


class CaughtUpIndex:
    def __init__(self, index: SearchIndex, projector: SearchProjector, wanted: Callable[[], int]) -> None:
        self.index = index
        self.projector = projector
        self.wanted = wanted
        self._reached = -1  # the highest seq known to be in the index
        self._reached_lock = threading.Lock()

    def reached(self, seq: int) -> None:
        """The projection has published ``seq`` (the follower says so after each pass)."""
        with self._reached_lock:
            self._reached = max(self._reached, seq)

    def catch_up(self) -> int:
        """Project what is committed and not yet in the index; return how many envelopes."""
        n = self.projector.catch_up()
        self.reached(self.index.position()["seq"])
        return n

    def _caught_up(self) -> None:
        if self._reached >= self.wanted():
            return
        try:
            self.catch_up()
        except Exception:  # noqa: BLE001  (the reader gets what the index holds; the follower reports the failure)
            log.exception("catching the search index up for a read failed")

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.index, name)
        if name not in READS:
            return found

        def read(*args: Any, **kwargs: Any) -> Any:
            self._caught_up()
            return found(*args, **kwargs)

        return read
