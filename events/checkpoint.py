"""Checkpoints: signed statements of the ledger's size and Merkle root at one moment.

The body follows C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) — origin, tree size,
base64 root hash — with two extension lines of ours:

    <origin>
    <tree size>
    <base64 Merkle root over the first <tree size> event hashes>
    chain <hex hash of event <tree size> (64 zeros for an empty ledger)>
    time <UTC issue time, ISO 8601 with seconds and Z>

and is signed as a C2SP signed note (events/signed_note.py) by the ledger's Ed25519 key and
co-signed by its SM2 key. The ``chain`` line binds the tree to
the hash chain of envelopes, so a checkpoint vouches for both.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from events.signed_note import NoteError, NoteSigner, NoteVerifier, open_note, sign_note

HEX64 = re.compile(r"^[0-9a-f]{64}$")
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    chain: str
    time: str

    def text(self) -> str:
        return (
            f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"
            f"chain {self.chain}\ntime {self.time}\n"
        )

    def sign(self, signers: Sequence[NoteSigner]) -> str:
        return sign_note(self.text(), signers)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) != 6 or lines[-1] != "":
            raise NoteError("a checkpoint has five lines")
        origin, size, root, chain, time = lines[:5]
        try:
            root_bytes = base64.b64decode(root, validate=True)
        except binascii.Error:
            raise NoteError("checkpoint root is not base64") from None
        if not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError("checkpoint size is not a decimal number")
        if len(root_bytes) != 32:
            raise NoteError("checkpoint root is not 32 bytes")
        if not chain.startswith("chain ") or not HEX64.match(chain[6:]):
            raise NoteError("checkpoint lacks its chain line")
        if not time.startswith("time ") or not TIME.match(time[5:]):
            raise NoteError("checkpoint lacks its time line")
        return cls(origin, int(size), root_bytes, chain[6:], time[5:])

    @classmethod
    def open(cls, note: str, *verifiers: NoteVerifier) -> Checkpoint:
        """The checkpoint in a signed note, if every one of ``verifiers`` signed it and it names
        their origin."""
        checkpoint = cls.parse(open_note(note, *verifiers))
        for verifier in verifiers:
            if checkpoint.origin != verifier.name:
                raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not the key's {verifier.name!r}")
        return checkpoint
