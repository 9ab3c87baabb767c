"""Decisions saved at the same moment share one transaction, and each keeps its own answer
(services/ledger/group_commit.py)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from events.envelope import verify_chain
from services.domain.errors import Conflict
from services.ledger.group_commit import MAX_BATCH, GroupCommit
from tests.conftest import command, discovery_request


@dataclass
class Event:
    originator_id: UUID
    originator_version: int


class Store:
    """A stand-in for the event store: each (id, version) once; records transactions; the first one
    can be held open until others are waiting."""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, int], int] = {}
        self.transactions: list[list[Event]] = []
        self.hold = threading.Event()
        self.holding = threading.Event()
        self.failing: set[str] = set()
        self.interrupt_at: int | None = None  # the transaction (0-based) interrupted by a BaseException

    def record(self, events: list[Event]) -> dict[tuple[str, int], int]:
        if not self.transactions:
            self.holding.set()
            assert self.hold.wait(10)
        keys = [(str(e.originator_id), e.originator_version) for e in events]
        if self.interrupt_at == len(self.transactions):
            self.interrupt_at = None
            raise Interrupted()
        if any(k[0] in self.failing for k in keys):
            raise ValueError("disk full")
        if any(k in self.stored for k in keys):
            raise IntegrityError("duplicate")
        self.transactions.append(events)
        for key in keys:
            self.stored[key] = len(self.stored) + 1
        return {k: self.stored[k] for k in keys}


class Interrupted(BaseException):
    """As KeyboardInterrupt or SystemExit would, in the leader's thread."""


def waiting(group: GroupCommit, n: int) -> None:
    deadline = time.monotonic() + 10
    while len(group._waiting) < n:
        assert time.monotonic() < deadline, "saves never queued"
        time.sleep(0.001)


def test_saves_arriving_during_a_commit_are_written_together_in_one_transaction():
    store, commits = Store(), []
    group = GroupCommit(store.record, lambda: commits.append(len(store.transactions)))
    ids = [uuid4() for _ in range(9)]
    with ThreadPoolExecutor(9) as pool:
        first = pool.submit(group.save, [Event(ids[0], 1)])
        assert store.holding.wait(10)
        rest = [pool.submit(group.save, [Event(i, 1), Event(i, 2)]) for i in ids[1:]]
        waiting(group, 8)
        store.hold.set()
        answers = [first.result(timeout=10), *(f.result(timeout=10) for f in rest)]
    assert [len(t) for t in store.transactions] == [1, 16]  # the first alone, then the eight waiting together
    assert commits == [1, 2] and (group.batches, group.largest) == (2, 8)
    for i, answer in zip(ids, answers, strict=True):  # each save gets the places of its own events only
        assert answer == {k: v for k, v in store.stored.items() if k[0] == str(i)}


def test_two_saves_of_the_same_version_in_one_batch_keep_the_first_and_refuse_the_second():
    store = Store()
    group = GroupCommit(store.record)
    held, same = uuid4(), uuid4()
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(group.save, [Event(held, 1)])
        assert store.holding.wait(10)
        a = pool.submit(group.save, [Event(same, 1)])
        waiting(group, 1)
        b = pool.submit(group.save, [Event(same, 1), Event(uuid4(), 1)])
        waiting(group, 2)
        store.hold.set()
        assert first.result() and a.result() == {(str(same), 1): 2}
        assert b.result() is None  # refused for a race: the ledger reloads and retries
    assert len(store.transactions) == 2 and len(store.stored) == 2


def test_a_batch_refused_as_a_whole_is_written_save_by_save_each_with_its_own_outcome():
    store = Store()
    group = GroupCommit(store.record)
    held, taken, broken, fine = uuid4(), uuid4(), uuid4(), uuid4()
    store.stored[(str(taken), 1)] = 0  # another process wrote it first
    store.failing.add(str(broken))
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(group.save, [Event(held, 1)])
        assert store.holding.wait(10)
        raced = pool.submit(group.save, [Event(taken, 1)])
        failed = pool.submit(group.save, [Event(broken, 1)])
        ok = pool.submit(group.save, [Event(fine, 1)])
        waiting(group, 3)
        store.hold.set()
        assert first.result()
        assert raced.result() is None
        with pytest.raises(ValueError, match="disk full"):
            failed.result()
        assert ok.result() == {(str(fine), 1): store.stored[(str(fine), 1)]}
    assert [[e.originator_id for e in t] for t in store.transactions] == [[held], [fine]]


def test_a_lone_save_is_written_at_once_in_its_own_transaction():
    store = Store()
    store.hold.set()
    group = GroupCommit(store.record)
    one = uuid4()
    assert group.save([Event(one, 1)]) == {(str(one), 1): 1}
    assert group.save([Event(one, 1)]) is None and group.batches == 1


def test_saves_past_one_transactions_limit_wait_for_the_next_and_every_one_is_answered():
    store = Store()
    group = GroupCommit(store.record)
    ids = [uuid4() for _ in range(301)]
    with ThreadPoolExecutor(301) as pool:
        first = pool.submit(group.save, [Event(ids[0], 1)])
        assert store.holding.wait(10)
        rest = [pool.submit(group.save, [Event(i, 1)]) for i in ids[1:]]
        waiting(group, 300)
        store.hold.set()
        answers = [first.result(timeout=10), *(f.result(timeout=10) for f in rest)]
    assert [len(t) for t in store.transactions] == [1, MAX_BATCH, 300 - MAX_BATCH]
    assert all(answer == {(str(i), 1): store.stored[(str(i), 1)]} for i, answer in zip(ids, answers, strict=True))


