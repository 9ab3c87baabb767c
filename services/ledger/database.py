"""Where the ledger's own tables live: beside the event store, in SQLite (embedded) or PostgreSQL
(cluster). The sealed log, the Merkle nodes, the checkpoints, the publication register and the
relay's offsets all go through this one seam, so each of them is written once, in one SQL.

A *location* is either a file path (SQLite) or a ``postgresql://user:password@host:port/db`` URL.
SQL is written in the dialect both engines share, with ``?`` placeholders; DDL is written for
SQLite and PostgreSQL gets four substitutions (``INTEGER`` → ``BIGINT``, ``BLOB`` → ``BYTEA``,
``INTEGER PRIMARY KEY AUTOINCREMENT`` → ``BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY``, and
SQLite's ``WITHOUT ROWID`` dropped).

Two errors cross the seam: ``StoreConflict`` (a write lost a race on a unique key: re-read and
retry) and ``StoreUnavailable`` (the database is locked, down or unreachable: nothing was written).
"""

from __future__ import annotations

import re
import sqlite3
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit


class StoreConflict(Exception):
    """A write lost a race on a unique key; nothing of the transaction was written."""


class StoreUnavailable(Exception):
    """The database is locked, down or unreachable; nothing of the transaction was written."""


class Writer(Protocol):
    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


def is_postgres(location: str | Path) -> bool:
    return str(location).startswith(("postgresql://", "postgres://"))


def postgres_settings(url: str) -> dict[str, str]:
    """The eventsourcing library's POSTGRES_* settings for a ``postgresql://`` URL."""
    parts = urlsplit(url)
    if not parts.hostname or not parts.path.strip("/"):
        raise ValueError("a PostgreSQL location is postgresql://user:password@host:port/database")
    return {
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_DBNAME": unquote(parts.path.strip("/")),
        "POSTGRES_USER": unquote(parts.username or ""),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
    }


def redacted(location: str | Path) -> str:
    """The location without its password, for logs and error messages."""
    text = str(location)
    if not is_postgres(text):
        return text
    parts = urlsplit(text)
    host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{parts.path}"


def open_database(location: str | Path) -> LedgerDatabase:
    return PostgresDatabase(str(location)) if is_postgres(location) else SQLiteDatabase(str(location))


class LedgerDatabase:
    location: str

    def create(self, schema: str) -> None:
        """Run ``;``-separated DDL (``CREATE … IF NOT EXISTS``), safely against other processes."""
        raise NotImplementedError

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        raise NotImplementedError

    def row(self, sql: str, args: Sequence[Any] = ()) -> tuple | None:
        found = self.rows(sql, args)
        return found[0] if found else None

    def transaction(self) -> Any:
        """A context manager yielding a ``Writer``: everything in it commits together or not at all."""
        raise NotImplementedError

    def wait_for_notice(self, channel: str, timeout: float) -> bool:
        """Block until a transaction that announced itself on ``channel`` commits (True) or ``timeout``
        seconds pass (False). Only PostgreSQL announces (NOTIFY); elsewhere this returns False at once
        and the caller waits its own way."""
        return False

    def close(self) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redacted(self.location)!r})"


class SQLiteDatabase(LedgerDatabase):
    """One connection per process, shared by threads one statement (or transaction) at a time;
    WAL, so readers in other processes are not blocked by the writer."""

    def __init__(self, path: str, *, timeout: float = 30.0) -> None:
        self.location = path
        self._conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.RLock()

    def create(self, schema: str) -> None:
        with self._lock, _sqlite_errors():
            self._conn.executescript(schema)

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        with self._lock, _sqlite_errors():
            return self._conn.execute(sql, tuple(args)).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[Writer]:
        with self._lock, _sqlite_errors():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SQLiteWriter(self._conn)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        self._conn.close()


class _SQLiteWriter:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        return self._conn.execute(sql, tuple(args)).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)


