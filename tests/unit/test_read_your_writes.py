"""The embedded projection is off the write path, and still nobody reads less than was acknowledged:
a decision returns once sealed (the index has not seen it yet), and the next read — whoever makes it,
whatever the follower thread is doing — first brings the index up to the ledger's head as the read
began (projections/read_your_writes.py)."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

from projections import read_your_writes
from projections.read_your_writes import CaughtUpIndex
from services.api.examples import DISCOVERY_EXAMPLE
from tests.unit.test_api import bearer, serving


def discover(client, runtime, name: str, key: str) -> dict:
    answer = client.post("/v1/institutions", json=dict(DISCOVERY_EXAMPLE, name=name), headers=bearer(runtime) | {"Idempotency-Key": key})
    assert answer.status_code == 201, answer.text
    return answer.json()


def names_found(client, runtime, q: str) -> list[str]:
    answer = client.get("/v1/search", params={"q": q}, headers=bearer(runtime))
    assert answer.status_code == 200, answer.text
    return [hit["name"] for hit in answer.json()["hits"]]


def test_a_decision_does_not_wait_for_its_projection_and_the_next_read_sees_it(tmp_path):
    with serving(tmp_path) as (client, runtime):
        recorded = discover(client, runtime, "读己之写托老所", "ryw-1")
        assert recorded["seq"] == runtime.sealer.log.head().seq
        assert runtime.caught_up.index.position()["seq"] < recorded["seq"]  # not projected by the decision
        assert names_found(client, runtime, "读己之写") == ["读己之写托老所"]
        assert runtime.caught_up.index.position()["seq"] == recorded["seq"]


def test_without_the_gate_a_read_after_a_write_misses_it(tmp_path):
    """The negative control: the same index read without catching up does not find the decision."""
    with serving(tmp_path) as (client, runtime):
        discover(client, runtime, "未投影托老所", "ryw-2")
        runtime.search = CaughtUpIndex(runtime.caught_up.index, runtime.projector, wanted=lambda: -1)  # never asks for more
        assert names_found(client, runtime, "未投影") == []


def test_concurrent_writers_each_read_their_own_decision_while_the_follower_runs(tmp_path):
    with serving(tmp_path) as (client, runtime):
        runtime.start_background(schedule_every_s=3600, checkpoint_every_s=3600)

        def write_then_read(n: int) -> list[str]:
            found = []
            for i in range(5):
                name = f"并发读写托老所{n}号{i}"
                discover(client, runtime, name, f"ryw-{n}-{i}")
                found += names_found(client, runtime, f"并发读写托老所{n}号{i}")
            return found

        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(write_then_read, range(4)))
        assert results == [[f"并发读写托老所{n}号{i}" for i in range(5)] for n in range(4)]


def test_a_read_the_index_cannot_catch_up_for_is_refused_never_answered_without_the_decision(tmp_path, monkeypatch):
    with serving(tmp_path) as (client, runtime):
        recorded = discover(client, runtime, "投影失败托老所", "ryw-fail")

        def failing_pass():
            raise sqlite3.OperationalError("database is locked")

        monkeypatch.setattr(runtime.projector, "run_once", failing_pass)
        refused = client.get("/v1/search", params={"q": "投影失败"}, headers=bearer(runtime))
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "SEARCH_UNAVAILABLE", refused.text
        assert refused.headers["Retry-After"]
        status = client.get("/v1/status", headers=bearer(runtime)).json()  # the lag is shown as it is
        assert status["indexed_seq"] < recorded["seq"] == status["sealed_seq"] and status["lag_events"] >= 1
        monkeypatch.undo()
        assert names_found(client, runtime, "投影失败") == ["投影失败托老所"]


def test_a_backlog_is_the_followers_and_readers_wait_for_it(tmp_path, monkeypatch):
    """A gap larger than a reader projects itself (a rebuild, another process's import) is refused
    until the follower, a batch at a time, has brought the index up."""
    with serving(tmp_path) as (client, runtime):
        discover(client, runtime, "积压托老所甲", "ryw-backlog-1")
        discover(client, runtime, "积压托老所乙", "ryw-backlog-2")
        monkeypatch.setattr(read_your_writes, "READER_GAP", 1)
        refused = client.get("/v1/search", params={"q": "积压"}, headers=bearer(runtime))
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "SEARCH_UNAVAILABLE", refused.text
        while runtime.caught_up.step():  # the follower's steps
            pass
        assert sorted(names_found(client, runtime, "积压")) == ["积压托老所乙", "积压托老所甲"]


def test_an_index_emptied_by_another_process_is_caught_up_again_before_the_next_read(tmp_path):
    """Another process may empty the index behind this one's back (a rebuild, a newer layout that
    starts it afresh): the reader compares the index's stored position, not a remembered one, so
    the next read projects again rather than answering from the empty index."""
    with serving(tmp_path) as (client, runtime):
        discover(client, runtime, "清空重建托老所", "ryw-emptied")
        assert names_found(client, runtime, "清空重建") == ["清空重建托老所"]
        other = sqlite3.connect(runtime.settings.search_db_path)
        other.execute("PRAGMA user_version = 1")  # as if of an older layout: the next opener makes it anew
        other.commit()
        other.close()
        from projections.search.sqlite_fts import SqliteSearchIndex

        SqliteSearchIndex(runtime.settings.search_db_path).close()  # another process opens it: emptied
        assert runtime.caught_up.index.position()["seq"] == 0
        assert names_found(client, runtime, "清空重建") == ["清空重建托老所"]
