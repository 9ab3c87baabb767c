"""SearchIndex on SQLite with FTS5 trigram indexes (the embedded profile: no servers).

Substrings of three characters or more go through the trigram index. Two characters (a common
query: 通道, 消防) go through a bigram index of the records' texts (``records_bigrams``: each text's
overlapping pairs of characters as tokens, made by ``bigrams`` in the triggers), as a full scan of
every department's records would take a tenth of a second at national scale; over institutions, and
for a single character, LIKE scans, which over a province's institutions is still fast. Documents
and the projector position change in one transaction.

The file's layout has a version (``PRAGMA user_version``): an index of an older layout is emptied
and made anew on opening, and the projector rebuilds it from the ledger (it is a projection).
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from events.envelope import GENESIS_HASH
from projections.record_states import COLUMNS as STATE_COLUMNS
from projections.record_states import StateQuery, row
from projections.search.index import (
    INSTITUTION_FACETS,
    RECORD_FACETS,
    InstitutionQuery,
    RecordQuery,
    SearchResult,
    decode_cursor,
    encode_cursor,
    facet_key,
    institution_fields,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS institutions (
    id TEXT NOT NULL UNIQUE, seq INTEGER NOT NULL, name TEXT NOT NULL, address TEXT NOT NULL, credit_code TEXT,
    receipt_no TEXT, region_code TEXT NOT NULL, status TEXT NOT NULL, name_pinyin TEXT NOT NULL, name_initials TEXT NOT NULL,
    grade_level INTEGER NOT NULL, listed INTEGER NOT NULL, open_major_hazard INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS institution_docs (id TEXT PRIMARY KEY, doc BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS institutions_sort ON institutions (name, id);
CREATE INDEX IF NOT EXISTS institutions_recent ON institutions (seq);
CREATE INDEX IF NOT EXISTS institutions_region ON institutions (region_code);
CREATE INDEX IF NOT EXISTS institutions_credit ON institutions (credit_code);
CREATE VIRTUAL TABLE IF NOT EXISTS institutions_fts USING fts5(
    name, address, content='institutions', content_rowid='rowid', tokenize='trigram case_sensitive 0'
);
CREATE TRIGGER IF NOT EXISTS institutions_ai AFTER INSERT ON institutions BEGIN
    INSERT INTO institutions_fts(rowid, name, address) VALUES (new.rowid, new.name, new.address);
END;
CREATE TRIGGER IF NOT EXISTS institutions_au AFTER UPDATE ON institutions BEGIN
    INSERT INTO institutions_fts(institutions_fts, rowid, name, address) VALUES ('delete', old.rowid, old.name, old.address);
    INSERT INTO institutions_fts(rowid, name, address) VALUES (new.rowid, new.name, new.address);
END;
CREATE TABLE IF NOT EXISTS records (
    id TEXT NOT NULL UNIQUE, seq INTEGER NOT NULL, version INTEGER NOT NULL, event_type TEXT NOT NULL,
    aggregate_type TEXT NOT NULL, institution_id TEXT, institution_name TEXT NOT NULL, region_code TEXT NOT NULL,
    department TEXT NOT NULL, occurred_at TEXT NOT NULL, document_no TEXT NOT NULL, summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS record_docs (id TEXT PRIMARY KEY, doc BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS records_department ON records (department, seq);
CREATE INDEX IF NOT EXISTS records_region ON records (region_code);
CREATE INDEX IF NOT EXISTS records_seq ON records (seq);
CREATE INDEX IF NOT EXISTS records_institution ON records (institution_id, seq);
CREATE INDEX IF NOT EXISTS records_recent ON records (occurred_at, seq);
CREATE VIRTUAL TABLE IF NOT EXISTS records_fts USING fts5(
    institution_name, summary, document_no, content='records', content_rowid='rowid', tokenize='trigram case_sensitive 0'
);
CREATE TRIGGER IF NOT EXISTS records_ai AFTER INSERT ON records BEGIN
    INSERT INTO records_fts(rowid, institution_name, summary, document_no)
        VALUES (new.rowid, new.institution_name, new.summary, new.document_no);
END;
CREATE TRIGGER IF NOT EXISTS records_au AFTER UPDATE ON records BEGIN
    INSERT INTO records_fts(records_fts, rowid, institution_name, summary, document_no)
        VALUES ('delete', old.rowid, old.institution_name, old.summary, old.document_no);
    INSERT INTO records_fts(rowid, institution_name, summary, document_no)
        VALUES (new.rowid, new.institution_name, new.summary, new.document_no);
END;
CREATE VIRTUAL TABLE IF NOT EXISTS records_bigrams USING fts5(grams, tokenize='ascii', detail=none);
CREATE TRIGGER IF NOT EXISTS records_bigrams_ai AFTER INSERT ON records BEGIN
    INSERT INTO records_bigrams(rowid, grams) VALUES (new.rowid, bigrams(new.institution_name, new.summary, new.document_no));
END;
CREATE TRIGGER IF NOT EXISTS records_bigrams_au AFTER UPDATE ON records BEGIN
    DELETE FROM records_bigrams WHERE rowid = old.rowid;
    INSERT INTO records_bigrams(rowid, grams) VALUES (new.rowid, bigrams(new.institution_name, new.summary, new.document_no));
END;
CREATE TABLE IF NOT EXISTS states (
    id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, seq INTEGER NOT NULL, institution_id TEXT, region_code TEXT,
    status TEXT NOT NULL, opened_on TEXT, ended_on TEXT
);
CREATE TABLE IF NOT EXISTS state_docs (id TEXT PRIMARY KEY, doc BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS states_kind_region ON states (kind, region_code, id);
CREATE INDEX IF NOT EXISTS states_institution ON states (institution_id, id);
CREATE TABLE IF NOT EXISTS projector_position (
    name TEXT PRIMARY KEY, seq INTEGER NOT NULL, cursor INTEGER NOT NULL, hash TEXT NOT NULL
);
"""
LAYOUT = 2  # 2: the records' bigram index
POSITION_NAME = "search"
DOCS = {"institutions": "institution_docs", "records": "record_docs", "states": "state_docs"}
INSTITUTION_COLUMNS = (
    "id", "seq", "name", "address", "credit_code", "receipt_no", "region_code", "status", "name_pinyin", "name_initials",
    "grade_level", "listed", "open_major_hazard",
)
RECORD_COLUMNS = (
    "id", "seq", "version", "event_type", "aggregate_type", "institution_id", "institution_name", "region_code",
    "department", "occurred_at", "document_no", "summary",
)


