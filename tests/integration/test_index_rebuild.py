"""Rebuilding the Elasticsearch indices into a new generation and swapping the aliases while
departments keep querying: no query fails, every query sees the whole register, and the live
projector carries on in the new generation."""

from __future__ import annotations

import threading
import uuid

import pytest

from projections.projector import SearchProjector
from projections.rebuild import rebuild
from projections.search.elastic import ElasticSearchIndex, connect
from projections.search.index import InstitutionQuery, RecordQuery
from services.feeds import SealedLogFeed
from services.ledger.application import open_ledger
from services.ledger.sealed_log import SealedLog
from tests.conftest import TODAY, command, filing_request, unique_credit_code

pytestmark = pytest.mark.servers
INSTITUTIONS = 60


def test_a_rebuild_swaps_aliases_with_no_failed_or_partial_query(local_servers, tmp_path):
    store = tmp_path / "ledger.sqlite"
    app, sealer = open_ledger(store, clock=lambda: TODAY)
    for i in range(INSTITUTIONS):
        app.file_new(command(filing_request(name=f"润州区第{i}颐养院", credit_code=unique_credit_code(), receipt_no=f"r-{i}")))
    prefix = f"rebuild-{uuid.uuid4().hex[:8]}"
    client = connect(local_servers["ELDERCARE_ES_URL"], local_servers["ELDERCARE_ES_USER"], local_servers["ELDERCARE_ES_PASSWORD"])
    index = ElasticSearchIndex(client, prefix)
    try:
        SearchProjector(SealedLogFeed(SealedLog(store)), index).catch_up()
        assert index.generation() == 1

        stop, failures, totals = threading.Event(), [], []

        def query_forever():
            reader = ElasticSearchIndex(connect(local_servers["ELDERCARE_ES_URL"], local_servers["ELDERCARE_ES_USER"],
                                                local_servers["ELDERCARE_ES_PASSWORD"]), prefix)
            while not stop.is_set():
                try:
                    totals.append(reader.search(InstitutionQuery(q="颐养")).total)
                    totals.append(reader.search_records(RecordQuery(event_type="InstitutionFiled", size=1)).total)
                except Exception as error:  # noqa: BLE001 — any failure is what this test looks for
                    failures.append(repr(error))
            reader.es.close()

        readers = [threading.Thread(target=query_forever) for _ in range(3)]
        for thread in readers:
            thread.start()
        generation = rebuild(index, lambda: SealedLogFeed(SealedLog(store)), batch_size=7)
        # the live projector keeps going, now in the new generation
        app.file_new(command(filing_request(name="润州区新颐养院", credit_code=unique_credit_code(), receipt_no="r-new")))
        SearchProjector(SealedLogFeed(SealedLog(store)), index).catch_up()
        stop.set()
        for thread in readers:
            thread.join(timeout=30)

        assert failures == []
        assert len(totals) > 20, "the readers did query during the rebuild"
        assert set(totals) <= {INSTITUTIONS, INSTITUTIONS + 1}, "a query saw a half-built index"
        assert generation == index.generation() == 2
        assert not client.indices.exists(index=f"{prefix}-institutions-v2-g1")
        assert index.search(InstitutionQuery(q="新颐养")).total == 1
        assert index.position()["seq"] == sealer.log.head().seq
    finally:
        client.options(ignore_status=404).indices.delete(index=f"{prefix}-*")
        client.close()
        app.close()
