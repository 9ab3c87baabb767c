"""One suite, two event stores: the embedded SQLite file and the cluster's PostgreSQL (a real
server on 127.0.0.1, a database of its own per test). Whatever the ledger promises of its store —
one gap-free chain in commit order whoever writes and whoever seals, idempotent retries, a Merkle
tree that matches the events, checkpoints, publications, relay offsets — holds on both."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from events.envelope import verify_chain
from events.merkle import leaf_hash, root_of, verify_consistency, verify_inclusion
from services.ledger import sealing_recorders
from services.ledger.application import open_ledger
from services.ledger.checkpoints import Checkpointer
from services.ledger.database import StoreConflict
from services.ledger.ledger_tree import LedgerTree
from services.ledger.sealed_log import EMPTY_HEAD, SealedLog
from services.ledger.sealer import Sealer
from services.ledger.signing_key import load_signers
from services.publication import PublicationRegister
from services.relay.kafka_relay import RelayOffsets
from tests.conftest import TODAY, command, county_officer, discovery_request


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.servers)])
def event_store(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "ledger.sqlite")
    return request.getfixturevalue("postgres_database")


def discover(app, names: list[str], key_prefix: str | None = None) -> list:
    return [app.discover(command(discovery_request(name=n), county_officer(), key=f"{key_prefix}{i}" if key_prefix else None))
            for i, n in enumerate(names)]


def test_writers_in_parallel_make_one_gap_free_chain_in_commit_order(event_store):
    """Four writers, each with its own connections (as four API processes would have), write at
    once and each seals after its own commits: every event is sealed once, seqs 1…n without a
    gap, notification order = seq order, and the chain verifies."""
    apps = [open_ledger(event_store, clock=lambda: TODAY) for _ in range(4)]
    start = threading.Barrier(4)

    def write(n: int) -> int:
        app, _ = apps[n]
        start.wait()
        return len(discover(app, [f"并发托老所{n}-{i:02d}" for i in range(15)]))

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sum(pool.map(write, range(4))) == 60
    log = apps[0][1].log
    apps[0][1].seal_pending()
    records = log.read(0, 1000)
    assert [r.seq for r in records] == list(range(1, 61))
    assert [r.notification_id for r in records] == sorted(r.notification_id for r in records)
    assert len(list(verify_chain(r.envelope for r in records))) == 60
    assert sorted(r.envelope["payload"]["name"] for r in records) == sorted(f"并发托老所{n}-{i:02d}" for n in range(4) for i in range(15))
    for app, sealer in apps:
        app.close()
        sealer.log.close()


def test_a_save_and_its_seal_commit_together(event_store, monkeypatch):
    """Each save seals its own events in its own transaction: sealed on return with no sealer run,
    and a seal that fails takes the save with it — no event is ever stored without its place."""
    app, sealer = open_ledger(event_store, clock=lambda: TODAY)
    first = discover(app, ["同一事务托老所"])[0]
    assert sealer.log.head().seq == 1 and app.recorder.sealed_head().seq == 1
    assert sealer.log.seq_of(str(first.aggregate_id), 1) == 1 == first.seq  # the save says where it sealed the decision
    stored = app.recorder.max_notification_id()

    def broken(batch):
        raise RuntimeError("the seal failed")

    monkeypatch.setattr(sealing_recorders, "sealed_rows", broken)
    with pytest.raises(RuntimeError, match="the seal failed"):
        discover(app, ["封存失败托老所"])
    assert app.recorder.max_notification_id() == stored and sealer.log.head().seq == 1  # nothing stored
    monkeypatch.undo()
    assert sealer.seal_pending() == 0
    discover(app, ["之后的托老所"])
    assert sealer.log.head().seq == 2 and len(list(verify_chain(r.envelope for r in sealer.log.read(0, 10)))) == 2
    app.close()
    sealer.log.close()


def test_a_save_seals_what_an_older_store_left_unsealed_first(event_store):
    """A store written before saves sealed themselves: the next save seals the older events before
    its own, in notification order, in its own transaction."""
    app, sealer = open_ledger(event_store, clock=lambda: TODAY)
    app.recorder.mapper = None  # as the older ledger saved: unsealed
    discover(app, [f"旧托老所{i}" for i in range(3)])
    assert sealer.log.head().seq == 0
    app.recorder.mapper = app.mapper
    discover(app, ["新托老所"])
    records = sealer.log.read(0, 10)
    assert [r.envelope["payload"]["name"] for r in records] == ["旧托老所0", "旧托老所1", "旧托老所2", "新托老所"]
    assert [r.notification_id for r in records] == sorted(r.notification_id for r in records)
    assert len(list(verify_chain(r.envelope for r in records))) == 4 and app.recorder.sealed_head().seq == 4
    app.close()
    sealer.log.close()


def test_a_reader_waiting_for_the_log_to_grow_wakes_when_a_save_commits(event_store):
    """PostgreSQL announces each append at its commit (the relay waits on it instead of polling);
    SQLite has no such notice and says so at once."""
    app, sealer = open_ledger(event_store, clock=lambda: TODAY)
    reader = SealedLog(event_store)
    if not event_store.startswith("postgresql"):
        assert reader.wait_for_append(5) is False
    else:
        assert reader.wait_for_append(0.2) is False  # nothing appended: the whole wait
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(reader.wait_for_append, 30)
            time.sleep(0.3)
            assert not waiting.done()
            discover(app, ["唤醒托老所"])
            assert waiting.result(timeout=10) is True
        discover(app, ["未等待时提交的托老所"])  # a notice while nobody waits is kept for the next wait
        assert reader.wait_for_append(0.1) is True
    reader.close()
    app.close()
    sealer.log.close()


def test_racing_sealers_append_each_event_once(event_store):
    app, _ = open_ledger(event_store, clock=lambda: TODAY)
    app.recorder.mapper = None  # saves do not seal: leave everything unsealed, then let four sealers race
    discover(app, [f"托老所{i}" for i in range(40)])
    sealers = [Sealer(app, SealedLog(event_store), batch_size=7) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sum(pool.map(lambda s: s.seal_pending(), sealers)) == 40
    records = sealers[0].log.read(0, 100)
    assert [r.seq for r in records] == list(range(1, 41))
    assert len(list(verify_chain(r.envelope for r in records))) == 40
    with pytest.raises(StoreConflict):  # a batch that does not continue the head is refused
        sealers[0].log.append(EMPTY_HEAD, [(999_999, records[0].envelope)])
    assert sealers[0].log.head().seq == 40
    app.close()
    for s in sealers:
        s.log.close()


def test_a_retried_command_is_recorded_once_and_answered_the_same(event_store):
    app, sealer = open_ledger(event_store, clock=lambda: TODAY)
    first = discover(app, ["重试托老所"], key_prefix="retry-")[0]
    again = discover(app, ["重试托老所"], key_prefix="retry-")[0]
    assert again.replayed and not first.replayed and again.aggregate_id == first.aggregate_id
    assert sealer.log.head().seq == 1
    app.close()
    sealer.log.close()


def test_the_sealed_logs_questions_get_the_same_answers(event_store):
    app, sealer = open_ledger(event_store, clock=lambda: TODAY)
    results = discover(app, [f"查询托老所{i}" for i in range(3)])
    log = sealer.log
    institution = str(results[1].aggregate_id)
    assert [e["payload"]["name"] for e in log.of_institution(institution)] == ["查询托老所1"]
    assert log.seq_of(institution, 1) == 2 and log.seq_of(institution, 2) is None
    assert log.aggregates_with(("InstitutionDiscovered",)) == [str(r.aggregate_id) for r in results]
    assert log.aggregates_of(institution) == [(institution, "InstitutionDiscovered")]
    recorded = log.read(0, 10)[2].envelope["recorded_at"]
    assert log.seq_before(recorded) == 3 and log.seq_before("2000-01-01T00:00:00+08:00") == 0
    assert log.hashes(1, 5) == [r.envelope["hash"] for r in log.read(1, 5)]
    assert [e["payload"]["name"] for e in log.iterate_types(("InstitutionDiscovered",), batch=2)] == [f"查询托老所{i}" for i in range(3)]
    app.close()
    log.close()


def test_the_merkle_tree_checkpoints_and_publications_follow_the_events(event_store, tmp_path):
    app, sealer = open_ledger(event_store, clock=lambda: TODAY)
    app.recorder.mapper = None  # saves do not seal: the sealer seals the lot
    discover(app, [f"树托老所{i:03d}" for i in range(300)])  # more than one stored block of 256
    sealer.seal_pending()
    log = sealer.log
    tree = LedgerTree(log)
    leaves = [leaf_hash(bytes.fromhex(r.envelope["hash"])) for r in log.read(0, 1000)]
    assert tree.root(300) == root_of(leaves) and tree.root(256) == root_of(leaves[:256])
    assert tree.stored_blocks() == 1
    assert verify_inclusion(leaves[260], 260, 300, tree.inclusion(261, 300), root_of(leaves))
    assert verify_consistency(100, 300, tree.consistency(100, 300), root_of(leaves[:100]), root_of(leaves))
    assert len(tree.tile(1, 0, 1)) == 32

    signer = load_signers(tmp_path / "key.pem", "conformance.localhost/ledger", create=True)
    checkpoints = Checkpointer(tree, signer, clock=lambda: datetime(2026, 12, 1, tzinfo=timezone.utc))
    first = checkpoints.issue(256)
    assert checkpoints.issue(256) == first  # one checkpoint per size, however often asked
    latest = checkpoints.issue()
    assert [c.tree_size for c in checkpoints.all()] == [256, 300] and checkpoints.latest() == latest
    assert checkpoints.covering(257) == latest and checkpoints.published_with(300) == [first, latest]

    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("公示", encoding="utf-8")
    register = PublicationRegister(event_store)
    one = register.record(256, site, at=datetime(2026, 12, 1, 1, tzinfo=timezone.utc))
    two = register.record(300, site, at=datetime(2026, 12, 1, 2, tzinfo=timezone.utc))
    assert (one.n, two.n) == (1, 2) and register.all() == [one, two]
    assert register.as_of("2026-12-01T09:30:00+08:00") == one and register.as_of("2026-12-01T08:59:00+08:00") is None
    register.close()

    offsets = RelayOffsets(log)
    assert offsets.last("eldercare.ledger.v1") is None
    offsets.note("eldercare.ledger.v1", 41)
    offsets.note("eldercare.ledger.v1", 299)
    assert offsets.last("eldercare.ledger.v1") == 299
    app.close()
    log.close()
