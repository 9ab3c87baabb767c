"""Signed checkpoints over the ledger: issued at least every N events or M minutes (whichever
comes first, and only if the ledger grew), and at every publication of the site (a checkpoint of
exactly the published cut).

Checkpoints are kept in the table ``checkpoints`` beside the sealed log, in issue order, never
updated or deleted. Each row keeps the verifier keys it was signed under (one per line: Ed25519,
then SM2), so a key rotation is visible to auditors rather than silent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from events.checkpoint import Checkpoint
from events.envelope import GENESIS_HASH
from events.signed_note import NoteSigner
from services.ledger.ledger_tree import LedgerTree

SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    tree_size INTEGER NOT NULL UNIQUE,
    issued_at TEXT NOT NULL,
    vkey TEXT NOT NULL,
    note TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class IssuedCheckpoint:
    n: int  # issue order
    tree_size: int
    issued_at: str
    vkey: str
    note: str


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Checkpointer:
    def __init__(
        self, tree: LedgerTree, signers: Sequence[NoteSigner], *, every_events: int = 1000, every_minutes: int = 10,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.tree = tree
        if not signers or len({s.name for s in signers}) != 1:
            raise ValueError("checkpoint signers must be one or more keys of one origin")
        self.signers = tuple(signers)
        self.origin = signers[0].name
        self.every_events = every_events
        self.every = timedelta(minutes=every_minutes)
        self.clock = clock
        self.db = tree.db
        self.db.create(SCHEMA)

    def verifier_keys(self) -> list[str]:
        """The verifier keys the checkpoints are signed under, Ed25519 first."""
        return [signer.verifier.text() for signer in self.signers]

    def _rows(self, sql: str, args: tuple = ()) -> list[IssuedCheckpoint]:
        return [IssuedCheckpoint(*r) for r in self.db.rows(f"SELECT n, tree_size, issued_at, vkey, note FROM checkpoints {sql}", args)]

    def latest(self) -> IssuedCheckpoint | None:
        rows = self._rows("ORDER BY tree_size DESC LIMIT 1")
        return rows[0] if rows else None

    def at(self, tree_size: int) -> IssuedCheckpoint | None:
        rows = self._rows("WHERE tree_size = ?", (tree_size,))
        return rows[0] if rows else None

    def all(self) -> list[IssuedCheckpoint]:
        return self._rows("ORDER BY tree_size")

    def covering(self, seq: int) -> IssuedCheckpoint | None:
        """The smallest checkpoint that includes event ``seq``."""
        rows = self._rows("WHERE tree_size >= ? ORDER BY tree_size LIMIT 1", (seq,))
        return rows[0] if rows else None

    def published_with(self, tree_size: int) -> list[IssuedCheckpoint]:
        """What a site cut at ``tree_size`` shows: the checkpoint of that size and every smaller one
        issued before it — a fixed set, so rebuilding that site later reproduces it exactly."""
        own = self.at(tree_size)
        if own is None:
            return []
        return self._rows("WHERE n <= ? AND tree_size <= ? ORDER BY tree_size", (own.n, tree_size))

    def issue(self, tree_size: int | None = None) -> IssuedCheckpoint:
        """Sign a checkpoint of the first ``tree_size`` events (default: all sealed), unless one of
        that size exists already, which is returned."""
        size = self.tree.size() if tree_size is None else tree_size
        existing = self.at(size)
        if existing is not None:
            return existing
        if size > self.tree.size():
            raise ValueError(f"the ledger has {self.tree.size()} events; cannot sign a checkpoint of {size}")
        self.tree.extend(size)
        chain = self.tree.log.hashes(size - 1, 1)[0] if size else GENESIS_HASH
        issued_at = self.clock().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        note = Checkpoint(self.origin, size, self.tree.root(size), chain, issued_at).sign(self.signers)
        self.db.rows(
            "INSERT INTO checkpoints (tree_size, issued_at, vkey, note) VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
            (size, issued_at, "\n".join(self.verifier_keys()), note),
        )
        issued = self.at(size)
        assert issued is not None
        return issued

    def due(self) -> bool:
        head = self.tree.size()
        last = self.latest()
        if last is None:
            return head > 0
        if head <= last.tree_size:
            return False
        grown = head - last.tree_size >= self.every_events
        aged = self.clock() - datetime.fromisoformat(last.issued_at.replace("Z", "+00:00")) >= self.every
        return grown or aged

    def run_due(self) -> IssuedCheckpoint | None:
        return self.issue() if self.due() else None
