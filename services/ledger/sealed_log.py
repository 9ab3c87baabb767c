"""The sealed log: every ledger event in its total order, as the canonical envelope bytes that were
hashed. It is the one source the relay (to Kafka), the embedded projections and the auditors read.

Storage is one table beside the event store (SQLite or PostgreSQL, ``services/ledger/database.py``).
Rows are only ever appended, in one transaction per batch that also checks the batch continues the
chain, so two sealers racing can never fork it: the loser's insert hits the primary key (or sees
the head moved) and it starts again from the new head.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from events.canonical import canonical_json, loads
from events.envelope import GENESIS_HASH
from services.ledger.database import LedgerDatabase, StoreConflict, is_postgres, open_database

SCHEMA = """
CREATE TABLE IF NOT EXISTS sealed_log (
    seq INTEGER PRIMARY KEY,
    notification_id INTEGER NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    aggregate_version INTEGER NOT NULL,
    institution_id TEXT,
    recorded_at TEXT NOT NULL,
    hash TEXT NOT NULL,
    envelope BLOB NOT NULL,
    UNIQUE (aggregate_id, aggregate_version)
);
CREATE INDEX IF NOT EXISTS sealed_log_institution ON sealed_log (institution_id, aggregate_id);
CREATE INDEX IF NOT EXISTS sealed_log_type ON sealed_log (event_type, seq);
CREATE INDEX IF NOT EXISTS sealed_log_recorded ON sealed_log (recorded_at)
"""


def utc_microseconds(moment: str) -> str:
    """One comparable text form for every recorded time: UTC, with microseconds."""
    return datetime.fromisoformat(moment).astimezone(timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Head:
    seq: int
    notification_id: int
    hash: str


EMPTY_HEAD = Head(0, 0, GENESIS_HASH)

#: The head, and one row appended: the same statements whoever writes (this class, or a save
#: sealing in its own transaction: services/ledger/sealing_recorders.py).
HEAD_SQL = "SELECT seq, notification_id, hash FROM sealed_log ORDER BY seq DESC LIMIT 1"
INSERT_SQL = "INSERT INTO sealed_log VALUES (?,?,?,?,?,?,?,?,?)"
#: PostgreSQL: every transaction that appends announces it here (NOTIFY, delivered at its commit), so
#: a reader waiting for the log to grow (the relay) wakes at once instead of polling.
APPENDED_CHANNEL = "sealed_log_appended"
NOTIFY_SQL = f'NOTIFY "{APPENDED_CHANNEL}"'


def sealed_rows(batch: list[tuple[int, dict[str, Any]]]) -> list[tuple]:
    """The sealed log's rows for ``(notification id, sealed envelope)`` pairs."""
    return [
        (e["seq"], nid, e["event_type"], e["aggregate_id"], e["aggregate_version"], e["institution_id"],
         utc_microseconds(e["recorded_at"]), e["hash"], canonical_json(e))
        for nid, e in batch
    ]


@dataclass(frozen=True)
class SealedRecord:
    seq: int
    notification_id: int
    envelope_bytes: bytes

    @property
    def envelope(self) -> dict[str, Any]:
        return loads(self.envelope_bytes)


