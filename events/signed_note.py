"""C2SP signed notes (https://c2sp.org/signed-note), the envelope of checkpoints, signed with
Ed25519 and co-signed with SM2.

A note is UTF-8 text ending in a newline, a blank line, then signature lines
``— <key name> <base64(key id || signature)>`` (U+2014, a space). Each signature covers the text
including its final newline. Key id = SHA-256(key name || 0x0A || signature type || public key)[:4];
a verifier key (shared text) = ``<key name>+<hex key id>+<base64(signature type || public key)>``.

Two signature types:

- **Ed25519**, type 0x01 (RFC 8032 over the text; 32-byte public key). This is the format of Go's
  golang.org/x/mod/sumdb/note and the transparency-dev tooling, so any of their verifiers can check
  our checkpoints; the tests reproduce sumdb/note's published example.
- **SM2 with SM3** (GB/T 32918.2, the commercial cryptography that GB/T 39786 assessments expect).
  C2SP assigns no byte to it, so its type is 0xff followed by the identifier ``gbt32918-sm2-sm3``
  (the spec's convention for unassigned types); public key = the 65-byte uncompressed point;
  signature = DER SEQUENCE {r, s} (GB/T 35276), over the text with the default distinguishing
  identifier ``1234567812345678`` in Z_A. Tools that know only Ed25519 ignore this line, as the
  spec requires of signatures by unknown keys.

SM2 and SM3 come from tongsuopy, the Tongsuo project's Python SDK (Tongsuo: the OpenAtom
Foundation's OpenSSL fork maintained for China's commercial cryptography): C, constant-time
scalar multiplication, a pyca/cryptography-shaped API, binary wheels. The tests check it against
GB/T 32918.5 Annex A's worked signature and GB/T 32905's SM3 examples.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ED25519 = b"\x01"
SM2_SM3 = b"\xff" + b"gbt32918-sm2-sm3"
DASH = "\u2014 "


class NoteError(ValueError):
    """A note that is malformed, unsigned by the expected key, or whose signature does not verify."""


def key_id(name: str, signature_type: bytes, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + signature_type + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"invalid key name {name!r}")


@dataclass(frozen=True)
class NoteVerifier(ABC):
    """A public key that checks one signature line of a note."""

    name: str
    public_key: bytes
    signature_type = b""
    algorithm = ""

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.signature_type, self.public_key)

    def text(self) -> str:
        """The verifier key string an auditor is given."""
        encoded = base64.b64encode(self.signature_type + self.public_key).decode()
        return f"{self.name}+{self.id.hex()}+{encoded}"

    @abstractmethod
    def verifies(self, message: bytes, signature: bytes) -> bool: ...

    @staticmethod
    def parse(vkey: str) -> NoteVerifier:
        try:
            name, hex_id, encoded = vkey.strip().split("+", 2)
            material = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise NoteError(f"malformed verifier key: {exc}") from None
        _check_name(name)
        for kind in (Ed25519Verifier, Sm2Verifier):
            if material.startswith(kind.signature_type) and len(material) == len(kind.signature_type) + kind.key_length:
                verifier: NoteVerifier = kind(name, material[len(kind.signature_type):])
                break
        else:
            raise NoteError("verifier key is neither an Ed25519 nor an SM2 key")
        if verifier.id.hex() != hex_id:
            raise NoteError("verifier key id does not match its name and key")
        return verifier


@dataclass(frozen=True)
class Ed25519Verifier(NoteVerifier):
    signature_type = ED25519
    algorithm = "Ed25519"
    key_length = 32

    def verifies(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Sm2Verifier(NoteVerifier):
    signature_type = SM2_SM3
    algorithm = "SM2/SM3"
    key_length = 65

    def verifies(self, message: bytes, signature: bytes) -> bool:
        from tongsuopy.crypto import exceptions, hashes
        from tongsuopy.crypto.asymciphers import ec

        try:
            decode_dss_signature(signature)  # not DER: refused here (the library raises an internal error)
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SM2(), self.public_key)
            key.verify(signature, message, ec.ECDSA(hashes.SM3()))
        except (exceptions.InvalidSignature, exceptions.InternalError, ValueError):
            return False
        return True


class NoteSigner(ABC):
    """A private key that adds its signature line to a note."""

    verifier: NoteVerifier

    @property
    def name(self) -> str:
        return self.verifier.name

    @abstractmethod
    def signature(self, message: bytes) -> bytes: ...

    def line(self, text: str) -> str:
        blob = base64.b64encode(self.verifier.id + self.signature(text.encode())).decode()
        return f"{DASH}{self.name} {blob}\n"

    def sign(self, text: str) -> str:
        return sign_note(text, [self])


class Ed25519Signer(NoteSigner):
    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_name(name)
        self._key = private_key
        raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.verifier = Ed25519Verifier(name, raw)

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Ed25519Signer:
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    def signature(self, message: bytes) -> bytes:
        return self._key.sign(message)


class Sm2Signer(NoteSigner):
    def __init__(self, name: str, private_key) -> None:  # tongsuopy EllipticCurvePrivateKey on the SM2 curve
        from tongsuopy.crypto import serialization as ts_serialization

        _check_name(name)
        if getattr(private_key.curve, "name", "") != "SM2":
            raise NoteError("not an SM2 private key")
        self._key = private_key
        point = private_key.public_key().public_bytes(
            ts_serialization.Encoding.X962, ts_serialization.PublicFormat.UncompressedPoint)
        self.verifier = Sm2Verifier(name, point)

    @classmethod
    def from_private_value(cls, name: str, value: int) -> Sm2Signer:
        from tongsuopy.crypto.asymciphers import ec

        return cls(name, ec.derive_private_key(value, ec.SM2()))

    def signature(self, message: bytes) -> bytes:
        from tongsuopy.crypto import hashes
        from tongsuopy.crypto.asymciphers import ec

        return self._key.sign(message, ec.ECDSA(hashes.SM3()))


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """``text`` as a note carrying one signature line per signer, in the order given."""
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("note text must end in one newline and contain no blank line")
    if not signers:
        raise NoteError("a note needs at least one signature")
    return text + "\n" + "".join(signer.line(text) for signer in signers)


def _signature_lines(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise NoteError("not a signed note")
    lines = []
    for line in note[split + 2:].splitlines():
        if not line.startswith(DASH):
            raise NoteError(f"malformed signature line {line!r}")
        try:
            name, blob = line[len(DASH):].split(" ")
            lines.append((name, base64.b64decode(blob, validate=True)))
        except (ValueError, binascii.Error):
            raise NoteError(f"malformed signature line {line!r}") from None
    return note[: split + 1], lines


def open_note(note: str, *verifiers: NoteVerifier) -> str:
    """The note's text if it carries a valid signature by every one of ``verifiers``; NoteError
    otherwise. Lines by other keys (a witness, say) are not ours to judge and are skipped."""
    if not verifiers:
        raise NoteError("no verifier key given")
    text, lines = _signature_lines(note)
    message = text.encode()
    for verifier in verifiers:
        ours = [raw for name, raw in lines if name == verifier.name and raw[:4] == verifier.id]
        if not ours:
            raise NoteError(f"no {verifier.algorithm} signature by {verifier.name}")
        if not all(verifier.verifies(message, raw[4:]) for raw in ours):
            raise NoteError(f"{verifier.algorithm} signature by {verifier.name} does not verify")
    return text
