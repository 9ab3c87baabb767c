"""Checkpoints are C2SP signed notes: our signer reproduces Go sumdb/note's published example byte
for byte (Ed25519 is deterministic), and a checkpoint that is forged, re-signed by another key,
or altered in any line is refused."""

from __future__ import annotations

import base64

import pytest

from events.checkpoint import Checkpoint
from events.signed_note import NoteError, NoteSigner, NoteVerifier, open_note

# golang.org/x/mod/sumdb/note, the package documentation's example.
GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"


def go_signer() -> NoteSigner:
    seed = base64.b64decode(GO_SIGNER_KEY.split("+", 4)[4])
    assert seed[0] == 0x01
    return NoteSigner.from_seed("PeterNeumann", seed[1:])


def test_signing_reproduces_the_go_sumdb_note_example():
    signer = go_signer()
    assert signer.verifier.text() == GO_VERIFIER_KEY
    assert signer.sign(GO_TEXT) == GO_NOTE
    assert open_note(GO_NOTE, NoteVerifier.parse(GO_VERIFIER_KEY)) == GO_TEXT


def test_a_verifier_key_whose_base64_holds_a_plus_parses():
    # transparency-dev/formats note tests: a type-0x01 key whose base64 contains '+'.
    verifier = NoteVerifier.parse("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6")
    assert verifier.name == "TEST" and verifier.id.hex() == "7997405c"


def test_an_altered_note_or_a_foreign_key_is_refused():
    verifier = NoteVerifier.parse(GO_VERIFIER_KEY)
    with pytest.raises(NoteError, match="does not verify"):
        open_note(GO_NOTE.replace("cryptography", "cryptographY"), verifier)
    impostor = NoteSigner.from_seed("PeterNeumann", bytes(32))
    with pytest.raises(NoteError, match="no signature"):
        open_note(impostor.sign(GO_TEXT), verifier)
    for mangled in (GO_VERIFIER_KEY[:-2], GO_VERIFIER_KEY.replace("c74f20a3", "c74f20a4"), "a+b", ""):
        with pytest.raises(NoteError):
            NoteVerifier.parse(mangled)


def test_a_checkpoint_round_trips_and_every_line_is_covered_by_the_signature():
    signer = NoteSigner.from_seed("eldercare.test/ledger", bytes(range(32)))
    checkpoint = Checkpoint("eldercare.test/ledger", 1573, bytes(range(32)), "ab" * 32, "2026-11-24T08:00:00Z")
    note = checkpoint.sign(signer)
    assert note.startswith("eldercare.test/ledger\n1573\n" + base64.b64encode(bytes(range(32))).decode() + "\nchain ")
    assert Checkpoint.open(note, signer.verifier) == checkpoint
    for line in checkpoint.text().splitlines():
        forged = note.replace(line, line[:-1] + ("0" if line[-1] != "0" else "1"), 1)
        with pytest.raises(NoteError):
            Checkpoint.open(forged, signer.verifier)


def test_a_checkpoint_for_another_log_is_refused_even_if_well_signed():
    signer = NoteSigner.from_seed("eldercare.test/ledger", bytes(range(32)))
    other = Checkpoint("someone.else/log", 1, bytes(32), "0" * 64, "2026-11-24T08:00:00Z")
    with pytest.raises(NoteError, match="origin"):
        Checkpoint.open(other.sign(signer), signer.verifier)