class SealedLog:
    def __init__(self, location: str | Path | LedgerDatabase) -> None:
        self.db = location if isinstance(location, LedgerDatabase) else open_database(location)
        self.location = self.db.location
        self.db.create(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def head(self) -> Head:
        row = self.db.row(HEAD_SQL)
        return Head(*row) if row else EMPTY_HEAD

    def append(self, expected_head: Head, batch: list[tuple[int, dict[str, Any]]]) -> Head:
        """Append ``(notification_id, sealed envelope)`` pairs continuing ``expected_head``.

        Raises ``StoreConflict`` if someone else sealed first (the caller re-reads the head).
        """
        rows = sealed_rows(batch)
        with self.db.transaction() as tx:
            row = tx.execute(HEAD_SQL)
            if (Head(*row[0]) if row else EMPTY_HEAD) != expected_head:
                raise StoreConflict("sealed log head moved")
            tx.executemany(INSERT_SQL, rows)
            if is_postgres(self.location):
                tx.execute(NOTIFY_SQL)
        last_nid, last = batch[-1]
        return Head(last["seq"], last_nid, last["hash"])

    def wait_for_append(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a transaction appending to the log to commit; True if one
        did. Only PostgreSQL says so; on SQLite this returns False at once (the caller polls)."""
        return self.db.wait_for_notice(APPENDED_CHANNEL, timeout)

    def seq_of(self, aggregate_id: str, aggregate_version: int) -> int | None:
        """The seq sealed for one version of one aggregate, or None if not sealed yet."""
        row = self.db.row(
            "SELECT seq FROM sealed_log WHERE aggregate_id = ? AND aggregate_version = ?",
            (aggregate_id, aggregate_version),
        )
        return row[0] if row else None

    def seq_before(self, moment: str) -> int:
        """The last seq recorded at or before an ISO 8601 moment (0 if none)."""
        row = self.db.row(
            "SELECT max(seq) FROM sealed_log WHERE recorded_at <= ?", (utc_microseconds(moment),)
        )
        return row[0] or 0

    def aggregates_of(self, institution_id: str) -> list[tuple[str, str]]:
        """(aggregate_id, first event type) of every aggregate whose events concern the institution."""
        rows = self.db.rows(
            "SELECT aggregate_id, event_type FROM sealed_log WHERE institution_id = ? AND aggregate_version = 1",
            (institution_id,),
        )
        return [(a, t) for a, t in rows]

    def aggregates_with(self, event_types: tuple[str, ...]) -> list[str]:
        """Ids of the aggregates that have at least one sealed event of these types, oldest first."""
        marks = ",".join("?" * len(event_types))
        rows = self.db.rows(
            f"SELECT aggregate_id, min(seq) AS first FROM sealed_log WHERE event_type IN ({marks}) "
            "GROUP BY aggregate_id ORDER BY first",
            event_types,
        )
        return [r[0] for r in rows]

    def read(self, after_seq: int = 0, limit: int = 1000, *, up_to_seq: int | None = None) -> list[SealedRecord]:
        stop = up_to_seq if up_to_seq is not None else 2**62
        rows = self.db.rows(
            "SELECT seq, notification_id, envelope FROM sealed_log WHERE seq > ? AND seq <= ? "
            "ORDER BY seq LIMIT ?",
            (after_seq, stop, limit),
        )
        return [SealedRecord(seq, nid, bytes(env)) for seq, nid, env in rows]

    def read_for_relay(self, after_seq: int, limit: int) -> list[tuple[int, str, str, str, bytes]]:
        """``(seq, key, event_type, hash, envelope bytes)`` after ``after_seq``: what the relay sends,
        from the log's own columns (the key: the institution, else the record) — no envelope parsed."""
        rows = self.db.rows(
            "SELECT seq, COALESCE(institution_id, aggregate_id), event_type, hash, envelope FROM sealed_log "
            "WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        return [(seq, key, event_type, hash_, bytes(env)) for seq, key, event_type, hash_, env in rows]

    def of_institution(self, institution_id: str, *, up_to_seq: int | None = None) -> list[dict[str, Any]]:
        """Every envelope that names the institution, in seq order, up to ``up_to_seq``."""
        stop = up_to_seq if up_to_seq is not None else 2**62
        rows = self.db.rows(
            "SELECT envelope FROM sealed_log WHERE institution_id = ? AND seq <= ? ORDER BY seq",
            (institution_id, stop),
        )
        return [loads(bytes(r[0])) for r in rows]

    def hashes(self, after_seq: int, count: int) -> list[str]:
        """The ``hash`` of events after_seq + 1 … after_seq + count (fewer if the log is shorter)."""
        rows = self.db.rows(
            "SELECT hash FROM sealed_log WHERE seq > ? AND seq <= ? ORDER BY seq", (after_seq, after_seq + count)
        )
        return [r[0] for r in rows]

    def iterate_types(self, event_types: tuple[str, ...], *, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """Envelopes of the given types, in seq order."""
        marks = ",".join("?" * len(event_types))
        after = 0
        while True:
            rows = self.db.rows(
                f"SELECT seq, envelope FROM sealed_log WHERE event_type IN ({marks}) AND seq > ? ORDER BY seq LIMIT ?",
                (*event_types, after, batch),
            )
            if not rows:
                return
            for _, envelope in rows:
                yield loads(bytes(envelope))
            after = rows[-1][0]

    def iterate(self, after_seq: int = 0, *, up_to_seq: int | None = None, batch: int = 2000) -> Iterator[SealedRecord]:
        while True:
            records = self.read(after_seq, batch, up_to_seq=up_to_seq)
            if not records:
                return
            yield from records
            after_seq = records[-1].seq