def _locked(method):
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return locked


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _prefix_range(prefix: str) -> list[str]:
    """Codes starting with ``prefix`` as an index-friendly range: ['3211', '3212')."""
    return [prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)]


def _token_character(c: str) -> bool:
    """A character FTS5's ``ascii`` tokenizer keeps in a token: any beyond ASCII, or a letter or digit."""
    return not c.isascii() or c.isalnum()


def bigrams(*texts: str | None) -> str:
    """Every pair of adjacent characters in each text that the ``ascii`` tokenizer keeps whole, as
    tokens (space-separated, lower case as the tokenizer folds them); pairs never span two texts."""
    out = []
    for text in texts:
        if text:
            out += [text[i : i + 2] for i in range(len(text) - 1) if _token_character(text[i]) and _token_character(text[i + 1])]
    return " ".join(out)


def _substring(fts_table: str, columns: tuple[str, ...], text: str, bigram_table: str | None = None) -> tuple[str, list[Any]]:
    """SQL for a case-insensitive substring of any of ``columns``."""
    if len(text) >= 3:
        return f"rowid IN (SELECT rowid FROM {fts_table} WHERE {fts_table} MATCH ?)", ['"' + text.replace('"', '""') + '"']
    if bigram_table is not None and len(text) == 2 and all(_token_character(c) for c in text):
        return f"rowid IN (SELECT rowid FROM {bigram_table} WHERE {bigram_table} MATCH ?)", ['"' + text + '"']
    likes = " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in columns)
    return f"({likes})", [_like(text)] * len(columns)


