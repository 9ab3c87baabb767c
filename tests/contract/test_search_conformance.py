"""One conformance suite, two SearchIndex backends: SQLite FTS5 (embedded) and Elasticsearch
(cluster). Both are fed the same ledger and must give exactly the expected answers."""

from __future__ import annotations

import uuid

import pytest

from events.sealed_log import SealedLog
from projections.feed import SealedLogFeed
from projections.institution_document import fold
from projections.projector import SearchProjector
from projections.search.index import QueryInvalid, SearchQuery
from tests.conftest import command, county_officer, discovery_request, filing_request, unique_credit_code

# (key, name, address, county, filed?)
DATASET = [
    ("yihe", "镇江市润州区颐和养老院", "镇江市润州区解放路88号", "321111", True),
    ("yihe_flat", "润州区颐和老年公寓", "镇江市润州区中山路8号", "321111", False),
    ("kangning", "京口区康宁护理院", "镇江市京口区8号路18号", "321102", True),
    ("sunshine", "丹阳市Sunshine颐养中心", "丹阳市人民路1号", "321181", True),
    ("fushou", "鞍山市铁东区福寿养老院", "鞍山市铁东区胜利路100_1号", "210302", True),
    ("songhe", "海城市松鹤*敬老院", "海城市西关街2号", "210381", False),
    ("xiyang", "台安县夕阳红养老院", "台安县新华路3号", "210321", True),
    *[(f"leling{i}", f"丹徒区乐龄养老院{i}号院", f"镇江市丹徒区长江路{i}号", "321112", True) for i in range(1, 8)],
]


def _file(app, name, address, county, key):
    officer = county_officer(county)
    request = filing_request(
        name=name, address=address, region_code=county, credit_code=unique_credit_code(county),
        receipt_no=f"{county}-2024-{key}", registration_authority={"kind": "market_regulation", "level": "county", "region_code": county},
    )
    return app.file_new(command(request, officer)).institution_id


@pytest.fixture(scope="module")
def ledger_with_dataset(tmp_path_factory):
    from services.ledger.application import open_ledger
    from tests.conftest import TODAY

    path = tmp_path_factory.mktemp("conformance") / "ledger.sqlite"
    app, sealer = open_ledger(path, clock=lambda: TODAY)
    ids = {}
    for key, name, address, county, filed in DATASET:
        if filed:
            ids[key] = str(_file(app, name, address, county, key))
        else:
            found = app.discover(command(discovery_request(name=name, address=address, region_code=county), county_officer(county)))
            ids[key] = str(found.institution_id)
    app.close()
    return path, ids


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("elasticsearch", marks=pytest.mark.servers)],
)
def index(request, ledger_with_dataset, tmp_path_factory):
    path, ids = ledger_with_dataset
    if request.param == "sqlite":
        from projections.search.sqlite_fts import SqliteSearchIndex

        backend = SqliteSearchIndex(tmp_path_factory.mktemp("fts") / "search.sqlite")
        cleanup = None
    else:
        config = request.getfixturevalue("local_servers")
        from projections.search.elastic import ElasticSearchIndex, connect

        prefix = f"conformance-{uuid.uuid4().hex[:8]}"
        client = connect(config["ELDERCARE_ES_URL"], config["ELDERCARE_ES_USER"], config["ELDERCARE_ES_PASSWORD"])
        backend = ElasticSearchIndex(client, prefix)

        def cleanup():
            client.options(ignore_status=404).indices.delete(index=f"{prefix}-*")

    SearchProjector(SealedLogFeed(SealedLog(path)), backend, batch_size=5).catch_up()
    yield backend, ids, path
    if cleanup:
        cleanup()
    backend.close()


def names(result) -> set[str]:
    return {hit["name"] for hit in result.hits}


def expect(index, query: SearchQuery, keys: set[str]):
    backend, ids, _ = index
    result = backend.search(query)
    expected = {name for key, name, *_ in DATASET if key in keys}
    assert names(result) == expected, query
    assert result.total == len(expected)
    return result


def test_two_character_chinese_substring(index):
    expect(index, SearchQuery(q="颐和"), {"yihe", "yihe_flat"})


def test_longer_substring(index):
    expect(index, SearchQuery(q="颐和养老"), {"yihe"})


