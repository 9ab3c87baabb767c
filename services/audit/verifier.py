"""Independent verifier of the eldercare supervision ledger — specification
``eldercare-verification/2`` (events/VERIFICATION.md; also published at transparency/VERIFICATION.md).

It deliberately imports nothing from this code base and nothing outside Python's standard library,
``cryptography`` and — for the SM2 co-signature only — ``tongsuopy`` (the Tongsuo project's SM2/SM3):
an auditor can read it against the specification, copy it out, and run it without trusting
anything else we wrote.

    python verifier.py --site ./site                         # a published site on disk
    python verifier.py --site https://example.gov.cn/site/   # or on the web
    python verifier.py --site ./site --events export.jsonl   # plus the full ledger, line by line
    python verifier.py ... --vkey 'origin+keyid+base64'      # pin the keys you obtained yourself
                           --vkey 'origin+keyid+base64'      # (give --vkey once per key: Ed25519, SM2)

What it checks (each failure is a finding naming the seq or the checkpoint):

1. every checkpoint is a signed note verifying under every ledger key given (by default the
   site's two: Ed25519 and the SM2 co-signature), for the ledger's origin;
2. the Merkle root of every checkpoint recomputes from the published leaf tiles, and every
   higher-level tile holds the nodes those leaves make;
3. the published consistency proofs between successive checkpoints verify;
4. every ledger position a page states (seq and event hash) is the leaf at that seq;
5. with ``--events``: each envelope's hash recomputes from its canonical JSON, seqs run 1, 2, 3…
   without gaps, each ``prev_hash`` is the previous ``hash``, the leaves equal the published
   tiles, each checkpoint's root and ``chain`` line match the events.

Exit status: 0 all verified, 1 findings, 2 could not run (bad arguments, unreadable source).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

SPEC = "eldercare-verification/2"
TILE_WIDTH = 256
GENESIS_HASH = "0" * 64
EM_DASH = "\u2014 "


class VerifyError(Exception):
    pass


@dataclass(frozen=True)
class Finding:
    subject: str  # "seq 42", "checkpoint 1573", "tile/0/005"
    seq: int | None  # the ledger position concerned, when there is one
    problem: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.problem}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    events: int = 0
    checkpoints: int = 0
    tiles: int = 0
    stamps: int = 0
    proofs: int = 0

    def add(self, subject: str, seq: int | None, problem: str) -> None:
        self.findings.append(Finding(subject, seq, problem))

    @property
    def ok(self) -> bool:
        return not self.findings


# -- 1. canonical JSON and the envelope hash ---------------------------------------------------


def canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def envelope_hash(envelope: dict) -> str:
    return hashlib.sha256(canonical_json({k: v for k, v in envelope.items() if k != "hash"})).hexdigest()


# -- 2. RFC 9162 Merkle tree -------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class CompactRange:
    """The perfect subtrees covering leaves 0 … size-1 (largest first): enough to give the root
    at the current size, in O(log n) memory however long the ledger."""

    def __init__(self) -> None:
        self.size = 0
        self.nodes: list[tuple[int, bytes]] = []  # (height, hash)
        self.completed: list[tuple[int, int, bytes]] = []  # (height, index, hash) of nodes just made

    def append(self, leaf: bytes) -> None:
        self.completed = []
        height, digest, index = 0, leaf, self.size
        while self.nodes and self.nodes[-1][0] == height:
            _, left = self.nodes.pop()
            digest = node_hash(left, digest)
            height, index = height + 1, index >> 1
            self.completed.append((height, index, digest))
        self.nodes.append((height, digest))
        self.size += 1

    def root(self) -> bytes:
        if not self.nodes:
            return hashlib.sha256(b"").digest()
        digest = self.nodes[-1][1]
        for _, left in reversed(self.nodes[:-1]):
            digest = node_hash(left, digest)
        return digest


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, proof: list[bytes], old_root: bytes, new_root: bytes) -> bool:
    """RFC 9162 §2.1.4.2."""
    if old_size == new_size:
        return not proof and old_root == new_root
    if not 0 < old_size < new_size or not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path = [old_root] + path
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


# -- 3. signed notes and checkpoints (C2SP signed-note, tlog-checkpoint) -----------------------


ED25519 = b"\x01"  # C2SP's Ed25519 type; 32-byte key
SM2_SM3 = b"\xff" + b"gbt32918-sm2-sm3"  # 0xff (unassigned by C2SP) + identifier; 65-byte point


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    signature_type: bytes
    public_key: bytes

    @property
    def algorithm(self) -> str:
        return "Ed25519" if self.signature_type == ED25519 else "SM2/SM3"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        try:
            name, hex_id, encoded = text.strip().split("+", 2)
            material = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise VerifyError("malformed verifier key") from None
        for kind, length in ((ED25519, 32), (SM2_SM3, 65)):
            if material.startswith(kind) and len(material) == len(kind) + length:
                break
        else:
            raise VerifyError("verifier key is neither Ed25519 (type 0x01) nor SM2 (type 0xff gbt32918-sm2-sm3)")
        key_id = hashlib.sha256(name.encode() + b"\n" + material).digest()[:4]
        if key_id.hex() != hex_id:
            raise VerifyError("verifier key id does not match its name and key")
        return cls(name, key_id, kind, material[len(kind):])

    def verifies(self, message: bytes, signature: bytes) -> bool:
        if self.signature_type == ED25519:
            try:
                Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
            except InvalidSignature:
                return False
            return True
        # SM2 with SM3 over the message, default distinguishing identifier (GB/T 35276), DER (r, s).
        try:
            from tongsuopy.crypto import exceptions, hashes
            from tongsuopy.crypto.asymciphers import ec
        except ImportError:
            raise VerifyError("checking the SM2 co-signature needs tongsuopy (pip install tongsuopy)") from None
        try:
            decode_dss_signature(signature)  # not DER: refused here (the library raises an internal error)
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SM2(), self.public_key)
            key.verify(signature, message, ec.ECDSA(hashes.SM3()))
        except (exceptions.InvalidSignature, exceptions.InternalError, ValueError):
            return False
        return True


@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    size: int
    root: bytes
    chain: str
    time: str


def open_checkpoint(note: str, keys: list[VerifierKey]) -> CheckpointBody:
    """The checkpoint, if every key in ``keys`` signed the note (lines by other keys are skipped)."""
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise VerifyError("not a signed note")
    text = note[: split + 1]
    lines = []
    for line in note[split + 2:].splitlines():
        if not line.startswith(EM_DASH):
            raise VerifyError("malformed signature line")
        try:
            name, blob = line[len(EM_DASH):].split(" ")
            lines.append((name, base64.b64decode(blob, validate=True)))
        except (ValueError, binascii.Error):
            raise VerifyError("malformed signature line") from None
    for key in keys:
        ours = [raw[4:] for name, raw in lines if name == key.name and raw[:4] == key.key_id]
        if not ours:
            raise VerifyError(f"not signed by the ledger's {key.algorithm} key")
        if not all(key.verifies(text.encode(), signature) for signature in ours):
            raise VerifyError(f"{key.algorithm} signature does not verify")
    key = keys[0]
    lines = text.split("\n")
    if len(lines) != 6 or not lines[3].startswith("chain ") or not lines[4].startswith("time "):
        raise VerifyError("not an eldercare checkpoint")
    origin, size, root = lines[0], lines[1], lines[2]
    if origin != key.name:
        raise VerifyError(f"checkpoint of another log ({origin})")
    if not size.isdigit():
        raise VerifyError("checkpoint size is not a number")
    try:
        root_bytes = base64.b64decode(root, validate=True)
    except binascii.Error:
        raise VerifyError("checkpoint root is not base64") from None
    if len(root_bytes) != 32:
        raise VerifyError("checkpoint root is not 32 bytes")
    return CheckpointBody(origin, int(size), root_bytes, lines[3][6:], lines[4][5:])


# -- 4. reading a published site (a directory or a URL) ----------------------------------------


def tile_path(level: int, index: int, width: int) -> str:
    digits = f"{index:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    path = "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])
    return f"tile/{level}/{path}" + (f".p/{width}" if width < TILE_WIDTH else "")


class Site:
    def __init__(self, location: str) -> None:
        self.location = location.rstrip("/") + "/"
        self.remote = location.startswith(("http://", "https://"))

    def read(self, path: str) -> bytes | None:
        if self.remote:
            try:
                with urllib.request.urlopen(self.location + path, timeout=60) as response:
                    return response.read()
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return None
                raise VerifyError(f"{path}: HTTP {exc.code}") from None
            except urllib.error.URLError as exc:
                raise VerifyError(f"{path}: {exc.reason}") from None
        file = Path(self.location) / path
        return file.read_bytes() if file.is_file() else None

    def text(self, path: str) -> str | None:
        data = self.read(path)
        return None if data is None else data.decode("utf-8")


def tree_tiles(size: int) -> list[tuple[int, int, int]]:
    tiles, level, count = [], 0, size
    while count:
        full, rest = divmod(count, TILE_WIDTH)
        tiles.extend((level, i, TILE_WIDTH) for i in range(full))
        if rest:
            tiles.append((level, full, rest))
        level, count = level + 1, full
    return tiles


# -- 5. the checks -----------------------------------------------------------------------------


def _published_checkpoints(site: Site, keys: list[VerifierKey], report: Report) -> list[CheckpointBody]:
    index = site.text("transparency/checkpoints.json")
    if index is None:
        raise VerifyError("the site publishes no transparency/checkpoints.json")
    checkpoints = []
    for size in json.loads(index)["checkpoints"]:
        note = site.text(f"transparency/checkpoints/{size}")
        if note is None:
            report.add(f"checkpoint {size}", size, "listed but not published")
            continue
        try:
            body = open_checkpoint(note, keys)
        except VerifyError as exc:
            report.add(f"checkpoint {size}", size, str(exc))
            continue
        if body.size != size:
            report.add(f"checkpoint {size}", size, f"the note states size {body.size}")
            continue
        checkpoints.append(body)
        report.checkpoints += 1
    return sorted(checkpoints, key=lambda c: c.size)


def _tile_leaves(site: Site, size: int, report: Report) -> Iterator[bytes]:
    """Leaf hashes 0 … size-1 from the level-0 tiles."""
    for level, index, width in tree_tiles(size):
        if level:
            continue
        data = site.read("transparency/" + tile_path(0, index, width))
        report.tiles += 1
        if data is None or len(data) != 32 * width:
            first = index * TILE_WIDTH + 1
            report.add(tile_path(0, index, width), first, "missing or of the wrong length")
            return
        for i in range(width):
            yield data[32 * i:32 * (i + 1)]


STAMP = re.compile(r'data-seq="(\d+)" data-hash="([0-9a-f]{64})"')


def _stamps(site: Site, report: Report) -> dict[int, str]:
    """Every ledger position the site states: the cut, each page's stamp as publication.json lists
    it, and (for a site on disk) the ``data-seq``/``data-hash`` each HTML page actually shows."""
    stamps: dict[int, str] = {}

    def note(seq: int, digest: str, where: str) -> None:
        if stamps.setdefault(seq, digest) != digest:
            report.add(f"seq {seq}", seq, f"{where} states a different hash for this seq than another page")

    if not site.remote:
        for page in sorted(Path(site.location).rglob("*.html")):
            for seq, digest in STAMP.findall(page.read_text(encoding="utf-8")):
                note(int(seq), digest, str(page.relative_to(site.location)))
    publication = site.text("transparency/publication.json")
    if publication:
        document = json.loads(publication)
        note(document["cut"]["seq"], document["cut"]["hash"], "publication.json")
        for stamp in document.get("stamps", []):
            note(stamp["seq"], stamp["hash"], "publication.json")
    return stamps


def verify_events(envelopes: Iterable[dict], report: Report, tree: CompactRange) -> dict[int, str]:
    """Check the chain of envelopes; feed the Merkle tree; return seq -> hash as recomputed.

    A seq that is skipped is *missing* unless it turns up later, when it is *out of order*; either
    way the finding names the first seq where the ledger departs from 1, 2, 3…"""
    expected, previous, hashes = 1, GENESIS_HASH, {}
    skipped: dict[int, Finding] = {}
    for envelope in envelopes:
        report.events += 1
        seq = envelope.get("seq")
        if not isinstance(seq, int):
            report.add(f"event after seq {expected - 1}", expected, "has no seq")
            continue
        if seq > expected:
            for gap in range(expected, seq):
                skipped[gap] = Finding(f"seq {gap}", gap, "missing: this event is not in the ledger")
                report.findings.append(skipped[gap])
            previous = envelope.get("prev_hash", previous)
        elif seq < expected:
            finding = skipped.pop(seq, None)
            problem = f"out of order: appears after seq {expected - 1}"
            if finding is not None:
                report.findings[report.findings.index(finding)] = Finding(finding.subject, seq, problem)
            else:
                report.add(f"seq {seq}", seq, f"{problem} (a duplicate)")
            continue
        computed = envelope_hash(envelope)
        if computed != envelope.get("hash"):
            report.add(f"seq {seq}", seq, "altered: the envelope does not hash to its recorded hash")
        elif envelope.get("prev_hash") != previous and seq == expected:
            report.add(f"seq {seq}", seq, "chain broken: prev_hash is not the previous event's hash")
        while tree.size < seq - 1:  # keep leaf positions aligned with seqs across a gap
            tree.append(leaf_hash(bytes(32)))
        tree.append(leaf_hash(bytes.fromhex(computed)))
        hashes[seq] = computed
        previous, expected = envelope.get("hash", computed), seq + 1
    return hashes


def verify(site_location: str | None, *, vkeys: list[str] | None = None, events: Iterable[dict] | None = None,
           checkpoint_notes: list[str] | None = None) -> Report:
    """Verify a published site, a stream of envelopes, or both (see the module docstring).
    ``vkeys``: the verifier keys every checkpoint must be signed by; default the site's two."""
    report = Report()
    site = Site(site_location) if site_location else None
    if not vkeys:
        if site is None:
            raise VerifyError("without a site, give the verifier keys (--vkey)")
        vkeys = []
        for published in ("transparency/log.vkey", "transparency/log-sm2.vkey"):
            text = site.text(published)
            if text is None:
                raise VerifyError(f"the site publishes no {published}")
            vkeys.append(text)
    keys = [VerifierKey.parse(vkey) for vkey in vkeys]
    if len({key.name for key in keys}) != 1:
        raise VerifyError("the verifier keys name different logs")

    checkpoints: list[CheckpointBody] = []
    if site is not None:
        checkpoints = _published_checkpoints(site, keys, report)
    for note in checkpoint_notes or []:
        try:
            checkpoints.append(open_checkpoint(note, keys))
            report.checkpoints += 1
        except VerifyError as exc:
            size = note.split("\n")[1] if note.count("\n") > 2 else "?"
            report.add(f"checkpoint {size}", int(size) if size.isdigit() else None, str(exc))
    checkpoints = sorted({c.size: c for c in checkpoints}.values(), key=lambda c: c.size)
    report.checkpoints = len(checkpoints)

    # The events, if given: their chain, and their roots at every checkpoint size.
    event_hashes: dict[int, str] = {}
    event_roots: dict[int, bytes] = {}
    if events is not None:
        tree = CompactRange()
        sizes = {c.size for c in checkpoints}

        def checked() -> Iterator[dict]:
            for envelope in events:
                yield envelope
                if tree.size in sizes:
                    event_roots[tree.size] = tree.root()

        event_hashes = verify_events(checked(), report, tree)
        if 0 in sizes:
            event_roots[0] = CompactRange().root()
        for c in checkpoints:
            if c.size > tree.size:
                report.add(f"checkpoint {c.size}", c.size, f"signed for {c.size} events but the ledger has {tree.size}")
            elif event_roots.get(c.size) != c.root:
                report.add(f"checkpoint {c.size}", c.size, "root does not match the events")
            elif c.size and event_hashes.get(c.size) != c.chain:
                report.add(f"checkpoint {c.size}", c.size, "chain line is not the hash of its last event")

    # The site's tiles: leaves and upper levels, roots, stamps, consistency proofs.
    if site is not None and checkpoints:
        latest = checkpoints[-1]
        stamps = _stamps(site, report)
        report.stamps = len(stamps)
        uppers: dict[tuple[int, int], bytes] = {}
        tree = CompactRange()
        sizes = {c.size: c for c in checkpoints}
        differing: list[int] = []
        for leaf in _tile_leaves(site, latest.size, report):
            seq = tree.size + 1
            if seq in event_hashes and leaf != leaf_hash(bytes.fromhex(event_hashes[seq])):
                differing.append(seq)
            if seq in stamps and leaf != leaf_hash(bytes.fromhex(stamps[seq])):
                report.add(f"seq {seq}", seq, "a page states a hash for this seq that is not the ledger's")
            tree.append(leaf)
            for height, index, digest in tree.completed:
                if height % 8 == 0:
                    uppers[(height // 8, index)] = digest
            if tree.size in sizes:
                c = sizes[tree.size]
                if tree.root() != c.root:
                    report.add(f"checkpoint {c.size}", c.size, "root does not match the published leaves")
                elif leaf_hash(bytes.fromhex(c.chain)) != leaf:
                    report.add(f"checkpoint {c.size}", c.size, "chain line is not the published last leaf")
        if differing:
            report.add(f"seq {differing[0]}", differing[0],
                       f"the published leaf differs from the event's hash ({len(differing)} events differ from here on)")
        if tree.size < latest.size:
            report.add(f"checkpoint {latest.size}", tree.size + 1, f"tiles cover only {tree.size} leaves")
        for level, index, width in tree_tiles(latest.size):
            if not level:
                continue
            data = site.read("transparency/" + tile_path(level, index, width))
            report.tiles += 1
            wanted = b"".join(uppers.get((level, index * TILE_WIDTH + i), b"") for i in range(width))
            if data != wanted:
                report.add(tile_path(level, index, width), index * TILE_WIDTH ** (level + 1) + 1,
                           "does not hold the nodes the leaves make")
        for seq in stamps:
            if seq > latest.size:
                report.add(f"seq {seq}", seq, "a page states a position beyond the latest checkpoint")
        for old, new in zip(checkpoints, checkpoints[1:]):
            proof_doc = site.text(f"transparency/consistency/{old.size}/{new.size}")
            if proof_doc is None:
                report.add(f"checkpoint {new.size}", new.size, f"no consistency proof from {old.size}")
                continue
            proof = [base64.b64decode(p) for p in json.loads(proof_doc)["proof"]]
            report.proofs += 1
            if old.size and not verify_consistency(old.size, new.size, proof, old.root, new.root):
                report.add(f"checkpoint {new.size}", new.size, f"not consistent with checkpoint {old.size}")
    report.findings.sort(key=lambda f: (f.seq is None, f.seq or 0))
    return report


def read_jsonl(path: str) -> Iterator[dict]:
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    raise VerifyError(f"{path}:{number} is not JSON") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="verifier", description=f"独立核验监管台账（{SPEC}）：签名检查点、默克尔树、哈希链、页面所示台账位置"
    )
    parser.add_argument("--site", help="公开网站的目录或网址")
    parser.add_argument("--events", help="台账全量导出（JSON Lines，每行一个事件信封）")
    parser.add_argument("--vkey", action="append",
                        help="自行获取的台账公钥（验证者密钥文本），每个公钥给一次（Ed25519、SM2）；缺省时使用网站公布的两个公钥")
    args = parser.parse_args(argv)
    if not args.site and not args.events:
        parser.error("至少给出 --site 或 --events")
    try:
        report = verify(args.site, vkeys=args.vkey, events=read_jsonl(args.events) if args.events else None)
    except VerifyError as exc:
        print(f"无法核验 / cannot verify: {exc}", file=sys.stderr)
        return 2
    print(f"{SPEC}: {report.checkpoints} 个检查点, {report.events} 个事件, {report.tiles} 个瓦片, "
          f"{report.stamps} 个页面台账位置, {report.proofs} 个一致性证明")
    if not args.vkey and args.site:
        print("注意：使用的是网站自己公布的公钥；请另行核对公钥 / note: the keys are the ones the site publishes; pin your own with --vkey")
    elif args.vkey and not any(VerifierKey.parse(k).signature_type == SM2_SM3 for k in args.vkey):
        print("注意：未给出 SM2 公钥，未核验检查点的 SM2 副署 / note: no SM2 key given; the SM2 co-signature was not checked")
    for finding in report.findings:
        print(f"发现问题 / FINDING {finding}")
    print("核验通过 / verified" if report.ok else f"核验未通过 / NOT verified: {len(report.findings)} 个问题")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