def _statements(script: str) -> list[str]:
    """The statements of an SQL script, whole (a trigger's body holds semicolons of its own)."""
    out, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            out.append(pending.strip())
            pending = ""
    return out


class SqliteSearchIndex:
    def __init__(self, path: str | Path) -> None:
        self._conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # A projection, rebuilt from the ledger at will: its commits need not wait for the disk. In WAL
        # mode NORMAL never corrupts the file; a power cut may take the last passes back, and as the
        # position commits with the rows it describes, the projector re-projects exactly those.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.create_function("bigrams", 3, bigrams, deterministic=True)
        self._lay_out()
        self._lock = threading.RLock()  # one connection shared by threads: one transaction at a time

    def _lay_out(self) -> None:
        """The tables of this layout; an index of an older one is emptied first (it is rebuilt).
        Judged under the write lock, so that of two processes opening an old file at once only the
        first empties it (the second finds it made anew and keeps what the first projected since)."""
        if self._conn.execute("PRAGMA user_version").fetchone()[0] == LAYOUT:
            self._conn.executescript(SCHEMA)
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            if self._conn.execute("PRAGMA user_version").fetchone()[0] != LAYOUT:
                held = self._conn.execute("SELECT type, name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetchall()
                fts = {name for _, name in held if name.endswith(("_fts", "_bigrams"))}
                shadows = {name for _, name in held if any(name.startswith(f + "_") for f in fts)}
                for _, name in held:
                    if name not in shadows:  # its triggers and indexes go with it; FTS5 drops its own shadows
                        self._conn.execute(f'DROP TABLE IF EXISTS "{name}"')
                for statement in _statements(SCHEMA):
                    self._conn.execute(statement)
                self._conn.execute(f"PRAGMA user_version = {LAYOUT}")
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._conn.close()

    # --- documents -------------------------------------------------------------------------------

    def _docs(self, table: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for doc_id, doc in self._conn.execute(f"SELECT id, doc FROM {DOCS[table]} WHERE id IN ({marks})", chunk):
                out[doc_id] = orjson.loads(doc)
        return out

    @_locked
    def get(self, institution_id: str) -> dict[str, Any] | None:
        return self._docs("institutions", [institution_id]).get(institution_id)

    @_locked
    def get_many(self, institution_ids: list[str]) -> dict[str, dict[str, Any]]:
        return self._docs("institutions", institution_ids)

    @_locked
    def get_records(self, event_ids: list[str]) -> dict[str, dict[str, Any]]:
        return self._docs("records", event_ids)

    @_locked
    def get_states(self, record_ids: list[str]) -> dict[str, dict[str, Any]]:
        return self._docs("states", record_ids)

    def states(self, query: StateQuery) -> Iterator[dict[str, Any]]:
        where, params = ["id > ?"], [""]
        if query.kinds:
            where.append(f"kind IN ({','.join('?' * len(query.kinds))})")
            params += list(query.kinds)
        if query.region_prefix is not None:
            where.append("region_code >= ? AND region_code < ?")
            params += _prefix_range(query.region_prefix)
        if query.institution_id is not None:
            where.append("institution_id = ?")
            params.append(query.institution_id)
        if query.statuses:
            where.append(f"status IN ({','.join('?' * len(query.statuses))})")
            params += list(query.statuses)
        if query.between is not None:
            where.append("opened_on <= ? AND (ended_on IS NULL OR ended_on >= ?)")
            params += [query.between[1], query.between[0]]
        if not query.retracted:
            where.append("status != 'retracted'")
        sql = f"SELECT id, doc FROM states JOIN state_docs USING (id) WHERE {' AND '.join(where)} ORDER BY id LIMIT 2000"
        while True:
            with self._lock:
                rows = self._conn.execute(sql, params).fetchall()
            for _, doc in rows:
                yield orjson.loads(doc)
            if len(rows) < 2000:
                return
            params[0] = rows[-1][0]

    def documents(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for kind, table in (("institution", "institutions"), ("record", "records"), ("state", "states")):
            after = ""
            while True:
                with self._lock:
                    rows = self._conn.execute(
                        f"SELECT id, doc FROM {DOCS[table]} WHERE id > ? ORDER BY id LIMIT 2000", (after,)
                    ).fetchall()
                if not rows:
                    break
                for doc_id, doc in rows:
                    yield kind, doc_id, orjson.loads(doc)
                after = rows[-1][0]

    @_locked
    def position(self) -> dict[str, Any]:
        row = self._conn.execute(
            "SELECT seq, cursor, hash FROM projector_position WHERE name = ?", (POSITION_NAME,)
        ).fetchone()
        return {"seq": row[0], "cursor": row[1], "hash": row[2]} if row else {"seq": 0, "cursor": 0, "hash": GENESIS_HASH}

    @_locked
    def upsert(self, documents: list[dict[str, Any]], position: dict[str, Any] | None, records: list[dict[str, Any]] = (),
               states: list[dict[str, Any]] = ()) -> None:
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            self._write("institutions", INSTITUTION_COLUMNS, "seq", [
                tuple(fields[c] for c in INSTITUTION_COLUMNS) for fields in map(institution_fields, documents)
            ], [(d["id"], d["seq"]) for d in documents], documents)
            self._write("records", RECORD_COLUMNS, "version", [
                tuple(r[k] if k != "institution_name" else (r[k] or "") for k in RECORD_COLUMNS) for r in records
            ], [(r["id"], r["version"]) for r in records], records)
            self._write("states", STATE_COLUMNS, "seq", [tuple(row(r)[k] for k in STATE_COLUMNS) for r in states],
                        [(r["id"], r["seq"]) for r in states], states)
            if position is not None:  # committed rows are searchable at once: nothing else to publish
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

    def _write(self, table: str, columns: tuple[str, ...], version: str, rows: list[tuple],
               versions: list[tuple[str, int]], docs: list[dict[str, Any]]) -> None:
        """Rows newer than what is stored replace it, with their documents; older ones are ignored."""
        if not rows:
            return
        stored = {}
        for start in range(0, len(versions), 500):
            chunk = [v[0] for v in versions[start : start + 500]]
            marks = ",".join("?" * len(chunk))
            stored.update(self._conn.execute(f"SELECT id, {version} FROM {table} WHERE id IN ({marks})", chunk).fetchall())
        newer = [i for i, (doc_id, v) in enumerate(versions) if stored.get(doc_id, -1) < v]
        if not newer:
            return
        names, marks = ", ".join(columns), ",".join("?" * len(columns))
        updates = ", ".join(f"{c}=excluded.{c}" for c in columns[1:])
        self._conn.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET {updates}", [rows[i] for i in newer]
        )
        self._conn.executemany(
            f"INSERT OR REPLACE INTO {DOCS[table]} (id, doc) VALUES (?, ?)",
            [(docs[i]["id"], orjson.dumps(docs[i], option=orjson.OPT_SORT_KEYS)) for i in newer],
        )

    # --- queries ---------------------------------------------------------------------------------

    def _run(self, table: str, where: list[str], params: list[Any], order: str, page: tuple[str, list[Any]] | None,
             size: int, facets: tuple[str, ...] | None, sort: str, keys: tuple[str, str]) -> SearchResult:
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        counted = None
        if facets:  # the total and every facet from one scan: a count per combination of the facets' values
            columns = ", ".join(facets)
            groups = self._conn.execute(f"SELECT {columns}, count(*) FROM {table} {clause} GROUP BY {columns}", params).fetchall()
            total = sum(group[-1] for group in groups)
            raw: dict[str, dict[Any, int]] = {name: {} for name in facets}
            for group in groups:
                for name, value in zip(facets, group, strict=False):
                    raw[name][value] = raw[name].get(value, 0) + group[-1]
            # in the order a GROUP BY of each facet alone gives (NULL first, then by value)
            counted = {name: {facet_key(bool(v) if name == "listed" else v): raw[name][v]
                              for v in sorted(raw[name], key=lambda v: (v is not None, v))} for name in facets}
        else:
            total = self._conn.execute(f"SELECT count(*) FROM {table} {clause}", params).fetchone()[0]
        page_where, page_params = list(where), list(params)
        if page is not None:
            page_where.append(page[0])
            page_params += page[1]
        page_clause = f"WHERE {' AND '.join(page_where)}" if page_where else ""
        rows = self._conn.execute(
            f"SELECT {keys[0]}, {keys[1]}, id FROM {table} {page_clause} ORDER BY {order} LIMIT ?", [*page_params, size + 1]
        ).fetchall()
        docs = self._docs(table, [row[2] for row in rows[:size]])
        hits = [docs[row[2]] for row in rows[:size]]
        next_cursor = encode_cursor(sort, list(rows[size - 1][:2])) if len(rows) > size else None
        return SearchResult(total=total, hits=hits, next_cursor=next_cursor, facets=counted)

    @_locked
    def search(self, query: InstitutionQuery) -> SearchResult:
        where: list[str] = []
        params: list[Any] = []
        if query.q is not None:
            if query.is_credit_code:
                where.append("credit_code = ?")
                params.append(query.q.upper())
            else:
                text, text_params = _substring("institutions_fts", ("name", "address"), query.q)
                alternatives, alt_params = [text, "receipt_no = ?"], [*text_params, query.q]
                if query.is_letters:
                    alternatives += ["name_pinyin LIKE ? ESCAPE '\\'", "name_initials LIKE ? ESCAPE '\\'"]
                    alt_params += [_like(query.q.lower())] * 2
                where.append("(" + " OR ".join(alternatives) + ")")
                params += alt_params
        if query.region_prefix is not None:
            where.append("region_code >= ? AND region_code < ?")
            params += _prefix_range(query.region_prefix)
        for column, value in (("status", query.status), ("grade_level", query.grade)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if query.status is None:  # a retracted registration only when asked for by its status
            where.append("status != 'retracted'")
        for column, flag in (("listed", query.listed), ("open_major_hazard", query.open_major_hazard)):
            if flag is not None:
                where.append(f"{column} = ?")
                params.append(int(flag))
        if query.sort == "name":
            order, keys = "name, id", ("name", "id")
            page = None if query.cursor is None else ("(name, id) > (?, ?)", decode_cursor(query.cursor, "name"))
        else:
            order, keys = "seq DESC, id", ("seq", "id")
            page = None
            if query.cursor is not None:
                seq, doc_id = decode_cursor(query.cursor, "updated")
                page = ("(seq < ? OR (seq = ? AND id > ?))", [seq, seq, doc_id])
        facets = INSTITUTION_FACETS if query.facets else None
        return self._run("institutions", where, params, order, page, query.size, facets, query.sort, keys)

    @_locked
    def search_records(self, query: RecordQuery) -> SearchResult:
        where: list[str] = []
        params: list[Any] = []
        if query.q is not None:
            text, text_params = _substring("records_fts", ("institution_name", "summary", "document_no"), query.q, "records_bigrams")
            where.append(text)
            params += text_params
        if query.region_prefix is not None:
            where.append("region_code >= ? AND region_code < ?")
            params += _prefix_range(query.region_prefix)
        for column, value in (
            ("institution_id", query.institution_id), ("department", query.department), ("event_type", query.event_type),
            ("aggregate_type", query.aggregate_type),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if query.date_from is not None:
            where.append("occurred_at >= ?")
            params.append(query.date_from.isoformat())
        if query.date_to is not None:
            where.append("occurred_at <= ?")
            params.append(query.date_to.isoformat())
        if query.since_seq is not None:
            where.append("seq > ?")
            params.append(query.since_seq)
        if query.sort == "seq":
            order, keys = "seq", ("seq", "id")
            page = None if query.cursor is None else ("seq > ?", decode_cursor(query.cursor, "seq")[:1])
        else:
            order, keys = "occurred_at DESC, seq DESC", ("occurred_at", "seq")
            page = None
            if query.cursor is not None:
                occurred, seq = decode_cursor(query.cursor, "recent")
                page = ("(occurred_at < ? OR (occurred_at = ? AND seq < ?))", [occurred, occurred, seq])
        facets = RECORD_FACETS if query.facets else None
        return self._run("records", where, params, order, page, query.size, facets, query.sort, keys)
