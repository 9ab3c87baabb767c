"""Checkpoints are C2SP signed notes, signed with Ed25519 and co-signed with SM2: our Ed25519
signer reproduces Go sumdb/note's published example byte for byte (Ed25519 is deterministic), the
SM2/SM3 implementation reproduces the standards' worked examples, Go's sumdb/note itself verifies
a co-signed checkpoint, and a checkpoint that is forged, re-signed by another key, missing either
signature or altered in any line is refused."""

from __future__ import annotations

import base64
import subprocess

import pytest

from events.checkpoint import Checkpoint
from events.signed_note import Ed25519Signer, NoteError, NoteVerifier, Sm2Signer, Sm2Verifier, open_note, sign_note
from tests.go_tools import go_tool

# golang.org/x/mod/sumdb/note, the package documentation's example.
GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"


def go_signer() -> Ed25519Signer:
    seed = base64.b64decode(GO_SIGNER_KEY.split("+", 4)[4])
    assert seed[0] == 0x01
    return Ed25519Signer.from_seed("PeterNeumann", seed[1:])


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
    impostor = Ed25519Signer.from_seed("PeterNeumann", bytes(32))
    with pytest.raises(NoteError, match="no Ed25519 signature"):
        open_note(impostor.sign(GO_TEXT), verifier)
    for mangled in (GO_VERIFIER_KEY[:-2], GO_VERIFIER_KEY.replace("c74f20a3", "c74f20a4"), "a+b", ""):
        with pytest.raises(NoteError):
            NoteVerifier.parse(mangled)


def test_a_checkpoint_round_trips_and_every_line_is_covered_by_the_signature():
    signer = Ed25519Signer.from_seed("eldercare.test/ledger", bytes(range(32)))
    checkpoint = Checkpoint("eldercare.test/ledger", 1573, bytes(range(32)), "ab" * 32, "2026-11-24T08:00:00Z")
    note = checkpoint.sign([signer])
    assert note.startswith("eldercare.test/ledger\n1573\n" + base64.b64encode(bytes(range(32))).decode() + "\nchain ")
    assert Checkpoint.open(note, signer.verifier) == checkpoint
    for line in checkpoint.text().splitlines():
        forged = note.replace(line, line[:-1] + ("0" if line[-1] != "0" else "1"), 1)
        with pytest.raises(NoteError):
            Checkpoint.open(forged, signer.verifier)


def test_a_checkpoint_for_another_log_is_refused_even_if_well_signed():
    signer = Ed25519Signer.from_seed("eldercare.test/ledger", bytes(range(32)))
    other = Checkpoint("someone.else/log", 1, bytes(32), "0" * 64, "2026-11-24T08:00:00Z")
    with pytest.raises(NoteError, match="origin"):
        Checkpoint.open(other.sign([signer]), signer.verifier)


# GB/T 32918.5-2017 (GM/T 0003.5-2012) Annex A: the worked SM2 signature on the recommended curve —
# message "message digest", distinguishing identifier "1234567812345678".
SM2_D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
SM2_X = 0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020
SM2_Y = 0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13
SM2_R = 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3
SM2_S = 0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA


def der(r: int, s: int) -> bytes:
    from tongsuopy.crypto.asymciphers.utils import encode_dss_signature

    return encode_dss_signature(r, s)


def test_sm2_reproduces_the_standards_worked_example():
    signer = Sm2Signer.from_private_value("GBT32918", SM2_D)
    point = signer.verifier.public_key
    assert point == b"\x04" + SM2_X.to_bytes(32, "big") + SM2_Y.to_bytes(32, "big")
    verifier = Sm2Verifier("GBT32918", point)
    assert verifier.verifies(b"message digest", der(SM2_R, SM2_S))
    assert not verifier.verifies(b"message digest", der(SM2_R, SM2_S + 1))
    assert not verifier.verifies(b"message digesT", der(SM2_R, SM2_S))
    assert not verifier.verifies(b"message digest", b"not DER")
    # SM2 signing is randomised (k): our own signature differs each time and always verifies.
    first, second = signer.signature(b"message digest"), signer.signature(b"message digest")
    assert first != second and verifier.verifies(b"message digest", first) and verifier.verifies(b"message digest", second)


