"""One conformance suite, two SearchIndex backends: SQLite FTS5 (embedded) and Elasticsearch
(cluster). Both are fed the same ledger and must give exactly the expected answers."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from events.lifecycle import DISCOVERED
from projections.institution_document import applies_to, follow
from projections.projector import SearchProjector
from projections.record_states import StateQuery, apply, fold, select
from projections.search.index import InstitutionQuery, QueryInvalid, RecordQuery, SearchQuery
from services.domain.actors import Actor
from services.feeds import SealedLogFeed
from services.ledger.application import Basis, Command
from services.ledger.sealed_log import SealedLog
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
    if key == "xiyang":  # operating for years: it can be graded
        request.update(first_resident_admitted_on="2021-03-01", application_received_on="2021-03-05", filed_on="2021-03-08")
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
    _related_decisions(app, ids)
    app.close()
    return path, ids


FIRE = Actor("fire_rescue", "county", "321111", "消防监督员")


def _related_decisions(app, ids):
    """Every department's records about a few institutions: hazards, a penalty, a listing, a grade."""
    basis = Basis("镇消责改〔2024〕8号", "《消防法》第六十条")
    run = lambda name, request, target=None, actor=county_officer(): app.execute(name, Command(actor, basis, request), target).aggregate_id  # noqa: E731
    run("hazard.identify", {"institution_id": ids["yihe"], "severity": "major", "category": "fire_safety", "criterion_ref": "MH2023-4.2",
                            "description": "消防设施损坏，疏散通道堵塞", "responsible_person": "院长", "identified_on": "2024-05-06"}, actor=FIRE)
    fixed = run("hazard.identify", {"institution_id": ids["yihe_flat"], "severity": "general", "category": "fire_safety",
                                    "criterion_ref": "FIRE-5", "description": "电动车室内充电", "responsible_person": "管理员",
                                    "identified_on": "2024-05-07"}, actor=FIRE)
    run("hazard.rectify", {"rectified_on": "2024-05-08", "measures_taken": "已清理"}, fixed, FIRE)
    run("hazard.verify", {"verified_on": "2024-05-09", "outcome": "closed"}, fixed, FIRE)
    case = run("sanction.file", {"institution_id": ids["yihe"], "ground": "MCA66-46.7", "facts_summary": "侵害老年人权益", "filed_on": "2024-01-08"})
    run("sanction.notify", {"served_on": "2024-01-09", "penalties": [{"type": "fine", "amount": "9000"}], "facts": "经查", "legal_basis": "第46条"}, case)
    run("sanction.decide", {"decision_no": "润民罚决〔2024〕7号", "decided_on": "2024-01-15", "violation_type": "侵害老年人权益",
                            "facts": "经查属实", "legal_basis": "第46条", "penalties": [{"type": "fine", "amount": "9000"}],
                            "compliance": "15日内缴纳", "remedies": "复议或诉讼", "deciding_authority": "润州区民政局"}, case)
    listing = run("listing.propose", {"institution_id": ids["yihe"], "list": "joint_punishment", "ground": "elder_rights_harm",
                                      "grounding_kind": "sanction_case", "grounding_ref": str(case), "proposed_on": "2024-01-22"})
    run("listing.notify", {"served_on": "2024-02-02"}, listing)
    run("listing.decide", {"outcome": "listed", "decided_on": "2024-02-19", "reasons": "事实清楚"}, listing)
    tianan = county_officer("210321")
    run("compliance.assess", {"institution_id": ids["xiyang"], "standard": "GB 38600", "compliant": True, "failed_clauses": [],
                              "assessed_on": "2024-03-01", "assessor": "台安县民政局"}, actor=tianan)
    grading = run("grading.apply", {"institution_id": ids["xiyang"], "requested_level": 2, "applied_on": "2024-05-06"}, actor=tianan)
    for name, request in (
        ("grading.review_eligibility", {"reviewed_on": "2024-05-06"}),
        ("grading.score", {"assessed_on": "2024-05-08", "scores": {"environment": 90, "facilities": 90, "operations": 90, "service": 300}}),
        ("grading.committee", {"decided_on": "2024-05-10", "approved_level": 2}),
        ("grading.start_publicity", {"started_on": "2024-05-13"}),
        ("grading.close_publicity", {"closed_on": "2024-05-20", "objection_upheld": False}),
        ("grading.award", {"awarded_on": "2024-05-21", "certificate_no": "台安养评〔2024〕1号"}),
    ):
        run(name, request, grading, tianan)


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


