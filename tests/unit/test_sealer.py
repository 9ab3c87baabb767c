"""The sealer gives every stored event exactly one place in the chain, whoever runs it."""

import json
from concurrent.futures import ThreadPoolExecutor

from events.envelope import verify_chain
from services.ledger.sealed_log import SealedLog
from services.ledger.sealer import Sealer
from tests.conftest import command, discovery_request


def test_events_are_sealed_in_store_order_with_a_gap_free_seq(ledger):
    app, sealer = ledger
    for i in range(5):
        app.discover(command(discovery_request(name=f"托老所{i}")))
    records = sealer.log.read(0, 100)
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert [r.notification_id for r in records] == sorted(r.notification_id for r in records)
    assert len(list(verify_chain(r.envelope for r in records))) == 5


def test_racing_sealers_produce_one_chain(ledger, tmp_path):
    app, _ = ledger
    app.recorder.mapper = None  # saves do not seal: leave everything unsealed, then let four sealers race
    for i in range(40):
        app.discover(command(discovery_request(name=f"托老所{i}")))
    sealers = [Sealer(app, SealedLog(tmp_path / "ledger.sqlite"), batch_size=7) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(pool.map(lambda s: s.seal_pending(), sealers))
    assert sum(counts) == 40
    records = sealers[0].log.read(0, 100)
    assert [r.seq for r in records] == list(range(1, 41))
    assert len(list(verify_chain(r.envelope for r in records))) == 40


def test_sealing_is_deterministic_from_the_store(ledger, tmp_path):
    app, sealer = ledger
    for i in range(3):
        app.discover(command(discovery_request(name=f"托老所{i}")))
    original = [r.envelope_bytes for r in sealer.log.read(0, 10)]
    sealer.log.db.rows("DELETE FROM sealed_log")  # simulate rebuilding the sealed log elsewhere
    Sealer(app, SealedLog(tmp_path / "ledger.sqlite")).seal_pending()
    assert [r.envelope_bytes for r in sealer.log.read(0, 10)] == original


def test_what_the_relay_reads_is_each_envelopes_own_seq_key_type_and_hash(ledger):
    """The relay sends from the log's columns without parsing envelopes: they must say what the
    envelope says (the key: the institution, else the record itself)."""
    from tests.scenarios import every_list

    app, sealer = ledger
    every_list(app)
    sealer.seal_pending()
    rows = sealer.log.read_for_relay(0, 10_000)
    assert len(rows) == sealer.log.head().seq > 20
    for (seq, key, event_type, hash_, envelope_bytes), record in zip(rows, sealer.log.read(0, 10_000), strict=True):
        envelope = record.envelope
        assert (seq, key, event_type, hash_, envelope_bytes) == (
            envelope["seq"], envelope["institution_id"] or envelope["aggregate_id"], envelope["event_type"], envelope["hash"],
            record.envelope_bytes)
    assert any(r[1] != json.loads(r[4])["institution_id"] for r in rows)  # a record about no institution is keyed by itself
    assert sealer.log.read_for_relay(rows[-3][0], 10) == rows[-2:]
