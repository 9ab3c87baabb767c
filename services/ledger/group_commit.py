"""Group commit: decisions saved at the same moment by concurrent requests share one transaction.

Each request checks its rules and changes its aggregates on its own thread, then hands the events
to ``GroupCommit.save``. Whoever finds no save in progress leads: it takes every save waiting at
that moment (its own among them) and records them all in one transaction — one seal, one commit,
one fsync — while the others wait; then it wakes them and the next waiting one leads. Nothing waits
on purpose: a lone request commits at once, as before; under load the commits grow, not the queue.

Each save keeps its own outcome. Two saves in one batch writing the same version of a record (a race
the event store would refuse anyway) — the later one is refused before the batch is written. A batch
refused as a whole (another process wrote first, the store failed) is written again save by save,
so each request gets exactly the answer it would have had alone: committed, refused for a race
(``None``, the ledger reloads and retries), or its own error. A save is acknowledged only after the
transaction holding it committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import IntegrityError

log = logging.getLogger(__name__)

MAX_BATCH = 256  # saves in one transaction

# Records the events of one or more saves in one transaction and returns the seq each event got,
# keyed by (aggregate id, version); raises IntegrityError when the store refuses the batch.
Record = Callable[[list[Any]], dict[tuple[str, int], int]]


@dataclass
class _Save:
    """One request's events and, once ``finished``, its outcome. ``finished`` is set last, after the
    outcome: a waiting thread may look between the two."""

    events: list[Any]
    finished: bool = False
    seqs: dict[tuple[str, int], int] | None = None  # None: refused for a race
    error: BaseException | None = None
    keys: set[tuple[str, int]] = field(init=False)  # the (aggregate id, version) its events write

    def __post_init__(self) -> None:
        self.keys = {(str(e.originator_id), e.originator_version) for e in self.events}

    def committed(self, seqs: dict[tuple[str, int], int]) -> None:
        """Answered with the seqs its own events got in the transaction that held them."""
        self.seqs, self.finished = {k: seqs[k] for k in self.keys if k in seqs}, True


class GroupCommit:
    def __init__(self, record: Record, after_commit: Callable[[], None] = lambda: None) -> None:
        self._record = record
        self._after_commit = after_commit
        self._changed = threading.Condition()
        self._waiting: list[_Save] = []
        self._leading = False
        self.batches = 0  # transactions committed, and the most saves one held (for the tests)
        self.largest = 0

    def save(self, events: Sequence[Any]) -> dict[tuple[str, int], int] | None:
        """Record the events once committed with whatever else is being saved: the seq of each, or
        None if another save wrote one of these records' versions first."""
        mine = _Save(list(events))
        with self._changed:
            self._waiting.append(mine)
        try:
            while True:
                with self._changed:
                    while self._leading and not mine.finished:
                        self._changed.wait()
                    if mine.finished:
                        break
                    self._leading = True
                    batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
                try:
                    self._write(batch)
                finally:
                    try:
                        for save in batch:
                            if not save.finished:  # only a BaseException leaves _write early
                                save.error, save.finished = save.error or RuntimeError("group commit interrupted"), True
                    finally:
                        with self._changed:
                            self._leading = False
                            self._changed.notify_all()
        except BaseException:
            with self._changed:  # interrupted before it was taken: no later batch may write it
                self._waiting = [save for save in self._waiting if save is not mine]
            raise
        if mine.error is not None:
            raise mine.error
        return mine.seqs

    def _write(self, batch: list[_Save]) -> None:
        taken: set[tuple[str, int]] = set()
        writing = []
        for save in batch:
            if save.keys & taken:
                save.finished = True  # refused: an earlier save in this batch wrote that version
            else:
                taken |= save.keys
                writing.append(save)
        if len(writing) == 1:
            self._alone(writing[0])
            return
        if not writing:
            return
        try:
            seqs = self._record([e for save in writing for e in save.events])
        except Exception:  # noqa: BLE001 - written again save by save: each gets its own outcome
            for save in writing:
                self._alone(save)
        else:
            for save in writing:
                save.committed(seqs)
            self._committed(len(writing))

    def _alone(self, save: _Save) -> None:
        try:
            seqs = self._record(save.events)
        except IntegrityError:
            save.finished = True
        except Exception as error:  # noqa: BLE001 - this request's own failure, raised on its thread
            save.error, save.finished = error, True
        else:
            save.committed(seqs)
            self._committed(1)

    def _committed(self, saves: int) -> None:
        self.batches += 1
        self.largest = max(self.largest, saves)
        try:
            self._after_commit()
        except Exception:  # the saves are committed (and answered so): a failing hook must not fail them
            log.exception("after-commit hook failed")
