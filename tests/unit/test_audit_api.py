"""The transparency endpoints (public) serve checkpoints and proofs a client verifies itself; the
audit endpoints answer auditors only, within their region, and refuse bad questions with 4xx."""

from __future__ import annotations

import base64

from events.checkpoint import Checkpoint
from events.merkle import leaf_hash, verify_consistency, verify_inclusion
from events.signed_note import NoteVerifier
from services.api.examples import FILING_EXAMPLE
from tests.conftest import unique_credit_code
from tests.unit.test_api import assert_refused, bearer


def file_one(client, runtime, n: int) -> str:
    body = dict(FILING_EXAMPLE, credit_code=unique_credit_code(), receipt_no=f"321111-2024-{300 + n:04d}", name=f"镇江市润州区第{n}养老院")
    response = client.post("/v1/filings", json=body, headers=bearer(runtime))
    assert response.status_code == 201, response.text
    return response.json()["institution_id"]


def checkpoint(client) -> Checkpoint:
    """The latest checkpoint, opened with both published keys: Ed25519 and the SM2 co-signature."""
    ed25519 = NoteVerifier.parse(client.get("/v1/transparency/key").text)
    sm2 = NoteVerifier.parse(client.get("/v1/transparency/key/sm2").text)
    assert (ed25519.algorithm, sm2.algorithm) == ("Ed25519", "SM2/SM3") and ed25519.name == sm2.name
    return Checkpoint.open(client.get("/v1/transparency/checkpoint").text, ed25519, sm2)


def test_checkpoints_and_proofs_verify_against_what_the_client_checked_itself(api):
    client, runtime = api
    assert_refused(client.get("/v1/transparency/checkpoint"), 404, "NO_CHECKPOINT")
    file_one(client, runtime, 1)
    runtime.transparency.checkpoints.issue()
    old = checkpoint(client)
    assert old.size == runtime.sealer.log.head().seq
    file_one(client, runtime, 2)
    runtime.transparency.checkpoints.issue()
    new = checkpoint(client)
    assert new.size > old.size
    proof = client.get("/v1/transparency/proofs/consistency", params={"from": old.size}).json()
    assert proof["to"] == new.size
    assert verify_consistency(old.size, new.size, [base64.b64decode(p) for p in proof["proof"]], old.root, new.root)
    for seq in range(1, new.size + 1):
        body = client.get("/v1/transparency/proofs/inclusion", params={"seq": seq}).json()
        leaf = leaf_hash(bytes.fromhex(body["event_hash"]))
        assert verify_inclusion(leaf, seq - 1, new.size, [base64.b64decode(p) for p in body["proof"]], new.root)
    sizes = [c["tree_size"] for c in client.get("/v1/transparency/checkpoints").json()["checkpoints"]]
    assert sizes == [old.size, new.size]
    assert client.get(f"/v1/transparency/checkpoints/{old.size}").text.startswith("eldercare.localhost/ledger\n")


def test_bad_proof_requests_are_refused_with_a_reason(api):
    client, runtime = api
    file_one(client, runtime, 1)
    runtime.transparency.checkpoints.issue()
    head = runtime.sealer.log.head().seq
    assert_refused(client.get("/v1/transparency/proofs/inclusion", params={"seq": head + 1}), 422, "SEQ_BEYOND_TREE")
    assert_refused(client.get("/v1/transparency/proofs/inclusion", params={"seq": 1, "tree_size": head + 5}), 422, "TREE_SIZE_BEYOND_HEAD")
    assert_refused(client.get("/v1/transparency/proofs/inclusion", params={"seq": 0}), 422, "QUERY_INVALID")
    assert_refused(client.get("/v1/transparency/proofs/consistency", params={"from": head + 1, "to": head}), 422, "TREE_SIZES_REVERSED")
    assert_refused(client.get("/v1/transparency/checkpoints/77"), 404, "CHECKPOINT_NOT_FOUND")