def test_a_transaction_interrupted_fails_its_own_saves_only_and_the_next_ones_commit():
    store = Store()
    store.interrupt_at = 1  # the batch after the held one
    group = GroupCommit(store.record)
    ids = [uuid4() for _ in range(300)]
    with ThreadPoolExecutor(302) as pool:
        first = pool.submit(group.save, [Event(uuid4(), 1)])
        assert store.holding.wait(10)
        rest = [pool.submit(group.save, [Event(i, 1)]) for i in ids]
        waiting(group, 300)
        store.hold.set()
        assert first.result(timeout=10)
        outcomes = []
        for i, future in zip(ids, rest, strict=True):
            try:
                outcomes.append((i, future.result(timeout=10)))
            except (Interrupted, RuntimeError) as failed:
                outcomes.append((i, failed))
        after = pool.submit(group.save, [Event(uuid4(), 1)]).result(timeout=10)  # the group is not left stuck
    failed = [i for i, o in outcomes if isinstance(o, BaseException)]
    # the batch's saves fail; so does the interrupted leader's own, which may have been waiting past the batch
    # (it is then taken out of the queue, never written)
    assert len(failed) in (MAX_BATCH, MAX_BATCH + 1) and sum(isinstance(o, Interrupted) for _, o in outcomes) == 1
    assert not any((str(i), 1) in store.stored for i in failed)  # a save answered with a failure is never written later
    assert all(o == {(str(i), 1): store.stored[(str(i), 1)]} for i, o in outcomes if not isinstance(o, BaseException))
    assert after and len(store.transactions) == 3


def _slow_commits(app, seconds=0.02):
    record = app.group_commit._record

    def slow(events):
        time.sleep(seconds)  # saves pile up behind each commit, as under load
        return record(events)

    app.group_commit._record = slow


def test_concurrent_decisions_are_recorded_once_each_with_the_seq_they_were_given(ledger):
    app, sealer = ledger
    _slow_commits(app)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda i: app.discover(command(discovery_request(name=f"并发托老所{i}"), key=f"k{i}")), range(32)))
    assert app.group_commit.batches < 32 and app.group_commit.largest > 1  # they did share transactions
    records = sealer.log.read(0, 100)
    assert [r.seq for r in records] == list(range(1, 33))
    assert len(list(verify_chain(r.envelope for r in records))) == 32
    by_seq = {r.seq: r.envelope for r in records}
    for i, result in enumerate(results):
        assert not result.replayed
        assert by_seq[result.seq]["aggregate_id"] == result.institution_id
        assert by_seq[result.seq]["payload"]["name"] == f"并发托老所{i}"
    again = app.discover(command(discovery_request(name="并发托老所3"), key="k3"))  # a retried request: its first answer
    assert again.replayed and again.institution_id == results[3].institution_id and sealer.log.head().seq == 32


def test_concurrent_changes_to_one_record_each_land_once_or_are_refused_as_contention(ledger):
    app, sealer = ledger
    found = app.discover(command(discovery_request())).institution_id
    _slow_commits(app)
    handling = discovery_request()["handling"]

    def update(i):
        try:
            return app.execute("institution.update_handling", command({"handling": dict(handling, measures=f"措施{i}"),
                                                                        "updated_on": "2024-04-10"}, key=f"h{i}"), found)
        except Conflict as refused:
            assert refused.code == "CONCURRENT_MODIFICATION"
            return None

    with ThreadPoolExecutor(6) as pool:
        results = [r for r in pool.map(update, range(6)) if r is not None]
    assert results and sorted(r.version for r in results) == list(range(2, 2 + len(results)))
    assert app.institution(found).version == 1 + len(results)
    records = sealer.log.read(0, 100)
    assert [r.envelope["event_type"] for r in records].count("UnfiledHandlingUpdated") == len(results)
    assert len(list(verify_chain(r.envelope for r in records))) == len(records)


def test_a_ledger_with_the_librarys_snapshotting_or_a_cache_that_does_not_fast_forward_is_refused(tmp_path):
    from services.ledger.application import SupervisionLedger, persistence

    with pytest.raises(RuntimeError, match="snapshots"):  # a batch carries events, not the aggregates snapshots need
        SupervisionLedger({**persistence(tmp_path / "ledger.sqlite"), "IS_SNAPSHOTTING_ENABLED": "y"})
    with pytest.raises(RuntimeError, match="fast-forward"):  # nor a cache only a save would update
        SupervisionLedger({**persistence(tmp_path / "ledger.sqlite"), "AGGREGATE_CACHE_MAXSIZE": "100", "AGGREGATE_CACHE_FASTFORWARD": "n"})


def test_a_leader_interrupted_while_its_own_save_waits_past_the_batch_takes_it_out_of_the_queue():
    from services.ledger.group_commit import _Save

    store = Store()
    store.hold.set()
    store.transactions.append([])  # no held first transaction
    store.interrupt_at = 1
    group = GroupCommit(store.record)
    ahead = [_Save([Event(uuid4(), 1)]) for _ in range(MAX_BATCH)]
    group._waiting = list(ahead)  # saves queued before this one: the batch it leads is theirs alone
    mine = uuid4()
    with pytest.raises(Interrupted):
        group.save([Event(mine, 1)])
    assert group._waiting == [] and not group._leading  # not left for a later batch to write
    assert all(isinstance(s.error, RuntimeError) and s.finished for s in ahead)
    other = uuid4()
    assert group.save([Event(other, 1)]) == {(str(other), 1): 1} and (str(mine), 1) not in store.stored
