"""The sealer gives each stored event its place in the ledger: seq, prev_hash, hash.

It reads the event store's notification log after the sealed log's head and appends the sealed
envelopes. Sealing is a pure function of the notification order, so any number of sealers (the
API after each command, the relay, the projector) may run: they compute the same chain, and the
sealed log's head check lets exactly one of them append each batch.
"""

from __future__ import annotations

from eventsourcing.application import Application

from events.envelope import seal
from services.ledger.database import StoreConflict
from services.ledger.sealed_log import SealedLog


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
            seq, prev_hash, batch = head.seq, head.hash, []
            for notification in notifications:
                event = self.app.mapper.to_domain_event(notification)
                seq += 1
                envelope = seal(event.unsealed_envelope(), seq, prev_hash)
                prev_hash = envelope["hash"]
                batch.append((notification.id, envelope))
            try:
                self.log.append(head, batch)
            except StoreConflict:
                continue  # another sealer got there first: start again from the new head
            sealed += len(batch)