def test_auditors_only_and_within_their_region(api):
    client, runtime = api
    institution = file_one(client, runtime, 1)
    path = f"/v1/audit/institutions/{institution}"
    assert_refused(client.get(path, headers=bearer(runtime)), 403, "ROLE_NOT_PERMITTED")
    assert_refused(client.get(path, headers=bearer(runtime, "civil_affairs", "city", "210300", "auditor")), 403, "OUTSIDE_JURISDICTION")
    auditor = bearer(runtime, "civil_affairs", "province", "320000", "auditor")
    state = client.get(path, headers=auditor).json()
    assert state["institution"]["profile"]["credit_code"] and state["as_of_seq"] == runtime.sealer.log.head().seq
    assert_refused(client.get(path, params={"seq": 0}, headers=auditor), 404, "INSTITUTION_NOT_FOUND")
    full = client.get("/v1/audit/events", headers=auditor).json()["events"]
    assert all("payload" in e for e in full) and len(full) == runtime.sealer.log.head().seq
    stubs = client.get("/v1/audit/events", headers=bearer(runtime, "civil_affairs", "province", "210000", "auditor")).json()["events"]
    assert stubs and all(set(e) == {"seq", "prev_hash", "hash", "redacted"} for e in stubs)
    entries = client.get(f"{path}/history", headers=auditor).json()["history"]
    assert entries[0]["event_type"] == "InstitutionFiled" and entries[0]["basis"]["document_no"]


def test_lists_as_of_and_their_diffs(api):
    client, runtime = api
    auditor = bearer(runtime, "civil_affairs", "city", "321100", "auditor")
    first = file_one(client, runtime, 1)
    middle = runtime.sealer.log.head().seq
    second = file_one(client, runtime, 2)
    rows = client.get("/v1/audit/lists/filed", params={"seq": middle}, headers=auditor).json()["rows"]
    assert [r["id"] for r in rows] == [first]
    changes = client.get("/v1/audit/lists/filed/diff", params={"from_seq": middle}, headers=auditor).json()["changes"]
    assert [r["id"] for r in changes["added"]] == [second]
    assert client.get("/v1/audit/lists/filed", params={"region": "210300"}, headers=auditor).json()["rows"] == []
    assert_refused(client.get("/v1/audit/lists/nope", headers=auditor), 404, "LIST_NOT_FOUND")
    assert_refused(client.get("/v1/audit/lists/filed", params={"region": "32"}, headers=auditor), 422, "QUERY_INVALID")
    assert_refused(client.get("/v1/audit/lists/filed", params={"seq": 1, "at": "2026-01-01T00:00:00+08:00"}, headers=auditor), 422, "QUERY_INVALID")
    assert_refused(client.get("/v1/audit/lists/filed", params={"at": "2026-01-01T00:00:00"}, headers=auditor), 422, "QUERY_INVALID")
    assert_refused(client.get("/v1/audit/lists/filed", params={"seq": 999}, headers=auditor), 404, "SEQ_NOT_IN_LEDGER")
    diff = client.get(f"/v1/audit/institutions/{first}/diff", params={"from_seq": 0}, headers=auditor).json()
    assert {c["field"] for c in diff["changes"]} >= {"name", "status"}


def test_replay_and_reconciliation_over_the_api(api):
    client, runtime = api
    for n in range(3):
        file_one(client, runtime, 40 + n)
    auditor = bearer(runtime, "civil_affairs", "province", "320000", "auditor")
    replayed = client.get("/v1/audit/replay", headers=auditor).json()
    assert replayed["agree"] and list(replayed["digests"]) == ["store"] and replayed["as_of_seq"] > 0
    assert client.get("/v1/audit/replay", params={"seq": 1}, headers=auditor).json()["digests"]["store"] != replayed["digests"]["store"]
    assert_refused(client.get("/v1/audit/replay", params={"source": "kafka"}, headers=auditor), 422, "SOURCE_UNAVAILABLE")
    assert_refused(client.get("/v1/audit/replay", params={"source": "tape"}, headers=auditor), 422, "QUERY_INVALID")
    assert_refused(client.get("/v1/audit/replay", headers=bearer(runtime, "civil_affairs", "province", "320000", "officer")),
                   403, "ROLE_NOT_PERMITTED")
    runtime.projector.catch_up()
    report = client.get("/v1/audit/reconciliation", headers=auditor).json()
    assert report["agree"], report["disagreements"]
    assert report["summaries"]["index"]["position_seq"] == report["summaries"]["store"]["last_seq"]
