"""SearchIndex on SQLite with an FTS5 trigram index (the embedded profile: no servers).

Substrings of three characters or more go through the trigram index; shorter ones (two Chinese
characters are a common query) scan with LIKE, which over a province's few thousand rows is still
fast. Documents and the projector position change in one transaction.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from pathlib import Path
from typing import Any

import orjson

from events.envelope import GENESIS_HASH
from projections.search.index import SearchQuery, SearchResult, decode_cursor, encode_cursor

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS institutions (
        id TEXT NOT NULL UNIQUE,
        seq INTEGER NOT NULL,
        name TEXT NOT NULL,
        address TEXT NOT NULL,
        credit_code TEXT,
        receipt_no TEXT,
        region_code TEXT NOT NULL,
        status TEXT NOT NULL,
        doc BLOB NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS institutions_sort ON institutions (name, id)",
    "CREATE INDEX IF NOT EXISTS institutions_region ON institutions (region_code)",
    "CREATE INDEX IF NOT EXISTS institutions_credit ON institutions (credit_code)",
    """CREATE VIRTUAL TABLE IF NOT EXISTS institutions_fts USING fts5(
        name, address, content='institutions', content_rowid='rowid', tokenize='trigram case_sensitive 0'
    )""",
    """CREATE TRIGGER IF NOT EXISTS institutions_ai AFTER INSERT ON institutions BEGIN
        INSERT INTO institutions_fts(rowid, name, address) VALUES (new.rowid, new.name, new.address);
    END""",
    """CREATE TRIGGER IF NOT EXISTS institutions_au AFTER UPDATE ON institutions BEGIN
        INSERT INTO institutions_fts(institutions_fts, rowid, name, address)
            VALUES ('delete', old.rowid, old.name, old.address);
        INSERT INTO institutions_fts(rowid, name, address) VALUES (new.rowid, new.name, new.address);
    END""",
    """CREATE TABLE IF NOT EXISTS projector_position (
        name TEXT PRIMARY KEY, seq INTEGER NOT NULL, cursor INTEGER NOT NULL, hash TEXT NOT NULL
    )""",
)
POSITION_NAME = "institutions"


def _locked(method):
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return locked


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


class SqliteSearchIndex:
    def __init__(self, path: str | Path) -> None:
        self._conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        for statement in SCHEMA:
            self._conn.execute(statement)
        self._lock = threading.RLock()  # one connection shared by threads: one transaction at a time

    def close(self) -> None:
        self._conn.close()

    @_locked
    def get(self, institution_id: str) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT doc FROM institutions WHERE id = ?", (institution_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    @_locked
    def get_many(self, institution_ids: list[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(institution_ids), 500):
            chunk = institution_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for doc_id, doc in self._conn.execute(f"SELECT id, doc FROM institutions WHERE id IN ({marks})", chunk):
                out[doc_id] = orjson.loads(doc)
        return out

    @_locked
    def position(self) -> dict[str, Any]:
        row = self._conn.execute(
            "SELECT seq, cursor, hash FROM projector_position WHERE name = ?", (POSITION_NAME,)
        ).fetchone()
        return {"seq": row[0], "cursor": row[1], "hash": row[2]} if row else {"seq": 0, "cursor": 0, "hash": GENESIS_HASH}

    @_locked
    def upsert(self, documents: list[dict[str, Any]], position: dict[str, Any]) -> None:
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            c.executemany(
                """INSERT INTO institutions (id, seq, name, address, credit_code, receipt_no, region_code, status, doc)
                   VALUES (?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(id) DO UPDATE SET
                     seq=excluded.seq, name=excluded.name, address=excluded.address,
                     credit_code=excluded.credit_code, receipt_no=excluded.receipt_no,
                     region_code=excluded.region_code, status=excluded.status, doc=excluded.doc
                   WHERE excluded.seq > institutions.seq""",
                [
                    (
                        d["id"], d["seq"], d["name"], d["address"], d.get("credit_code"), d.get("receipt_no"),
                        d["region_code"], d["status"], orjson.dumps(d, option=orjson.OPT_SORT_KEYS),
                    )
                    for d in documents
                ],
            )
            c.execute(
                """INSERT INTO projector_position (name, seq, cursor, hash) VALUES (?,?,?,?)
                   ON CONFLICT(name) DO UPDATE SET seq=excluded.seq, cursor=excluded.cursor, hash=excluded.hash
                   WHERE excluded.seq >= projector_position.seq""",
                (POSITION_NAME, position["seq"], position["cursor"], position["hash"]),
            )
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    @_locked
    def search(self, query: SearchQuery) -> SearchResult:
        where, params = [], []
        if query.q is not None:
            q = query.q.strip()
            if query.is_credit_code:
                where.append("credit_code = ?")
                params.append(q.upper())
            else:
                if len(q) >= 3:
                    text = "rowid IN (SELECT rowid FROM institutions_fts WHERE institutions_fts MATCH ?)"
                    params.append(_fts_phrase(q))
                else:
                    text = "(name LIKE ? ESCAPE '\\' OR address LIKE ? ESCAPE '\\')"
                    params += [_like_pattern(q), _like_pattern(q)]
                where.append(f"({text} OR receipt_no = ?)")
                params.append(q)
        if query.region_prefix is not None:
            where.append("substr(region_code, 1, ?) = ?")
            params += [len(query.region_prefix), query.region_prefix]
        if query.status is not None:
            where.append("status = ?")
            params.append(query.status)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        total = self._conn.execute(f"SELECT count(*) FROM institutions {clause}", params).fetchone()[0]
        page_where, page_params = list(where), list(params)
        if query.cursor is not None:
            page_where.append("(name, id) > (?, ?)")
            page_params += list(decode_cursor(query.cursor))
        page_clause = f"WHERE {' AND '.join(page_where)}" if page_where else ""
        rows = self._conn.execute(
            f"SELECT name, id, doc FROM institutions {page_clause} ORDER BY name, id LIMIT ?",
            [*page_params, query.size + 1],
        ).fetchall()
        hits = [orjson.loads(doc) for _, _, doc in rows[: query.size]]
        next_cursor = encode_cursor((rows[query.size - 1][0], rows[query.size - 1][1])) if len(rows) > query.size else None
        return SearchResult(total=total, hits=hits, next_cursor=next_cursor)
