"""The ledger's checkpoint keys: one PEM file holding two PKCS#8 private keys — Ed25519 (the
signature standard transparency-log tools check) and SM2 (the co-signature GB/T 39786 assessments
expect) — both named by the log origin.

In the cluster profile the file is configured (ELDERCARE_SIGNING_KEY_FILE) and kept by whoever
operates the deployment; in the embedded profile a dev key file is generated in the data dir on
first use, readable by its owner only. Only the verifier keys (events/signed_note.py) are ever
published. A key file from before the SM2 co-signature holds only the Ed25519 key:
``eldercare audit keygen --add-sm2 FILE`` appends an SM2 key to it (embedded dev keys are extended
on first use).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from events.signed_note import Ed25519Signer, NoteSigner, Sm2Signer

PEM_BLOCK = re.compile(rb"-----BEGIN PRIVATE KEY-----\r?\n.*?-----END PRIVATE KEY-----\r?\n?", re.S)


class SigningKeyError(ValueError):
    pass


def _sm2_pem() -> bytes:
    from tongsuopy.crypto import serialization as ts_serialization
    from tongsuopy.crypto.asymciphers import ec

    return ec.generate_private_key(ec.SM2()).private_bytes(
        ts_serialization.Encoding.PEM, ts_serialization.PrivateFormat.PKCS8, ts_serialization.NoEncryption())


def generate_key_file(path: Path) -> None:
    """Write a new key file (Ed25519 and SM2); refuses to overwrite one (a lost key breaks no
    proofs, a replaced one silently would: checkpoints before and after would verify under
    different keys)."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem + _sm2_pem())


def add_sm2_key(path: Path) -> bool:
    """Append an SM2 key to a key file that has none; False if it has one already. Locked, so
    two processes starting together add one key, not two."""
    with open(path, "ab") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        if _keys(path)[1] is not None:
            return False
        f.write(_sm2_pem())
    return True


def _keys(path: Path) -> tuple[Ed25519PrivateKey, object | None]:
    """The file's Ed25519 key and its SM2 key (None if it has none)."""
    from tongsuopy.crypto import serialization as ts_serialization

    ed25519 = sm2 = None
    for block in PEM_BLOCK.findall(path.read_bytes()):
        try:
            key = serialization.load_pem_private_key(block, password=None)
        except (UnsupportedAlgorithm, ValueError):
            key = ts_serialization.load_pem_private_key(block, password=None)
            if getattr(getattr(key, "curve", None), "name", "") != "SM2":
                raise SigningKeyError(f"{path} holds a key that is neither Ed25519 nor SM2") from None
            if sm2 is not None:
                raise SigningKeyError(f"{path} holds two SM2 keys") from None
            sm2 = key
            continue
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"{path} holds a key that is neither Ed25519 nor SM2")
        if ed25519 is not None:
            raise SigningKeyError(f"{path} holds two Ed25519 keys")
        ed25519 = key
    if ed25519 is None:
        raise SigningKeyError(f"{path} holds no Ed25519 private key")
    return ed25519, sm2


def derived_key(path: Path, label: str) -> bytes:
    """A secret derived from the key file for one purpose (``label``): SHA-256 of the key's Ed25519
    signature of the label — deterministic (RFC 8032), so the same key file gives the same secret."""
    return hashlib.sha256(_keys(path)[0].sign(label.encode())).digest()


def load_signers(path: Path, origin: str, *, create: bool = False) -> tuple[NoteSigner, NoteSigner]:
    """The Ed25519 signer and the SM2 co-signer, in the order their lines appear in a note.
    ``create`` (embedded dev keys only) makes the file, or adds the SM2 key it lacks."""
    if create and not path.exists():
        try:
            generate_key_file(path)
        except FileExistsError:
            pass  # another process created it first
    ed25519, sm2 = _keys(path)
    if sm2 is None and create:
        add_sm2_key(path)
        ed25519, sm2 = _keys(path)
    if sm2 is None:
        raise SigningKeyError(f"{path} holds no SM2 key to co-sign checkpoints: add one with "
                              f"`eldercare audit keygen --add-sm2 {path}` and publish its verifier key")
    return Ed25519Signer(origin, ed25519), Sm2Signer(origin, sm2)