def test_substring_of_an_address_with_digits(index):
    # "8号" is inside "88号", "中山路8号" and "8号路18号"
    expect(index, SearchQuery(q="8号"), {"yihe", "yihe_flat", "kangning"})


def test_latin_letters_match_case_insensitively(index):
    expect(index, SearchQuery(q="sunshine"), {"sunshine"})
    expect(index, SearchQuery(q="SHINE颐"), {"sunshine"})


def test_wildcard_characters_are_literal(index):
    expect(index, SearchQuery(q="*"), {"songhe"})
    expect(index, SearchQuery(q="_"), {"fushou"})
    expect(index, SearchQuery(q="0_"), {"fushou"})
    expect(index, SearchQuery(q="%"), set())
    expect(index, SearchQuery(q="?"), set())


def test_credit_code_matches_exactly_in_any_case(index):
    backend, ids, _ = index
    code = backend.get(ids["kangning"])["credit_code"]
    expect(index, SearchQuery(q=code), {"kangning"})
    expect(index, SearchQuery(q=code.lower()), {"kangning"})


def test_receipt_number_matches_exactly(index):
    expect(index, SearchQuery(q="210302-2024-fushou"), {"fushou"})


@pytest.mark.parametrize(
    "region, keys",
    [
        ("321111", {"yihe", "yihe_flat"}),
        ("321100", {"yihe", "yihe_flat", "kangning", "sunshine", *{f"leling{i}" for i in range(1, 8)}}),
        ("320000", {"yihe", "yihe_flat", "kangning", "sunshine", *{f"leling{i}" for i in range(1, 8)}}),
        ("210300", {"fushou", "songhe", "xiyang"}),
        ("210000", {"fushou", "songhe", "xiyang"}),
        ("350400", set()),
    ],
)
def test_region_filters_by_province_city_or_county(index, region, keys):
    expect(index, SearchQuery(region=region, size=50), keys)


def test_status_filter(index):
    expect(index, SearchQuery(status="discovered"), {"yihe_flat", "songhe"})
    expect(index, SearchQuery(q="颐和", status="filed"), {"yihe"})
    expect(index, SearchQuery(q="颐和", region="210300"), set())


def test_results_are_sorted_by_name_then_id(index):
    backend, _, _ = index
    result = backend.search(SearchQuery(size=50))
    keys = [(h["name"], h["id"]) for h in result.hits]
    assert keys == sorted(keys)
    assert len(keys) == len(DATASET)


def test_pagination_with_a_cursor_visits_every_hit_once_in_order(index):
    backend, _, _ = index
    seen, cursor = [], None
    while True:
        page = backend.search(SearchQuery(region="321112", size=3, cursor=cursor))
        assert page.total == 7
        seen += [(h["name"], h["id"]) for h in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 7


def test_a_stale_or_duplicate_document_never_replaces_a_newer_one(index):
    backend, ids, path = index
    current = backend.get(ids["yihe"])
    envelopes = [r.envelope for r in SealedLog(path).read(0, 1000)]
    first = next(e for e in envelopes if e["institution_id"] == ids["yihe"] and e["event_type"] == "InstitutionFiled")
    stale = fold(None, first) | {"name": "篡改的名称", "seq": 0}
    backend.upsert([stale, current], backend.position())
    assert backend.get(ids["yihe"]) == current
    assert backend.search(SearchQuery(q="篡改")).total == 0


def test_replaying_the_whole_feed_changes_nothing(index):
    backend, ids, path = index
    before = backend.get_many(sorted(ids.values()))
    position = backend.position()
    # A projector that lost its position folds everything again and writes it all once more.
    docs = {}
    for envelope in (r.envelope for r in SealedLog(path).read(0, 1000)):
        if envelope["event_type"] in ("InstitutionFiled", "InstitutionDiscovered"):
            docs[envelope["institution_id"]] = fold(docs.get(envelope["institution_id"]), envelope)
    backend.upsert(list(docs.values()), position)
    assert backend.get_many(sorted(ids.values())) == before
    assert SearchProjector(SealedLogFeed(SealedLog(path)), backend).run_once() == 0


def test_queries_outside_the_contract_are_refused():
    for bad in (dict(region="3211"), dict(status="retired"), dict(size=0), dict(size=201), dict(cursor="%%"), dict(q="x" * 101)):
        with pytest.raises(QueryInvalid):
            SearchQuery(**bad)