def documents(envelopes) -> dict[str, dict]:
    """The institution documents the envelopes make, the way the projector makes them."""
    states: dict = {}
    docs: dict = {}
    for envelope in envelopes:
        record = apply(states, envelope)
        if record is None or not applies_to(envelope):
            continue
        key = envelope["aggregate_id"] if envelope["aggregate_type"] == "Institution" else envelope["institution_id"]
        doc = follow(docs.get(key), record, envelope)
        if doc is not None:
            docs[key] = doc
    return docs


def test_a_stale_or_duplicate_document_never_replaces_a_newer_one(index):
    backend, ids, path = index
    current = backend.get(ids["yihe"])
    envelopes = [r.envelope for r in SealedLog(path).read(0, 1000)]
    first = next(e for e in envelopes if e["institution_id"] == ids["yihe"] and e["event_type"] == "InstitutionFiled")
    stale = documents([first])[ids["yihe"]] | {"name": "篡改的名称", "seq": 0}
    backend.upsert([stale, current], backend.position())
    assert backend.get(ids["yihe"]) == current
    assert backend.search(SearchQuery(q="篡改")).total == 0


def test_replaying_the_whole_feed_changes_nothing(index):
    backend, ids, path = index
    before = backend.get_many(sorted(ids.values()))
    position = backend.position()
    # A projector that lost its position folds everything again and writes it all once more.
    docs = documents(r.envelope for r in SealedLog(path).read(0, 1000))
    backend.upsert(list(docs.values()), position)
    assert backend.get_many(sorted(ids.values())) == before
    assert SearchProjector(SealedLogFeed(SealedLog(path)), backend).run_once() == 0


def test_queries_outside_the_contract_are_refused():
    for bad in (dict(region="3211"), dict(status="retired"), dict(size=0), dict(size=201), dict(cursor="%%"), dict(q="x" * 101)):
        with pytest.raises(QueryInvalid):
            SearchQuery(**bad)


def test_pinyin_and_initials_match_what_people_type(index):
    expect(index, InstitutionQuery(q="yihe"), {"yihe", "yihe_flat"})
    expect(index, InstitutionQuery(q="YHYLY"), {"yihe", "xiyang"})  # 颐和养老院, 阳红养老院
    expect(index, InstitutionQuery(q="zjsrzqyh"), {"yihe"})
    expect(index, InstitutionQuery(q="llyly", size=50), {f"leling{i}" for i in range(1, 8)})
    expect(index, InstitutionQuery(q="xiyanghong"), {"xiyang"})


def test_what_other_departments_decided_shows_in_the_institution_filters(index):
    expect(index, InstitutionQuery(grade=2), {"xiyang"})
    expect(index, InstitutionQuery(listed=True), {"yihe"})
    expect(index, InstitutionQuery(open_major_hazard=True), {"yihe"})
    expect(index, InstitutionQuery(open_major_hazard=False, region="321111"), {"yihe_flat"})
    backend, ids, _ = index
    summary = backend.get(ids["yihe"])["summary"]
    assert summary["listings"] == ["joint_punishment"] and summary["penalties"] == 1
    assert summary["open_hazards"] == {"major": 1, "general": 0}


def test_facets_count_everything_the_filters_match(index):
    backend, _, _ = index
    result = backend.search(InstitutionQuery(region="321100", facets=True, size=1))
    assert result.facets["status"] == {"filed": 10, "discovered": 1}
    assert result.facets["region_code"] == {"321111": 2, "321102": 1, "321181": 1, "321112": 7}
    assert result.facets["grade_level"] == {"0": 11}
    assert result.facets["listed"] == {"true": 1, "false": 10}
    assert backend.search(InstitutionQuery(facets=True)).facets["grade_level"] == {"0": len(DATASET) - 1, "2": 1}


def test_sorting_by_last_change_puts_the_latest_first(index):
    backend, ids, _ = index
    hits = backend.search(InstitutionQuery(sort="updated", size=50)).hits
    assert [h["seq"] for h in hits] == sorted((h["seq"] for h in hits), reverse=True)
    assert hits[0]["id"] == ids["xiyang"]  # graded last
    seen, cursor = [], None
    while True:
        page = backend.search(InstitutionQuery(sort="updated", size=4, cursor=cursor))
        seen += [h["id"] for h in page.hits]
        if not (cursor := page.next_cursor):
            break
    assert seen == [h["id"] for h in hits]