def test_sm3_reproduces_the_standards_examples():
    from tongsuopy.crypto import hashes

    def sm3(data: bytes) -> str:
        digest = hashes.Hash(hashes.SM3())
        digest.update(data)
        return digest.finalize().hex()

    # GB/T 32905-2016 Annex A, examples 1 and 2.
    assert sm3(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm3(b"abcd" * 16) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


ORIGIN = "eldercare.test/ledger"


def co_signers() -> tuple[Ed25519Signer, Sm2Signer]:
    return Ed25519Signer.from_seed(ORIGIN, bytes(range(32))), Sm2Signer.from_private_value(ORIGIN, SM2_D)


def test_a_checkpoint_is_signed_by_ed25519_and_co_signed_by_sm2():
    ed25519, sm2 = co_signers()
    checkpoint = Checkpoint(ORIGIN, 1573, bytes(range(32)), "ab" * 32, "2026-11-24T08:00:00Z")
    note = checkpoint.sign([ed25519, sm2])
    text, lines = note.split("\n\n")
    assert [line.split(" ")[1] for line in lines.splitlines()] == [ORIGIN, ORIGIN]
    # The Ed25519 line is byte-for-byte what a signer of Ed25519 alone writes (deterministic), so
    # Ed25519-only tools read the note as before; they skip the SM2 line as a signature by an
    # unknown key, as C2SP requires.
    assert lines.splitlines()[0] + "\n" == ed25519.sign(text + "\n").split("\n\n")[1]
    assert Checkpoint.open(note, ed25519.verifier) == checkpoint
    assert Checkpoint.open(note, ed25519.verifier, sm2.verifier) == checkpoint
    # Each key's line must be there and verify.
    with pytest.raises(NoteError, match="no SM2/SM3 signature"):
        Checkpoint.open(checkpoint.sign([ed25519]), ed25519.verifier, sm2.verifier)
    forged = note.replace("1573", "1574", 1)
    with pytest.raises(NoteError, match="Ed25519 signature .* does not verify"):
        Checkpoint.open(forged, ed25519.verifier, sm2.verifier)
    with pytest.raises(NoteError, match="SM2/SM3 signature .* does not verify"):
        Checkpoint.open(checkpoint.sign([ed25519]).rstrip("\n") + "\n" + sm2.line(forged.split("\n\n")[0] + "\n"),
                        ed25519.verifier, sm2.verifier)
    impostor = Sm2Signer.from_private_value(ORIGIN, SM2_D + 1)
    with pytest.raises(NoteError, match="no SM2/SM3 signature"):
        Checkpoint.open(checkpoint.sign([ed25519, impostor]), ed25519.verifier, sm2.verifier)


def test_the_sm2_verifier_key_round_trips_and_a_mangled_one_is_refused():
    sm2 = co_signers()[1]
    text = sm2.verifier.text()
    material = base64.b64decode(text.split("+", 2)[2])
    assert material[:1] == b"\xff" and material[1:17] == b"gbt32918-sm2-sm3" and len(material) == 17 + 65
    assert NoteVerifier.parse(text) == sm2.verifier
    name, key_id, encoded = text.split("+", 2)
    other_id = f"{int(key_id, 16) ^ 1:08x}"
    short, retyped = base64.b64encode(material[:-1]).decode(), base64.b64encode(b"\xfe" + material[1:]).decode()
    for mangled in (f"{name}+{other_id}+{encoded}", f"{name}+{key_id}+{short}", f"{name}+{key_id}+{retyped}"):
        with pytest.raises(NoteError):
            NoteVerifier.parse(mangled)
    with pytest.raises(NoteError, match="at least one"):
        sign_note("x\n", [])
    with pytest.raises(NoteError, match="no verifier"):
        open_note(sm2.sign("x\n"))


def test_gos_sumdb_note_verifies_the_co_signed_checkpoint_and_skips_the_sm2_line():
    ed25519, sm2 = co_signers()
    checkpoint = Checkpoint(ORIGIN, 1573, bytes(range(32)), "ab" * 32, "2026-11-24T08:00:00Z")
    note = checkpoint.sign([ed25519, sm2])
    done = subprocess.run([go_tool("noteopen"), ed25519.verifier.text()], input=note, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == checkpoint.text() + f"unverified {ORIGIN} {sm2.verifier.id.hex()}\n"
    forged = subprocess.run([go_tool("noteopen"), ed25519.verifier.text()], input=note.replace("1573", "1574", 1),
                            capture_output=True, text=True)
    assert forged.returncode == 1 and "does not verify" in forged.stderr
