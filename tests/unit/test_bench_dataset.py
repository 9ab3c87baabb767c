"""The benchmark's synthetic ledger is a real one: every payload passes the catalogue, the chain
verifies, and the projections take it as they take the ledger's own events."""

from bench.dataset import Generator, write
from events import CATALOGUE
from events.catalogue import problems_in
from events.envelope import verify_chain
from projections.projector import SearchProjector
from projections.search.index import InstitutionQuery
from projections.search.sqlite_fts import SqliteSearchIndex
from services.feeds import SealedLogFeed
from services.ledger.sealed_log import SealedLog


def test_the_synthetic_ledger_is_valid_and_projects(tmp_path):
    generator = Generator(seed=7, institutions=80, events_target=None, province="32")
    events, _ = write(tmp_path / "ledger.sqlite", generator.envelopes())
    envelopes = [r.envelope for r in SealedLog(tmp_path / "ledger.sqlite").iterate()]
    assert len(envelopes) == events > 80
    assert len(list(verify_chain(envelopes))) == events
    for envelope in envelopes:
        assert problems_in(CATALOGUE[envelope["event_type"]].fields, envelope["payload"]) == [], envelope["event_type"]
    assert [e["occurred_at"] for e in envelopes] == sorted(e["occurred_at"] for e in envelopes)
    index = SqliteSearchIndex(tmp_path / "search.sqlite")
    SearchProjector(SealedLogFeed(SealedLog(tmp_path / "ledger.sqlite")), index).catch_up()
    assert index.search(InstitutionQuery(region="320000", size=1)).total >= 80 * 0.85
    again = [r.envelope_bytes for r in SealedLog(tmp_path / "ledger.sqlite").iterate()]
    write(tmp_path / "again.sqlite", Generator(seed=7, institutions=80, events_target=None, province="32").envelopes())
    assert [r.envelope_bytes for r in SealedLog(tmp_path / "again.sqlite").iterate()] == again  # seeded: the same ledger
