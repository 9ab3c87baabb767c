"""The peer of the decisions benchmark (bench/decisions_http.py): a bare FastAPI endpoint that
inserts the request body as one JSON row into SQLite — WAL, one committed transaction per request,
the same durability as the ledger's SQLite store — served by uvicorn on the same settings as
`eldercare serve` (one process, as many threads as its decisions get).

    BARE_API_DB=/tmp/bare.sqlite .venv/bin/python -m uvicorn bench.bare_api:app --port 8123
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

_local = threading.local()


def connection() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = sqlite3.connect(os.environ["BARE_API_DB"], timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
    return conn


@asynccontextmanager
async def lifespan(_: FastAPI):
    connection().execute("CREATE TABLE IF NOT EXISTS decisions (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
    anyio.to_thread.current_default_thread_limiter().total_tokens = int(os.environ.get("BARE_API_THREADS", "8"))
    yield


app = FastAPI(lifespan=lifespan)


@app.post("/v1/institutions", status_code=201)
def record(body: dict, request: Request) -> JSONResponse:
    decision_id = str(uuid.uuid4())
    conn = connection()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO decisions VALUES (?, ?)", (decision_id, json.dumps(body, ensure_ascii=False)))
    conn.execute("COMMIT")
    return JSONResponse({"institution_id": decision_id}, status_code=201)


@app.get("/readyz")
def ready() -> dict:
    return {"ok": True}
