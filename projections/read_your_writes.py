"""The embedded search index as the API reads it: off the write path, yet read-your-writes by seq.

A decision no longer waits for its own projection: its save seals it and returns. The projection
runs in the embedded profile's follower thread, woken by every commit, one batch at a time. A reader
must still never see less than the ledger has acknowledged (a retraction answered 201 must be gone
from the next search), so every read first asks for the index to have reached the ledger's head as
the read begins — ``wanted()``, one indexed query; every decision acknowledged before, by this
process or another, is at or below it — and, if the follower has not got there yet, projects the
gap itself. One pass at a time (a reader behind another finds the work done); the follower lets go
between batches, so a reader never waits for a whole backlog.

When the index cannot be brought up to the head for a read — the gap is a backlog (a rebuild, an
import by another process), the projection fails, or another pass holds it too long — the read is
refused with ``IndexBehind`` (503 SEARCH_UNAVAILABLE, retry later), never answered from an index
that misses an acknowledged decision. The index's own position is read as it is (``position`` does
not catch up), so /readyz, /metrics and /v1/status show the lag there really is.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from projections.projector import SearchProjector
from projections.search.index import SearchIndex

log = logging.getLogger("eldercare.projector")

#: The index's methods that read documents (each first catches up); every other attribute passes through.
READS = frozenset({"get", "get_many", "get_records", "get_states", "states", "search", "search_records", "documents"})
READER_GAP = 5000  # at most this many events a reader projects itself; more is a backlog for the follower
READER_WAIT_S = 5.0  # how long a reader waits for another pass before it is refused


class IndexBehind(Exception):
    """The index misses decisions the ledger has acknowledged and cannot catch up for this read."""


class CaughtUpIndex:
    def __init__(self, index: SearchIndex, projector: SearchProjector, wanted: Callable[[], int]) -> None:
        self.index = index
        self.projector = projector
        self.wanted = wanted
        self._pass = threading.Lock()  # one pass at a time, readers and the follower alike
        self._failure_logged_at = 0.0

    def _position(self) -> int:
        """The position the index holds now — read afresh each time (one key lookup), not remembered:
        another process may empty the index (a rebuild, a newer layout) and it must show."""
        return self.index.position()["seq"]

    def step(self) -> int:
        """The follower's step: project one batch (the lock is let go between batches); return how
        many envelopes it delivered."""
        with self._pass:
            return self.projector.run_once()

    def settle(self) -> int:
        """Catch up as a read begun now would (or raise ``IndexBehind``) and return the position the
        index then holds: what such a read sees, and nothing it does not."""
        self._caught_up()
        return self._position()

    def _caught_up(self) -> None:
        wanted = self.wanted()
        reached = self._position()
        if reached >= wanted:
            return
        if wanted - reached > READER_GAP:
            raise IndexBehind(f"the index is {wanted - reached} events behind the ledger (being projected)")
        if not self._pass.acquire(timeout=READER_WAIT_S):
            raise IndexBehind(f"another projection pass held the index for more than {READER_WAIT_S:.0f} s")
        try:
            while self._position() < wanted:
                if self.projector.run_once() == 0:
                    raise IndexBehind(f"the feed ended before seq {wanted}")
        except IndexBehind:
            raise
        except Exception as failed:
            if time.monotonic() - self._failure_logged_at > 60:  # once a minute, not once a read
                self._failure_logged_at = time.monotonic()
                log.exception("catching the search index up for a read failed")
            raise IndexBehind(f"the projection failed: {type(failed).__name__}") from failed
        finally:
            self._pass.release()

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.index, name)
        if name not in READS:
            return found

        def read(*args: Any, **kwargs: Any) -> Any:
            self._caught_up()
            return found(*args, **kwargs)

        return read