def test_an_institutions_timeline_shows_every_departments_decisions_in_order(index):
    backend, ids, _ = index
    timeline = backend.search_records(RecordQuery(institution_id=ids["yihe"], sort="seq", size=50)).hits
    assert [r["seq"] for r in timeline] == sorted(r["seq"] for r in timeline)
    assert [r["event_type"] for r in timeline] == [
        "InstitutionFiled", "HazardIdentified", "SanctionCaseFiled", "PenaltyNoticeServed", "PenaltyDecided",
        "CreditListingProposed", "CreditListingNoticeServed", "CreditListingDecided",
    ]
    assert {r["department"] for r in timeline} == {"civil_affairs", "fire_rescue"}
    assert all(r["institution_name"] == "镇江市润州区颐和养老院" for r in timeline)


def test_records_are_searched_by_text_department_type_and_date(index):
    backend, ids, _ = index
    fire = backend.search_records(RecordQuery(department="fire_rescue", size=50))
    assert {r["event_type"] for r in fire.hits} == {"HazardIdentified", "HazardRectified", "HazardVerified"}
    assert {r["id"] for r in backend.search_records(RecordQuery(q="消防", size=50)).hits} == {
        r["id"] for r in fire.hits if "消防" in r["summary"]
    }
    assert backend.search_records(RecordQuery(q="润民罚决〔2024〕7号")).total == 0  # document numbers are the basis's, not the decision's
    decided = backend.search_records(RecordQuery(event_type="PenaltyDecided"))
    assert decided.total == 1 and decided.hits[0]["payload"]["decision_no"] == "润民罚决〔2024〕7号"
    window = backend.search_records(RecordQuery(date_from=date(2024, 5, 7), date_to=date(2024, 5, 9), size=50))
    assert {r["occurred_at"] for r in window.hits} <= {"2024-05-07", "2024-05-08", "2024-05-09"}
    assert sorted(r["event_type"] for r in window.hits) == [
        "GradingAssessmentScored", "HazardIdentified", "HazardRectified", "HazardVerified",
    ]
    recent = backend.search_records(RecordQuery(region="210321", size=50)).hits
    assert [(r["occurred_at"], r["seq"]) for r in recent] == sorted(((r["occurred_at"], r["seq"]) for r in recent), reverse=True)


def test_the_change_feed_pages_through_everything_after_a_seq_once(index):
    backend, _, path = index
    total = SealedLog(path).head().seq
    seen, cursor = [], None
    while True:
        page = backend.search_records(RecordQuery(since_seq=10, sort="seq", size=7, cursor=cursor))
        seen += [r["seq"] for r in page.hits]
        if not (cursor := page.next_cursor):
            break
    claims = sum(1 for r in SealedLog(path).iterate(10) if r.envelope["event_type"] == "IdentifierClaimed")
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == total - 10 - claims


def test_record_facets(index):
    backend, _, _ = index
    facets = backend.search_records(RecordQuery(region="321111", facets=True, size=1)).facets
    assert facets["department"]["fire_rescue"] == 4
    assert facets["aggregate_type"]["SanctionCase"] == 3


def test_reconciliation_finds_the_index_in_agreement_and_names_a_diverged_document(index):
    from services.audit.reconciliation import Reconciliation, check_index

    backend, ids, path = index
    log = SealedLog(path)
    agreed = Reconciliation()
    check_index(log, backend.documents(), backend.position(), agreed)
    assert agreed.agree, agreed.disagreements
    assert agreed.summaries["index"]["institutions"] == len(ids)

    def diverged():
        for kind, doc_id, document in backend.documents():
            if doc_id == ids["yihe"]:
                document = dict(document, name="被改动的名称")
            if kind == "record" and doc_id == next(iter(sorted(r for k, r, _ in backend.documents() if k == "record"))):
                continue  # one record lost
            yield kind, doc_id, document

    found = Reconciliation()
    check_index(log, diverged(), backend.position(), found)
    problems = {(d.subject.split()[0], d.problem) for d in found.disagreements}
    assert ("institution", "document differs from what the ledger folds to") in problems
    assert ("record", "missing from the index") in problems
    assert f"institution {ids['yihe']}" in {d.subject for d in found.disagreements}
    log.close()


