"""When each officer last opened the worklist: the ledger position they had seen, so the worklist
can show what the scheduler recorded since. Kept beside the ledger's own tables (SQLite or
PostgreSQL), per officer — a sign-in on another computer still knows the last visit. Not a
decision: nothing here is an event."""

from __future__ import annotations

from datetime import datetime, timezone

from services.domain.actors import Actor
from services.ledger.database import LedgerDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS console_visits (
    officer TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    visited_at TEXT NOT NULL
)
"""


def officer_key(actor: Actor) -> str:
    """One officer in one capacity: the same person signed in for another region or role keeps a
    visit of its own."""
    return "|".join((actor.user, actor.department, actor.level, actor.region, actor.role))


class Visits:
    def __init__(self, db: LedgerDatabase) -> None:
        self.db = db
        self.db.create(SCHEMA)

    def last(self, actor: Actor) -> tuple[int, str] | None:
        """The ledger position seen at the last visit, and when; None before the first."""
        row = self.db.row("SELECT seq, visited_at FROM console_visits WHERE officer = ?", (officer_key(actor),))
        return (int(row[0]), str(row[1])) if row else None

    def record(self, actor: Actor, seq: int, at: datetime | None = None) -> None:
        moment = (at or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO console_visits (officer, seq, visited_at) VALUES (?,?,?) "
                       "ON CONFLICT (officer) DO UPDATE SET seq = excluded.seq, visited_at = excluded.visited_at",
                       (officer_key(actor), seq, moment))
