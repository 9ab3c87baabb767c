"""The cyclic collector is off while a fold runs, in any thread, and on again when the last fold
ends — never left off (projections/collector_pause.py)."""

from __future__ import annotations

import gc
import threading

import pytest

from projections.collector_pause import collector_paused
from projections.record_states import fold


@pytest.fixture(autouse=True)
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_pauses_nest_and_overlap_across_threads_and_the_collector_resumes_after_the_last():
    inside, release = threading.Event(), threading.Event()

    def other_fold():
        with collector_paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other_fold)
    with collector_paused():
        assert not gc.isenabled()
        thread.start()
        inside.wait(5)
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert not gc.isenabled(), "the other thread's fold still runs"
    release.set()
    thread.join(5)
    assert gc.isenabled()


def test_a_failing_fold_resumes_the_collector_and_a_disabled_one_stays_disabled():
    def broken():
        yield {"seq": 2, "prev_hash": "x", "hash": "y", "recorded_at": "2024-01-01T00:00:00+08:00"}

    with pytest.raises(Exception, match="out of chain"):
        fold(broken())
    assert gc.isenabled()
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_a_frozen_heap_is_out_of_the_collectors_sight_and_seen_again_after():
    import weakref

    from projections.collector_pause import heap_frozen

    class Node:
        pass

    cycle = Node()
    cycle.me = cycle  # cyclic garbage only the collector frees
    gone = weakref.ref(cycle)
    with heap_frozen():
        assert gc.get_freeze_count() > 0
        del cycle
        gc.collect()
        assert gone() is not None  # frozen: not collected
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gone() is None
