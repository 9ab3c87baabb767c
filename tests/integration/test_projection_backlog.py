"""A backlog projected into Elasticsearch in batches whose positions are published only now and
then (issue #14): whenever a reader sees a position, every document up to it is searchable — not
only readable by id — and at the end the index holds what the embedded index holds."""

from __future__ import annotations

import uuid

import pytest

from bench.dataset import Generator, write
from projections import projector as projector_module
from projections.projector import SearchProjector
from projections.record_states import StateQuery
from projections.search.elastic import ElasticSearchIndex, connect
from projections.search.sqlite_fts import SqliteSearchIndex
from services.feeds import SealedLogFeed
from services.ledger.sealed_log import SealedLog

pytestmark = pytest.mark.servers


def test_every_published_position_is_searchable_and_the_end_is_the_embedded_index(local_servers, tmp_path, monkeypatch):
    store = tmp_path / "ledger.sqlite"
    write(store, Generator(seed=1404, institutions=120, events_target=None, province="32").envelopes())
    reference = SqliteSearchIndex(tmp_path / "search.sqlite")
    SearchProjector(SealedLogFeed(SealedLog(store)), reference).catch_up()
    record_ids = {state["id"] for state in reference.states(StateQuery(retracted=True))}

    client = connect(local_servers["ELDERCARE_ES_URL"], local_servers["ELDERCARE_ES_USER"], local_servers["ELDERCARE_ES_PASSWORD"])
    index = ElasticSearchIndex(client, f"backlog-{uuid.uuid4().hex[:8]}")
    reader = ElasticSearchIndex(connect(local_servers["ELDERCARE_ES_URL"], local_servers["ELDERCARE_ES_USER"],
                                        local_servers["ELDERCARE_ES_PASSWORD"]), index.prefix)
    seen: list[tuple[int, int, int]] = []  # (published seq, states a search finds, states first recorded up to it)
    first_seq: dict[str, int] = {}  # each record's first event
    for sealed in SealedLog(store).iterate():
        first_seq.setdefault(sealed.envelope["aggregate_id"], sealed.seq)
    stored = index.upsert

    def observed(documents, position, records=(), states=()):
        stored(documents, position, records, states)
        if position is not None:  # what a department's search sees the moment the position moves
            found = sum(1 for _ in reader.states(StateQuery(retracted=True)))
            expected = sum(1 for record_id in record_ids if first_seq[record_id] <= position["seq"])
            seen.append((position["seq"], found, expected))

    monkeypatch.setattr(index, "upsert", observed)
    monkeypatch.setattr(projector_module, "PUBLISH_EVERY_S", 0.02)
    try:
        SearchProjector(SealedLogFeed(SealedLog(store)), index, batch_size=97).catch_up()
        assert len(seen) >= 2, seen
        assert all(found == expected for _, found, expected in seen), seen
        assert index.position() == reference.position()
        assert sorted(reader.states(StateQuery(retracted=True)), key=lambda s: s["id"]) == \
            sorted(reference.states(StateQuery(retracted=True)), key=lambda s: s["id"])
    finally:
        client.options(ignore_status=404).indices.delete(index=f"{index.prefix}-*")
        reader.close()
        client.close()
