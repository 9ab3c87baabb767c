"""Canonical JSON and the SHA-256 chain: any altered byte, dropped or reordered event is caught at
the seq where it happened."""

import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.canonical import NotCanonical, _check, canonical_json
from events.envelope import GENESIS_HASH, UNSEALED_FIELDS, ChainBroken, seal, verify_chain

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=15,
)


@settings(max_examples=300)
@given(json_values)
def test_canonical_json_is_what_the_standard_library_writes(value):
    stdlib = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical_json(value) == stdlib


@pytest.mark.parametrize("value", [1.5, 2**60, {1: "a"}, {"a": {1, 2}}])
def test_values_without_a_canonical_form_are_refused(value):
    with pytest.raises(NotCanonical):
        canonical_json(value)


# What a message on the bus may hold: JSON's own types, floats and integers of any size among them,
# and strings that look like numbers after a colon (which must not be mistaken for either).
decoded_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text() | st.sampled_from(["a:1.5", ",2e3", "[12345678901234567", "x:-0.0"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=15,
)


def _outcome(encode, value):
    try:
        return encode(value)
    except NotCanonical:
        return NotCanonical


def _walked(value):
    """The reference: the recursive walk, then the encoder."""
    _check(value, "$")
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


@settings(max_examples=500)
@given(decoded_values | st.tuples(st.integers(), st.text()) | st.dictionaries(st.integers(-1000, 1000), st.text(), max_size=2))
def test_the_loop_accepts_and_refuses_what_the_recursive_walk_does(value):
    decoded = orjson.loads(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)) if isinstance(value, dict) else value
    for candidate in (value, decoded):
        assert _outcome(canonical_json, candidate) == _outcome(_walked, candidate)


@pytest.mark.parametrize("value", [1.5, -0.0, 1e20, 2**53 + 1, -(2**53) - 1, [1, {"a": 2.0}], {"t": "x:1.5", "n": 1.0},
                                   {"a": [(1, 2.5)]}, {2: "a"}])
def test_the_loop_refuses_what_the_walk_refuses(value):
    with pytest.raises(NotCanonical):
        canonical_json(value)
    for fine in (2**53, -(2**53), {"t": "a:1.5,[9007199254740993"}, (1, "a"), [True, None]):
        assert canonical_json(fine) == _walked(fine)


def _chain(n):
    envelopes, prev = [], GENESIS_HASH
    for i in range(1, n + 1):
        body = {f: None for f in UNSEALED_FIELDS}
        body.update(event_id=f"e{i}", event_type="InstitutionFiled", payload={"name": f"机构{i}", "beds": i})
        sealed = seal(body, i, prev)
        prev = sealed["hash"]
        envelopes.append(sealed)
    return envelopes


def test_an_intact_chain_verifies():
    assert len(list(verify_chain(_chain(5)))) == 5


def test_an_altered_payload_is_caught_at_its_seq():
    chain = _chain(5)
    chain[2] = dict(chain[2], payload={"name": "机构3", "beds": 300})
    with pytest.raises(ChainBroken) as broken:
        list(verify_chain(chain))
    assert broken.value.seq == 3


def test_a_dropped_event_is_caught_where_the_gap_is():
    chain = _chain(5)
    del chain[1]
    with pytest.raises(ChainBroken) as broken:
        list(verify_chain(chain))
    assert broken.value.seq == 2


def test_two_reordered_events_are_caught_at_the_first():
    chain = _chain(5)
    chain[1], chain[2] = chain[2], chain[1]
    with pytest.raises(ChainBroken) as broken:
        list(verify_chain(chain))
    assert broken.value.seq == 2


def test_a_resealed_forgery_still_breaks_the_link_to_the_next_event():
    chain = _chain(4)
    forged = seal({k: v for k, v in chain[1].items() if k not in ("seq", "prev_hash", "hash")} | {"payload": {}}, 2, chain[0]["hash"])
    chain[1] = forged
    with pytest.raises(ChainBroken) as broken:
        list(verify_chain(chain))
    assert broken.value.seq == 3