@pytest.mark.parametrize("query", [
    StateQuery(kinds=("Institution",), region="321100", statuses=(DISCOVERED,)),
    StateQuery(kinds=("Institution",), statuses=(DISCOVERED,)),
    StateQuery(kinds=("Hazard",), region="321111", statuses=("identified", "closed")),
    StateQuery(kinds=("Hazard", "SanctionCase", "CreditListing"), region="321111"),
    StateQuery(statuses=("listed",)),
])
def test_record_states_are_selected_as_the_fold_of_the_ledger_selects_them(index, query):
    """The record-state query (kinds, region, statuses) answers exactly what the same selection over
    a fresh fold of the sealed log answers."""
    backend, ids, path = index
    folded, _ = fold(r.envelope for r in SealedLog(path).iterate())
    expected = [r["id"] for r in select(folded.values(), query)]
    assert [r["id"] for r in backend.states(query)] == expected and expected, query
    if query.statuses == (DISCOVERED,) and query.region == "321100":
        assert expected == [ids["yihe_flat"]]


def test_two_character_record_searches_find_exactly_the_records_containing_them(index):
    """Every two-character query over records (the bigram index on SQLite, n-grams on Elasticsearch)
    finds exactly the records whose institution name, summary or document number contain it, in any
    case — pairs with punctuation, digits and Latin letters included."""
    backend, _, _ = index
    everything = backend.search_records(RecordQuery(size=200)).hits
    assert everything, "the dataset has records"

    def texts(r):
        return [str(r.get(f) or "") for f in ("institution_name", "summary")] + [str((r.get("basis") or {}).get("document_no") or "")]

    pairs = sorted({t[i : i + 2] for r in everything for t in texts(r) for i in range(len(t) - 1)})
    assert len(pairs) > 40
    for pair in pairs[:: max(1, len(pairs) // 60)] + ["消防", "XF", "xf"]:
        wanted = {r["id"] for r in everything if any(pair.lower() in t.lower() for t in texts(r))}
        found = backend.search_records(RecordQuery(q=pair, size=200))
        assert {h["id"] for h in found.hits} == wanted and found.total == len(wanted), pair


def test_an_embedded_index_of_an_older_layout_is_made_anew_and_rebuilt(ledger_with_dataset, tmp_path):
    """The SQLite index's layout has a version: opened by a newer layout, an older file is emptied
    (position back to the start) and the projector rebuilds it; its answers are then the new layout's."""
    import sqlite3

    from projections.search.sqlite_fts import LAYOUT, SqliteSearchIndex

    path, _ = ledger_with_dataset
    old = SqliteSearchIndex(tmp_path / "search.sqlite")
    SearchProjector(SealedLogFeed(SealedLog(path)), old).catch_up()
    expected = old.search_records(RecordQuery(q="消防", size=200)).total
    assert expected > 0 and old.position()["seq"] == SealedLog(path).head().seq
    old.close()
    raw = sqlite3.connect(tmp_path / "search.sqlite")
    raw.execute("DELETE FROM records_bigrams")  # as an index of the layout before the bigrams would answer
    raw.execute("PRAGMA user_version = 1")
    raw.commit()
    raw.close()
    reopened = SqliteSearchIndex(tmp_path / "search.sqlite")
    assert reopened.position()["seq"] == 0 and reopened.search_records(RecordQuery(size=1)).total == 0
    assert sqlite3.connect(tmp_path / "search.sqlite").execute("PRAGMA user_version").fetchone()[0] == LAYOUT
    SearchProjector(SealedLogFeed(SealedLog(path)), reopened).catch_up()
    assert reopened.search_records(RecordQuery(q="消防", size=200)).total == expected
    reopened.close()


def test_of_two_processes_opening_an_older_layout_only_the_first_empties_it(ledger_with_dataset, tmp_path):
    """The layout is judged under the write lock: a second opener that waited while the first made
    the file anew keeps what the first has projected since."""
    import sqlite3
    import threading

    from projections.search.sqlite_fts import LAYOUT, SqliteSearchIndex

    path = tmp_path / "search.sqlite"
    SqliteSearchIndex(path).close()
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA user_version = 1")  # an older layout
    raw.execute("BEGIN IMMEDIATE")  # the first opener, in the middle of making it anew
    opened: list[SqliteSearchIndex] = []
    second = threading.Thread(target=lambda: opened.append(SqliteSearchIndex(path)))
    second.start()
    second.join(0.5)
    assert second.is_alive(), "the second opener waits for the write lock"
    raw.execute("INSERT INTO projector_position (name, seq, cursor, hash) VALUES ('search', 7, 7, 'h')")
    raw.execute(f"PRAGMA user_version = {LAYOUT}")
    raw.execute("COMMIT")
    second.join(10)
    assert opened and opened[0].position()["seq"] == 7, "what the first opener wrote since is kept"
    opened[0].close()
    raw.close()
