"""C2SP signed notes with Ed25519 (https://c2sp.org/signed-note), the envelope of checkpoints.

A note is UTF-8 text ending in a newline, a blank line, then signature lines
``— <key name> <base64(key id || signature)>`` (U+2014, a space). The signature covers the text
including its final newline. For Ed25519 (signature type 0x01):

- key id = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]
- verifier key (shared text) = ``<key name>+<hex key id>+<base64(0x01 || public key)>``

This is the format of Go's golang.org/x/mod/sumdb/note and the transparency-dev tooling, so any of
their verifiers can check our checkpoints; the tests reproduce sumdb/note's published example.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
DASH = "\u2014 "


class NoteError(ValueError):
    """A note that is malformed, unsigned by the expected key, or whose signature does not verify."""


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"invalid key name {name!r}")


@dataclass(frozen=True)
class NoteVerifier:
    name: str
    public_key: bytes  # 32 raw bytes

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def text(self) -> str:
        """The verifier key string an auditor is given."""
        encoded = base64.b64encode(bytes([ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.id.hex()}+{encoded}"

    @classmethod
    def parse(cls, vkey: str) -> NoteVerifier:
        try:
            name, hex_id, encoded = vkey.strip().split("+", 2)
            material = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise NoteError(f"malformed verifier key: {exc}") from None
        _check_name(name)
        if len(material) != 33 or material[0] != ED25519:
            raise NoteError("verifier key is not an Ed25519 key")
        verifier = cls(name, material[1:])
        if verifier.id.hex() != hex_id:
            raise NoteError("verifier key id does not match its name and key")
        return verifier


class NoteSigner:
    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_name(name)
        self.name = name
        self._key = private_key
        raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.verifier = NoteVerifier(name, raw)

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> NoteSigner:
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    def sign(self, text: str) -> str:
        if not text.endswith("\n") or "\n\n" in text:
            raise NoteError("note text must end in one newline and contain no blank line")
        signature = self._key.sign(text.encode())
        blob = base64.b64encode(self.verifier.id + signature).decode()
        return f"{text}\n{DASH}{self.name} {blob}\n"


def open_note(note: str, verifier: NoteVerifier) -> str:
    """The note's text if it carries a valid signature by ``verifier``; NoteError otherwise."""
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise NoteError("not a signed note")
    text, signatures = note[: split + 1], note[split + 2 :]
    for line in signatures.splitlines():
        if not line.startswith(DASH):
            raise NoteError(f"malformed signature line {line!r}")
        try:
            name, blob = line[len(DASH):].split(" ")
            raw = base64.b64decode(blob, validate=True)
        except (ValueError, binascii.Error):
            raise NoteError(f"malformed signature line {line!r}") from None
        if name != verifier.name or raw[:4] != verifier.id:
            continue  # another signer (a witness, say): not ours to judge
        try:
            Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(raw[4:], text.encode())
        except InvalidSignature:
            raise NoteError(f"signature by {name} does not verify") from None
        return text
    raise NoteError(f"no signature by {verifier.name}")
