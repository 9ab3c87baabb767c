"""A fold holds equal parts of envelopes once (projections/record_states.SharedParts): the same
officer's actor object, the event type, rule version and legal basis texts. Nothing that reads the
states can tell: the fold is equal, value for value, to one that shares nothing."""

from __future__ import annotations

from bench.dataset import Generator, write
from projections import record_states
from services.audit.replay import digest, lists_as_of
from services.ledger.sealed_log import SealedLog


def test_a_fold_sharing_equal_parts_equals_one_that_shares_nothing(tmp_path, monkeypatch):
    path = tmp_path / "ledger.sqlite"
    write(path, Generator(seed=7, institutions=40, events_target=None, province="32").envelopes())
    log = SealedLog(path)
    head = log.head().seq

    def envelopes():
        return (r.envelope for r in log.iterate())

    states, cut = record_states.fold(envelopes())
    snapshot = digest(lists_as_of(envelopes(), head))
    actors = [d["actor"] for r in states.values() for d in r["decisions"]]
    assert len({id(a) for a in actors}) < len(actors) / 2, "equal actors are one object"
    assert len({id(a) for a in actors}) == len({tuple(a.items()) for a in actors})

    monkeypatch.setattr(record_states.SharedParts, "share", lambda self, envelope: None)
    unshared, unshared_cut = record_states.fold(envelopes())
    assert (states, cut) == (unshared, unshared_cut)
    assert digest(lists_as_of(envelopes(), head)) == snapshot
    assert len({id(d["actor"]) for r in unshared.values() for d in r["decisions"]}) == len(actors)
    log.close()