@contextmanager
def _sqlite_errors() -> Iterator[None]:
    try:
        yield
    except sqlite3.IntegrityError as error:
        raise StoreConflict(str(error)) from error
    except sqlite3.OperationalError as error:
        raise StoreUnavailable(str(error)) from error


_PLACEHOLDER = re.compile(r"\?")
_DDL = (
    (re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b"), "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    (re.compile(r"\s*WITHOUT ROWID\b"), ""),
)


def postgres_sql(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))


def postgres_ddl(schema: str) -> list[str]:
    statements = []
    for statement in schema.split(";"):
        if statement.strip():
            for pattern, replacement in _DDL:
                statement = pattern.sub(replacement, statement)
            statements.append(statement.strip())
    return statements


class PostgresDatabase(LedgerDatabase):
    """A small connection pool; each read takes a connection for one statement, each transaction
    one connection for its length (READ COMMITTED: the unique keys decide races)."""

    def __init__(self, url: str, *, pool_size: int = 16, timeout: float = 5.0) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self.location = url
        self._psycopg = psycopg
        settings = postgres_settings(url)
        conninfo = psycopg.conninfo.make_conninfo(
            host=settings["POSTGRES_HOST"], port=settings["POSTGRES_PORT"], dbname=settings["POSTGRES_DBNAME"],
            user=settings["POSTGRES_USER"], password=settings["POSTGRES_PASSWORD"], connect_timeout="2",
            application_name="eldercare-ledger",
        )
        self._conninfo = conninfo
        self._listener: Any = None  # one connection, LISTENing, made on the first wait
        self._listening: set[str] = set()
        self._listen_lock = threading.Lock()
        self._pool = ConnectionPool(
            conninfo, min_size=1, max_size=pool_size, timeout=timeout, open=False, kwargs={"autocommit": True},
            check=ConnectionPool.check_connection,
        )
        with self._errors():
            self._pool.open(wait=True, timeout=timeout)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        errors = self._psycopg.errors
        from psycopg_pool import PoolTimeout

        try:
            yield
        except errors.IntegrityError as error:
            raise StoreConflict(str(error)) from error
        except (self._psycopg.OperationalError, self._psycopg.InterfaceError, PoolTimeout) as error:
            raise StoreUnavailable(str(error)) from error

    def create(self, schema: str) -> None:
        lock = zlib.crc32(schema.encode())  # concurrent CREATE … IF NOT EXISTS can still collide in PostgreSQL
        with self.transaction() as tx:
            tx.execute("SELECT pg_advisory_xact_lock(?)", (lock,))
            for statement in postgres_ddl(schema):
                tx.execute(statement)

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        with self._errors(), self._pool.connection() as conn:
            cur = conn.execute(postgres_sql(sql), tuple(args))
            return cur.fetchall() if cur.description else []

    @contextmanager
    def transaction(self) -> Iterator[Writer]:
        with self._errors(), self._pool.connection() as conn, conn.transaction():
            yield _PostgresWriter(conn)

    def wait_for_notice(self, channel: str, timeout: float) -> bool:
        # Notices that arrive between two waits are kept by the connection: the next wait returns at
        # once. (A notice sent while the listener reconnects is missed: that wait lasts its timeout.)
        with self._listen_lock, self._errors():
            try:
                if self._listener is None:
                    self._listener = self._psycopg.connect(self._conninfo, autocommit=True)
                    self._listening = set()
                if channel not in self._listening:
                    self._listener.execute(f'LISTEN "{channel}"')
                    self._listening.add(channel)
                return any(True for _ in self._listener.notifies(timeout=timeout, stop_after=1))
            except self._psycopg.Error:
                if self._listener is not None:
                    self._listener.close()
                self._listener = None
                raise

    def close(self) -> None:
        with self._listen_lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
        self._pool.close()


class _PostgresWriter:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        cur = self._conn.execute(postgres_sql(sql), tuple(args))
        return cur.fetchall() if cur.description else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(postgres_sql(sql), [tuple(r) for r in rows])
