"""The composition root: builds the ledger, the search index and the feeds for a profile.

Together with the entrypoints (services/api, services/cli.py) and the auditors' side
(services/audit) this is the only code in services/ that may import projections/; services/domain and services/ledger never do (tests/unit/
test_architecture.py holds that line).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from projections.feed import EventFeed
from projections.projector import SearchProjector
from projections.read_your_writes import CaughtUpIndex
from projections.search.index import SearchIndex
from services.audit.transparency import Transparency
from services.feeds import KafkaFeed, SealedLogFeed
from services.ledger.application import SupervisionLedger, open_ledger
from services.ledger.sealed_log import SealedLog
from services.ledger.sealer import Sealer
from services.ledger.signing_key import derived_key
from services.settings import Settings

#: How long the embedded follower, woken by a commit, waits for more before it projects: passes
#: cost mostly per pass, not per event, and no reader waits for it (reads catch up themselves).
GATHER_S = 0.02


@dataclass
class Runtime:
    settings: Settings
    ledger: SupervisionLedger
    sealer: Sealer
    search: SearchIndex
    transparency: Transparency | None = None
    projector: SearchProjector | None = None  # in-process only in the embedded profile
    caught_up: CaughtUpIndex | None = None  # the embedded index as read: caught up to this process's writes
    follow_error: str | None = None  # the embedded projector's last failure, until a pass succeeds
    _threads: list[threading.Thread] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _projection_due: threading.Event = field(default_factory=threading.Event)  # set by every commit

    def start_background(self, *, schedule_every_s: float = 3600.0, checkpoint_every_s: float = 30.0) -> None:
        """Run the scheduler at start and then hourly, so time-driven transitions (overdue, expiry,
        lapse) are recorded without anyone calling; sign a checkpoint whenever one is due (every N
        events or M minutes); in the embedded profile also follow the sealed log for events
        written by other processes."""
        if self._threads:
            return
        workers = [("scheduler", lambda: self._schedule(schedule_every_s))]
        if self.transparency is not None:
            workers.append(("checkpointer", lambda: self._checkpoint(checkpoint_every_s)))
        if self.projector is not None:
            workers.append(("embedded-projector", self._follow))
        for name, target in workers:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _schedule(self, every_s: float) -> None:
        from services.ledger.scheduler import run_due

        while not self._stop.is_set():
            try:
                run_due(self.ledger)
            except Exception:  # logged by the next run's retry; the transitions are idempotent
                logging.getLogger("eldercare.scheduler").exception("scheduler run failed")
            self._stop.wait(every_s)

    def _checkpoint(self, every_s: float) -> None:
        while not self._stop.is_set():
            try:
                self.sealer.seal_pending()
                self.transparency.checkpoints.run_due()
            except Exception:  # the next pass retries; checkpoints are idempotent per size
                logging.getLogger("eldercare.checkpoints").exception("checkpoint failed")
            self._stop.wait(every_s)

    def _follow(self) -> None:
        """Project what every commit of this process (woken at once) or of another (within half a
        second) stored, a batch at a time (readers get their turn between batches). (Saves seal
        themselves: nothing here to seal.)"""
        while not self._stop.is_set():
            try:
                projected = self.caught_up.step() if self.caught_up is not None else self.projector.run_once()
                if projected == 0:
                    if self._projection_due.wait(0.5):
                        self._stop.wait(GATHER_S)  # let the commits of the next moments join this pass
                    self._projection_due.clear()
                self.follow_error = None
            except Exception as failed:  # keep following; the next pass retries from the stored position
                if self.follow_error is None:
                    logging.getLogger("eldercare.projector").exception("embedded projection failed; retrying")
                self.follow_error = f"{type(failed).__name__}: {failed}"[:300]  # /readyz reports it
                self._stop.wait(1.0)

    def read_position(self) -> int:
        """The index's position as a read begun now sees it: in the embedded profile after catching
        up to the ledger's head (the index's own ``position()`` is read as it is, so lag shows)."""
        if self.caught_up is not None:
            return self.caught_up.settle()
        return self.search.position()["seq"]

    def close(self) -> None:
        self._stop.set()
        self._projection_due.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self.search.close()
        if self.transparency is not None:
            self.transparency.close()
        self.ledger.close()
        self.sealer.log.close()


def build_search_index(settings: Settings, *, create: bool = True) -> SearchIndex:
    """The search index of the profile. ``create=False``: a reader that does not need Elasticsearch
    to be up to start (the API)."""
    if settings.profile == "embedded":
        from projections.search.sqlite_fts import SqliteSearchIndex

        return SqliteSearchIndex(settings.search_db_path)
    from projections.search.elastic import ElasticSearchIndex, connect

    client = connect(settings.es_url, settings.es_user, settings.es_password)
    return ElasticSearchIndex(client, settings.es_index_prefix, create=create, replicas=settings.replication.es_replicas)


def build_feed(settings: Settings) -> EventFeed:
    if settings.profile == "embedded":
        return SealedLogFeed(SealedLog(settings.event_store))
    return KafkaFeed(settings.kafka_bootstrap, settings.kafka_topic)


def build_runtime(settings: Settings, *, clock: Callable[[], datetime] | None = None) -> Runtime:
    ledger, sealer = open_ledger(settings.event_store, clock=clock)
    search = build_search_index(settings, create=settings.profile == "embedded")  # the cluster API only reads
    runtime = Runtime(settings, ledger, sealer, search, Transparency.open(settings, log=sealer.log))
    ledger.draw_key = derived_key(settings.signing_key_file, "eldercare draw seeds v1")  # the key file exists now
    if settings.profile == "embedded":
        # Off the write path: a commit wakes the follower; a read catches up to the ledger's head
        # itself if the follower has not got there (projections/read_your_writes.py).
        runtime.projector = SearchProjector(build_feed(settings), search)
        runtime.search = runtime.caught_up = CaughtUpIndex(search, runtime.projector, lambda: sealer.log.head().seq)
        ledger.after_commit.append(runtime._projection_due.set)
    return runtime
