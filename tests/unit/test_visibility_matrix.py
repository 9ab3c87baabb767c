"""One gate: every GET route of the OpenAPI, asked by seven kinds of reader, with a unique marker
planted in every restricted field of every record kind (tests/scenarios.py). A marker appears only
where the policy lets that reader see it; the built site holds none.

The routes come from the OpenAPI document, so a new route is in the matrix the day it is added; a
required parameter this test does not know how to fill fails the test (deny by default)."""

from __future__ import annotations

import pytest

from projections.disclosure import snapshot_at, write_snapshot
from public_site.build import build_site
from tests.conftest import TODAY, Clock
from tests.scenarios import MARKERS, every_list
from tests.unit.test_api import bearer, serving

HAZARD_MARKERS = {MARKERS["location_detail"], MARKERS["fire_user"]}  # recorded by fire rescue; everything else by civil affairs
ALL_MARKERS = set(MARKERS.values())

# reader → (department, level, region, role) or None for anonymous; and the markers it may see.
READERS = {
    "deciding department, same region": (("fire_rescue", "county", "321111", "officer"), HAZARD_MARKERS),
    "civil affairs, same region": (("civil_affairs", "city", "321100", "viewer"), ALL_MARKERS),
    "another department, same region": (("health", "county", "321111", "officer"), set()),
    "another region": (("civil_affairs", "city", "210300", "officer"), set()),
    "auditor": (("civil_affairs", "province", "320000", "auditor"), ALL_MARKERS),
    "auditor of another province": (("civil_affairs", "province", "210000", "auditor"), set()),
    "viewer of another department": (("market_regulation", "province", "320000", "viewer"), set()),
    "anonymous": (None, set()),
}
QUERY_VALUES = {"since": "0", "region": "321100", "month": "2024-06", "year": "2024", "seq": "1", "from": "1", "size": "200", "metric": "filed"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("matrix")
    with serving(tmp_path / "data", Clock(TODAY), ELDERCARE_RATE_LIMIT_PER_MINUTE="0") as (client, runtime):
        scenario = every_list(runtime.ledger)
        runtime.sealer.seal_pending()
        runtime.transparency.checkpoints.issue()
        yield client, runtime, scenario, tmp_path


def requests(spec, scenario) -> list[tuple[str, dict]]:
    """Every GET of the OpenAPI with its parameters filled: each path parameter with every value it
    can take here (every record, every list), each known query parameter with a value."""
    records = [scenario.home, scenario.found, scenario.hazard, *(e.record_id for e in scenario.entries.values())]
    path_values = {"institution_id": [scenario.home, scenario.found], "record_id": records, "tree_size": ["1"],
                   "name": list(scenario.entries)}
    out = []
    for path, methods in spec["paths"].items():
        operation = methods.get("get")
        if operation is None:
            continue
        params, paths = {}, [path]
        for parameter in operation.get("parameters", []):
            name = parameter["name"]
            if parameter["in"] == "path":
                assert name in path_values, f"{path}: no values for path parameter {name}"
                paths = [p.replace("{" + name + "}", v) for p in paths for v in path_values[name]]
            elif name in QUERY_VALUES:
                params[name] = QUERY_VALUES[name]
            else:
                assert not parameter.get("required"), f"{path}: no value for required query parameter {name}"
        out += [(p, params) for p in paths]
    return out


def test_the_markers_are_planted_where_the_policy_lets_them_be_seen(world):
    client, runtime, scenario, _ = world
    civil = bearer(runtime, "civil_affairs", "county", "321111", "officer")
    home = client.get(f"/v1/records/{scenario.home}", headers=civil).text
    assert MARKERS["contact_person"] in home and MARKERS["legal_representative_id_no"] in home and MARKERS["user"] in home
    fire = bearer(runtime, "fire_rescue", "county", "321111", "officer")
    assert MARKERS["location_detail"] in client.get(f"/v1/hazards/{scenario.hazard}", headers=fire).text


@pytest.mark.parametrize("reader", READERS)
def test_no_marker_reaches_a_reader_the_policy_hides_it_from(world, reader):
    client, runtime, scenario, _ = world
    identity, allowed = READERS[reader]
    headers = bearer(runtime, *identity) if identity else {}
    forbidden = ALL_MARKERS - allowed
    spec = client.get("/openapi.json").json()
    answered, leaks = 0, []
    for path, params in requests(spec, scenario):
        response = client.get(path, params=params, headers=headers)
        assert response.status_code < 500, (path, response.text)
        answered += response.status_code == 200
        leaks += [(path, marker) for marker in forbidden if marker in response.text]
    assert leaks == []
    assert answered >= (3 if identity is None else 10), "the matrix must actually read something"


def test_the_built_site_holds_no_marker(world):
    _, runtime, _, tmp_path = world
    snapshot = snapshot_at(r.envelope for r in runtime.sealer.log.iterate())
    path = write_snapshot(snapshot, tmp_path / "snapshots")
    build_site(path, tmp_path / "site")
    texts = {"snapshot": path.read_text(encoding="utf-8")}
    texts |= {str(p): p.read_bytes().decode("utf-8", errors="replace") for p in (tmp_path / "site").rglob("*") if p.is_file()}
    leaks = [(where, marker) for where, text in texts.items() for marker in ALL_MARKERS if marker in text]
    assert leaks == []
    assert len(texts) > 50


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from events.visibility import ID_NUMBER, MOBILE, mask_personal  # noqa: E402

DIGITS = "0123456789１３８٣XxＸ"  # ASCII, full-width and Arabic-Indic digits: \d matches them all


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from([*DIGITS, "电", "话", " ", "-", "a"]), max_size=40))
def test_masking_skips_only_texts_that_cannot_hold_a_number(text):
    """A text without eleven digits in a row is returned as it is, untouched by the two
    substitutions; every other text gets them: the result is what the substitutions alone give."""
    assert mask_personal(text) == MOBILE.sub(r"\1****\2", ID_NUMBER.sub(r"\1********\2", text))


def test_masking_still_masks_numbers_in_any_digits():
    assert mask_personal("电话13912345678") == "电话139****5678"
    assert mask_personal("证件32011119750101123X号") == "证件320111********123X号"
    assert mask_personal("电话１３９１２３４５６７８") == "电话１３９****５６７８"  # full-width, as an input method types it
    assert mask_personal("证件３２０１１１１９７５０１０１１２３Ｘ") == "证件３２０１１１********１２３Ｘ"
