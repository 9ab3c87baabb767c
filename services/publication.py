"""What the public site carries so that anyone can check it against the ledger without trusting us,
and the register of what was published when.

Under ``transparency/`` (the layout of C2SP tlog-tiles, prefix ``transparency/``):

- ``log.vkey``                   the Ed25519 verifier key (C2SP signed-note text form)
- ``log-sm2.vkey``               the SM2 verifier key of the checkpoints' co-signature
- ``checkpoint``                 the signed checkpoint of exactly the published cut
- ``checkpoints/<size>``         every checkpoint issued up to that one (immutable)
- ``checkpoints.json``           their sizes
- ``consistency/<m>/<n>``        RFC 9162 consistency proof between successive checkpoints
- ``tile/<L>/<N>[.p/<W>]``       the tree's hashes, from which any inclusion or consistency proof
                                 can be computed and any root recomputed
- ``publication.json``           the cut and every ledger position a page states
- ``VERIFICATION.md``, ``verifier.py``   the specification and the independent verifier

Everything here is a function of the ledger up to the cut and of the checkpoint table, so
rebuilding the site of a past publication reproduces it byte for byte (``site_digest``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import events
from projections import saved_states
from projections.collector_pause import heap_frozen
from projections.disclosure import build_snapshot, snapshot_at, snapshot_file, write_snapshot
from projections.feed import EventFeed
from projections.saved_states import states_at
from public_site.build import build_site
from public_site.identity import DEMO, SiteIdentity
from services.audit import verifier
from services.ledger.checkpoints import Checkpointer
from services.ledger.database import open_database
from services.ledger.ledger_tree import TILE_WIDTH, LedgerTree, tile_path, tiles_for

SPEC = Path(events.__file__).resolve().parent / "VERIFICATION.md"
VERIFIER = Path(verifier.__file__).resolve()
REGISTER = """
CREATE TABLE IF NOT EXISTS publications (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    cut_seq INTEGER NOT NULL,
    published_at TEXT NOT NULL,
    site_digest TEXT NOT NULL,
    files INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS publication_sites (
    n INTEGER PRIMARY KEY,
    identity TEXT NOT NULL
)
"""


def _write(path: Path, data: bytes) -> bool:
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def publish_transparency(site_dir: Path, snapshot: dict[str, Any], tree: LedgerTree, checkpointer: Checkpointer) -> int:
    """Write ``transparency/`` for a site built from ``snapshot``; return how many files changed."""
    cut = snapshot["cut"]["seq"]
    out = site_dir / "transparency"
    checkpointer.issue(cut)
    published = checkpointer.published_with(cut)
    written = 0
    ed25519, sm2 = checkpointer.verifier_keys()
    written += _write(out / "log.vkey", (ed25519 + "\n").encode())
    written += _write(out / "log-sm2.vkey", (sm2 + "\n").encode())
    written += _write(out / "checkpoint", published[-1].note.encode())
    for c in published:
        written += _write(out / "checkpoints" / str(c.tree_size), c.note.encode())
    index = {"spec": "eldercare-verification/2", "origin": checkpointer.origin,
             "checkpoints": [c.tree_size for c in published]}
    written += _write(out / "checkpoints.json", json.dumps(index, ensure_ascii=False, indent=1).encode())
    for old, new in zip(published, published[1:]):
        if old.tree_size:
            proof = [base64.b64encode(p).decode() for p in tree.consistency(old.tree_size, new.tree_size)]
            document = {"from": old.tree_size, "to": new.tree_size, "proof": proof}
            written += _write(out / "consistency" / str(old.tree_size) / str(new.tree_size), json.dumps(document).encode())
    tree.extend(cut)
    wanted = set()
    for level, index_, width in tiles_for(cut):
        path = out / tile_path(level, index_, width)
        wanted.add(path)
        if width == TILE_WIDTH and path.is_file():
            continue  # a full tile never changes
        written += _write(path, tree.tile(level, index_, width))
    for stale in (out / "tile").rglob("*") if (out / "tile").exists() else []:
        if stale.is_file() and stale not in wanted:
            stale.unlink()
            written += 1
    stamps = sorted({(i["page_stamp"]["seq"], i["page_stamp"]["hash"]) for i in snapshot["institutions"].values()})
    publication = {
        "spec": "eldercare-verification/2",
        "cut": {k: snapshot["cut"][k] for k in ("seq", "hash", "recorded_at")},
        "checkpoint": cut,
        "stamps": [{"seq": s, "hash": h} for s, h in stamps],
    }
    written += _write(out / "publication.json", json.dumps(publication, ensure_ascii=False, indent=1).encode())
    written += _write(out / "VERIFICATION.md", SPEC.read_bytes())
    written += _write(out / "verifier.py", VERIFIER.read_bytes())
    return written


def site_digest(site_dir: Path, *, exclude: tuple[str, ...] = (".disclosure-build.json",)) -> tuple[str, int]:
    """SHA-256 over every file's path and SHA-256, in path order; and the number of files."""
    listing = hashlib.sha256()
    count = 0
    for path in sorted(p for p in site_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(site_dir).as_posix()
        if rel in exclude:
            continue
        listing.update(f"{rel}\t{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
        count += 1
    return listing.hexdigest(), count


@dataclass(frozen=True)
class Publication:
    n: int
    cut_seq: int
    published_at: str
    site_digest: str
    files: int
    identity: dict[str, str] | None = None  # who published it and where (None: recorded before this was kept)

    @property
    def site(self) -> SiteIdentity:
        return SiteIdentity.from_dict(self.identity) if self.identity else DEMO


class PublicationRegister:
    """Each site build that went out: its cut, when, and the digest of every file it held."""

    def __init__(self, event_store: Path | str) -> None:
        self.db = open_database(event_store)
        self.db.create(REGISTER)

    def close(self) -> None:
        self.db.close()

    def record(self, cut_seq: int, site_dir: Path, *, at: datetime | None = None, site: SiteIdentity = DEMO) -> Publication:
        digest, files = site_digest(site_dir)
        moment = (at or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="microseconds")
        identity = json.dumps(site.as_dict(), ensure_ascii=False, sort_keys=True)
        with self.db.transaction() as tx:
            (n,), = tx.execute(
                "INSERT INTO publications (cut_seq, published_at, site_digest, files) VALUES (?,?,?,?) RETURNING n",
                (cut_seq, moment, digest, files),
            )
            tx.execute("INSERT INTO publication_sites (n, identity) VALUES (?,?)", (n, identity))
        return Publication(n, cut_seq, moment, digest, files, site.as_dict())

    SELECT = ("SELECT p.n, p.cut_seq, p.published_at, p.site_digest, p.files, s.identity FROM publications p "
              "LEFT JOIN publication_sites s ON s.n = p.n")

    @staticmethod
    def _publication(row: tuple) -> Publication:
        return Publication(*row[:5], json.loads(row[5]) if row[5] else None)

    def all(self) -> list[Publication]:
        return [self._publication(r) for r in self.db.rows(f"{self.SELECT} ORDER BY p.n")]

    def as_of(self, moment: str) -> Publication | None:
        """The publication that was live at ``moment`` (the last one made at or before it)."""
        at = datetime.fromisoformat(moment).astimezone(timezone.utc).isoformat(timespec="microseconds")
        row = self.db.row(f"{self.SELECT} WHERE p.published_at <= ? ORDER BY p.n DESC LIMIT 1", (at,))
        return self._publication(row) if row else None


def published_snapshot(event_store: Path | str, snapshot_dir: Path) -> dict[str, Any] | None:
    """The disclosure snapshot behind the latest publication (None before the first)."""
    register = PublicationRegister(event_store)
    try:
        publications = register.all()
    finally:
        register.close()
    if not publications:
        return None
    path = snapshot_dir / f"disclosure-{publications[-1].cut_seq:012d}.json"
    if not path.exists():
        raise FileNotFoundError(f"publication #{publications[-1].n} (seq {publications[-1].cut_seq}): {path} is missing")
    return json.loads(path.read_bytes())


def build_published_site(
    envelopes: Iterable[dict[str, Any]], seq: int | None, site_dir: Path, snapshot_dir: Path, tree: LedgerTree,
    checkpointer: Checkpointer, *, incremental: bool = False, search: bool = True, site: SiteIdentity = DEMO,
) -> tuple[dict[str, Any], Path, int]:
    """The one way a site is made, for publishing and for reproducing a past publication alike:
    the disclosure snapshot at ``seq`` of the ledger ``envelopes`` (all of them folded), the Pelican
    site and its search index, and ``transparency/``. Returns the snapshot, its file and how many
    files were written."""
    snapshot = snapshot_at(envelopes, up_to_seq=seq)
    return snapshot, *_site_of(snapshot, site_dir, snapshot_dir, tree, checkpointer, incremental=incremental, search=search, site=site)


def publish_site(
    feed: EventFeed, seq: int | None, site_dir: Path, snapshot_dir: Path, tree: LedgerTree, checkpointer: Checkpointer,
    *, incremental: bool = False, search: bool = True, site: SiteIdentity = DEMO,
) -> tuple[dict[str, Any], Path, int, int | None]:
    """``build_published_site`` for a publication: the record states saved at the last one's cut
    and the events ``feed`` holds since (projections/saved_states.py; the whole ledger when they
    cannot be used), then the states at this cut saved for the next. The same site, byte for byte,
    as ``build_published_site`` from every envelope makes (the tests hold it). Returns the snapshot,
    its file, how many files were written and the cut the fold resumed from (None: from seq 1)."""
    folded = states_at(feed, snapshot_dir, seq)
    snapshot = build_snapshot(folded.states.values(), folded.cut, parts=folded.parts)
    made = _site_of(snapshot, site_dir, snapshot_dir, tree, checkpointer, incremental=incremental, search=search, site=site,
                    also=lambda: saved_states.save(snapshot_dir, feed, folded))
    return snapshot, *made, folded.resumed_from


def _site_of(snapshot: dict[str, Any], site_dir: Path, snapshot_dir: Path, tree: LedgerTree, checkpointer: Checkpointer,
             *, incremental: bool, search: bool, site: SiteIdentity, also: Callable[[], Any] = lambda: None) -> tuple[Path, int]:
    """The site of ``snapshot``; the snapshot file written (and ``also`` done) meanwhile, on the
    other core: the site is made from the snapshot in memory, and neither needs the other."""
    with heap_frozen(), meanwhile(lambda: write_snapshot(snapshot, snapshot_dir), also):
        written = build_site(snapshot, site_dir, incremental=incremental, search=search, site=site)
    written += publish_transparency(site_dir, snapshot, tree, checkpointer)
    return snapshot_file(snapshot, snapshot_dir), written


@contextlib.contextmanager
def meanwhile(*actions: Callable[[], Any]) -> Iterator[None]:
    """Do ``actions`` in a forked process while the body runs (inline first where there is no
    fork); wait for them, and fail if they did, before going on."""
    if not hasattr(os, "fork"):
        for action in actions:
            action()
        yield
        return
    pid = os.fork()
    if pid == 0:  # the child: the actions, then out without running the parent's exit handlers
        status = 0
        try:
            for action in actions:
                action()
        except BaseException:  # noqa: BLE001 - reported to the parent through the exit status
            traceback.print_exc()
            status = 1
        finally:
            os._exit(status)
    try:
        yield
    finally:
        status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if status != 0:
        raise RuntimeError("writing the snapshot or saving the record states failed; see the messages above")


def reproduce(publication: Publication, envelopes: Iterable[dict[str, Any]], work_dir: Path, tree: LedgerTree,
              checkpointer: Checkpointer) -> tuple[bool, str, Path]:
    """Rebuild a past publication from the ledger into ``work_dir``; (identical?, digest, site)."""
    site_dir = work_dir / "site"
    if site_dir.exists():
        shutil.rmtree(site_dir)
    build_published_site(envelopes, publication.cut_seq, site_dir, work_dir / "snapshots", tree, checkpointer,
                         site=publication.site)
    digest, _ = site_digest(site_dir)
    return digest == publication.site_digest, digest, site_dir
