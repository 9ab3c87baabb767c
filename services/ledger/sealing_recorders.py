"""The event store's recorders, sealing each save in the save's own transaction.

A decision's events and their places in the ledger (seq, prev_hash, hash: ``services/ledger/
sealer.sealed_batch``) commit together: one transaction, one commit, and no moment in which an
event is stored but not sealed (a transaction may hold the decisions of several requests saved at
the same moment: services/ledger/group_commit.py). Saves are already serialised by the store — SQLite has one writer
at a time, and the eventsourcing library's PostgreSQL recorder locks the events table (EXCLUSIVE)
so that notification ids are issued in commit order — so the head read inside the transaction is
the head the batch continues. Anything stored earlier and not sealed (a store written before saves
sealed themselves) is sealed first, in the same transaction, so the chain keeps notification order.
A collision on the sealed log's keys (a catch-up ``Sealer`` appending at the same moment) fails
the whole save with the library's IntegrityError: the ledger reloads and retries, as for any race.

The application sets ``mapper`` (services/ledger/application.open_ledger); without one a recorder
records like the library's own and the catch-up sealer seals later.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, Mapper, Notification, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from services.ledger.database import postgres_sql
from services.ledger.sealed_log import EMPTY_HEAD, HEAD_SQL, INSERT_SQL, NOTIFY_SQL, Head, sealed_rows
from services.ledger.sealer import sealed_batch

Execute = Callable[[Any, Sequence[Any]], list[Sequence[Any]]]


class SealsInTransaction:
    """What both recorders add: seal the events just inserted, in the inserting transaction."""

    mapper: Mapper | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sealed = threading.local()

    def sealed_head(self) -> Head | None:
        """The head this thread's last save sealed (read after the save returned: committed)."""
        return getattr(self._sealed, "head", None)

    def sealed_seqs(self) -> dict[tuple[str, int], int]:
        """The seq this thread's last save gave each of its events, by (aggregate id, version)."""
        return dict(getattr(self._sealed, "seqs", {}))

    def _originator(self, stored: Any) -> Any:
        return stored  # PostgreSQL gives a UUID back; SQLite's text is converted below

    def _seal(self, execute: Execute, insert: Callable[[list[tuple]], None], stored: Sequence[StoredEvent],
              ids: Sequence[int], unsealed_sql: Any) -> None:
        self._sealed.head, self._sealed.seqs = None, {}
        if self.mapper is None or not stored:
            return
        rows = execute(HEAD_SQL, ())
        head = Head(*rows[0]) if rows else EMPTY_HEAD
        earlier = [Notification(id=r[0], originator_id=self._originator(r[1]), originator_version=r[2], topic=r[3], state=bytes(r[4]))
                   for r in execute(unsealed_sql, (head.notification_id, ids[0]))]
        new = [Notification(id=nid, originator_id=s.originator_id, originator_version=s.originator_version, topic=s.topic,
                            state=s.state) for nid, s in zip(ids, stored, strict=True)]
        batch = sealed_batch(self.mapper, head, [*earlier, *new])
        insert(sealed_rows(batch))
        last_nid, last = batch[-1]
        self._sealed.head = Head(last["seq"], last_nid, last["hash"])
        self._sealed.seqs = {(e["aggregate_id"], e["aggregate_version"]): e["seq"] for _, e in batch}


class SealingSQLiteRecorder(SealsInTransaction, SQLiteApplicationRecorder):
    def _originator(self, stored: Any) -> Any:
        return self.convert_originator_id(stored)

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)

        def execute(sql: str, args: Sequence[Any]) -> list[Sequence[Any]]:
            c.execute(sql, tuple(args))
            return c.fetchall()

        unsealed = (f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name} "
                    "WHERE rowid > ? AND rowid < ? ORDER BY rowid")
        self._seal(execute, lambda rows: c.executemany(INSERT_SQL, rows), stored_events, ids or [], unsealed)
        return ids


class SealingPostgresRecorder(SealsInTransaction, PostgresApplicationRecorder):
    """The library's insert (table lock, pipelined inserts, notification ids returned), then the seal
    — both inside one transaction that any exception rolls back. (The library's own method leaves its
    transaction block normally when a Python error follows the inserts, which would commit them.)"""

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if self.datastore.enable_db_functions:
            raise RuntimeError("the ledger seals in the save's transaction: POSTGRES_ENABLE_DB_FUNCTIONS must be off")
        if not stored_events:
            return []
        with self.datastore.get_connection() as conn, conn.transaction():
            failed: Exception | None = None
            with conn.pipeline() as pipeline, conn.cursor() as curs:
                try:
                    self._insert_stored_events(curs, stored_events, **kwargs)
                    pipeline.sync()  # a key violation is raised here, not at commit
                    ids = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
                except Exception as error:  # re-raised outside the pipeline (psycopg warns otherwise)
                    failed = error
            if failed is not None:
                raise failed
            with conn.cursor() as curs:

                def execute(sql: Any, args: Sequence[Any]) -> list[Sequence[Any]]:
                    curs.execute(postgres_sql(sql) if isinstance(sql, str) else sql, tuple(args))
                    return [tuple(row.values()) for row in curs.fetchall()] if curs.description else []

                unsealed = SQL(
                    "SELECT notification_id, originator_id, originator_version, topic, state FROM {0}.{1} "
                    "WHERE notification_id > %s AND notification_id < %s ORDER BY notification_id"
                ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
                self._seal(execute, lambda rows: curs.executemany(postgres_sql(INSERT_SQL), rows), stored_events, ids or [],
                           unsealed)
                curs.execute(NOTIFY_SQL)  # the relay wakes when this commits
        return ids
