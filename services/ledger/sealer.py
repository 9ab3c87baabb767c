"""The sealer gives each stored event its place in the ledger: seq, prev_hash, hash.

Every save seals its own events in its own transaction (``services/ledger/sealing_recorders.py``),
so a committed event is a sealed one. The sealer here is the catch-up for whatever is stored but
not sealed — a store written before saves sealed themselves, or by a recorder told not to: it reads
the event store's notification log after the sealed log's head and appends the sealed envelopes.
Sealing is a pure function of the notification order (``sealed_batch``), so any number of sealers
compute the same chain, and the sealed log's head check lets exactly one of them append each batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Mapper, Notification

from events.envelope import seal
from services.ledger.database import StoreConflict
from services.ledger.sealed_log import Head, SealedLog


def sealed_batch(mapper: Mapper, head: Head, notifications: Iterable[Notification]) -> list[tuple[int, dict[str, Any]]]:
    """``(notification id, sealed envelope)`` for each notification, continuing the chain at ``head``."""
    seq, prev_hash, batch = head.seq, head.hash, []
    for notification in notifications:
        event = mapper.to_domain_event(notification)
        seq += 1
        envelope = seal(event.unsealed_envelope(), seq, prev_hash)
        prev_hash = envelope["hash"]
        batch.append((notification.id, envelope))
    return batch


class Sealer:
    def __init__(self, app: Application, log: SealedLog, *, batch_size: int = 500) -> None:
        self.app = app
        self.log = log
        self.batch_size = batch_size

    def seal_pending(self) -> int:
        """Seal everything stored but not yet sealed; return how many events were sealed."""
        sealed = 0
        while True:
            head = self.log.head()
            notifications = self.app.recorder.select_notifications(
                start=head.notification_id, limit=self.batch_size, inclusive_of_start=False
            )
            if not notifications:
                return sealed
            batch = sealed_batch(self.app.mapper, head, notifications)
            try:
                self.log.append(head, batch)
            except StoreConflict:
                continue  # another sealer got there first: start again from the new head
            sealed += len(batch)
