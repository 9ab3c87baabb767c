"""The ledger's transparency parts opened together for a deployment: the sealed log, its Merkle
tree and the checkpointer signing with the deployment's key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.ledger.checkpoints import Checkpointer, utc_now
from services.ledger.ledger_tree import LedgerTree
from services.ledger.sealed_log import SealedLog
from services.ledger.signing_key import load_signers
from services.settings import Settings


@dataclass
class Transparency:
    log: SealedLog
    tree: LedgerTree
    checkpoints: Checkpointer
    owns_log: bool = False

    @classmethod
    def open(cls, settings: Settings, *, log: SealedLog | None = None, clock: Callable[[], datetime] = utc_now) -> Transparency:
        owns_log = log is None
        log = log or SealedLog(settings.event_store)
        signers = load_signers(settings.signing_key_file, settings.log_origin, create=settings.profile == "embedded")
        tree = LedgerTree(log)
        checkpoints = Checkpointer(
            tree, signers, every_events=settings.checkpoint_every_events,
            every_minutes=settings.checkpoint_every_minutes, clock=clock,
        )
        return cls(log, tree, checkpoints, owns_log)

    def close(self) -> None:
        if self.owns_log:
            self.log.close()
