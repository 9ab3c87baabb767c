"""The checkpoint key file holds the ledger's two keys — Ed25519 and the SM2 co-signing key — and
a file from before the co-signature gets its SM2 key added, never silently replaced."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from events.checkpoint import Checkpoint
from services import cli
from services.ledger.signing_key import SigningKeyError, add_sm2_key, derived_key, generate_key_file, load_signers

ORIGIN = "eldercare.test/ledger"


def ed25519_only(path) -> None:
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def test_a_new_key_file_holds_both_keys_for_its_owner_only(tmp_path):
    path = tmp_path / "key.pem"
    generate_key_file(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    ed25519, sm2 = load_signers(path, ORIGIN)
    assert (ed25519.verifier.algorithm, sm2.verifier.algorithm) == ("Ed25519", "SM2/SM3")
    checkpoint = Checkpoint(ORIGIN, 1, bytes(32), "0" * 64, "2026-12-02T00:00:00Z")
    assert Checkpoint.open(checkpoint.sign([ed25519, sm2]), ed25519.verifier, sm2.verifier) == checkpoint
    with pytest.raises(FileExistsError):
        generate_key_file(path)
    # The secrets derived from the file depend on its Ed25519 key alone, as before the co-signature.
    before = derived_key(path, "label")
    assert not add_sm2_key(path) and derived_key(path, "label") == before


def test_a_key_file_without_sm2_is_refused_until_one_is_added(tmp_path, capsys):
    path = tmp_path / "old.pem"
    ed25519_only(path)
    before = derived_key(path, "label")
    with pytest.raises(SigningKeyError, match="--add-sm2"):
        load_signers(path, ORIGIN)
    assert cli.main(["audit", "keygen", "--add-sm2", str(path)]) == 0
    printed = capsys.readouterr().out.split()  # the two verifier keys to publish, under the settings' origin
    assert printed == [s.verifier.text() for s in load_signers(path, "eldercare.localhost/ledger")]
    sm2 = load_signers(path, ORIGIN)[1]
    assert derived_key(path, "label") == before  # the Ed25519 key is untouched
    assert cli.main(["audit", "keygen", "--add-sm2", str(path)]) == 2  # one SM2 key only
    assert load_signers(path, ORIGIN)[1].verifier == sm2.verifier


def test_an_embedded_dev_key_gains_its_sm2_key_on_first_use(tmp_path):
    path = tmp_path / "dev-signing-key.pem"
    ed25519_only(path)
    before = derived_key(path, "label")
    sm2 = load_signers(path, ORIGIN, create=True)[1]
    assert load_signers(path, ORIGIN)[1].verifier == sm2.verifier and derived_key(path, "label") == before


def test_a_file_with_anything_else_is_refused(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ec

    path = tmp_path / "p256.pem"
    path.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(SigningKeyError, match="neither Ed25519 nor SM2"):
        load_signers(path, ORIGIN)
    doubled = tmp_path / "two.pem"
    generate_key_file(doubled)
    doubled.write_bytes(doubled.read_bytes() * 2)
    with pytest.raises(SigningKeyError, match="two"):
        load_signers(doubled, ORIGIN)
