"""A request sent twice with one Idempotency-Key is recorded once and answered the same; a key
reused for a different request is refused; concurrent duplicates still record exactly one event."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from services.domain.errors import Conflict
from tests.conftest import command, discovery_request, filing_request


def test_a_repeated_filing_is_recorded_once_and_answered_the_same(ledger):
    app, sealer = ledger
    first = app.file_new(command(filing_request(), key="req-1"))
    events_after_first = app.recorder.max_notification_id()
    second = app.file_new(command(filing_request(), key="req-1"))
    assert second.institution_id == first.institution_id and second.version == first.version
    assert (first.replayed, second.replayed) == (False, True)
    assert app.recorder.max_notification_id() == events_after_first


def test_a_repeated_filing_of_a_discovered_institution_is_recorded_once(ledger):
    app, _ = ledger
    found = app.discover(command(discovery_request()))
    first = app.file(found.institution_id, command(filing_request(), key="file-1"))
    again = app.file(found.institution_id, command(filing_request(), key="file-1"))
    assert again.replayed and again.version == first.version == 2


def test_a_key_reused_for_another_request_is_refused(ledger):
    app, _ = ledger
    app.discover(command(discovery_request(), key="k"))
    before = app.recorder.max_notification_id()
    with pytest.raises(Conflict) as refused:
        app.discover(command(discovery_request(residents=99), key="k"))
    assert refused.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert app.recorder.max_notification_id() == before


def test_the_same_key_from_another_bureau_is_another_request(ledger):
    from services.domain.actors import Actor

    app, _ = ledger
    a = app.discover(command(discovery_request(), key="k"))
    city = Actor("civil_affairs", "city", "321100", "市局")
    b = app.discover(command(discovery_request(), city, key="k"))
    assert a.institution_id != b.institution_id


def test_concurrent_duplicates_record_exactly_one_event(ledger):
    app, sealer = ledger
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: app.file_new(command(filing_request(), key="race")), range(16)))
    assert len({r.institution_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    sealer.seal_pending()
    types = [r.envelope["event_type"] for r in sealer.log.read(0, 100)]
    assert types.count("InstitutionFiled") == 1
