"""The ledger's Ed25519 checkpoint key: a PKCS#8 PEM file, named by the log origin.

In the cluster profile the file is configured (ELDERCARE_SIGNING_KEY_FILE) and kept by whoever
operates the deployment; in the embedded profile a dev key is generated in the data dir on first
use, readable by its owner only. Only the verifier key (events/signed_note.py) is ever published.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from events.signed_note import NoteSigner


def generate_key_file(path: Path) -> None:
    """Write a new key; refuses to overwrite one (a lost key breaks no proofs, a replaced one
    silently would: checkpoints before and after would verify under different keys)."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def derived_key(path: Path, label: str) -> bytes:
    """A secret derived from the key file for one purpose (``label``): SHA-256 of the key's Ed25519
    signature of the label — deterministic (RFC 8032), so the same key file gives the same secret."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return hashlib.sha256(key.sign(label.encode())).digest()


def load_signer(path: Path, origin: str, *, create: bool = False) -> NoteSigner:
    if create and not path.exists():
        try:
            generate_key_file(path)
        except FileExistsError:
            pass  # another process created it first
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return NoteSigner(origin, key)
