"""The Merkle tree over the sealed log (RFC 9162 hashing, events/merkle.py).

Leaf *i* (0-based) is ``leaf_hash(bytes.fromhex(hash))`` of the event with seq *i* + 1. Every
perfect subtree of 256 leaves or more (height >= 8) is stored once it is complete, in the table
``merkle_nodes`` beside the sealed log; smaller subtrees are recomputed from at most 256 event
hashes. So a root, an inclusion proof or a consistency proof costs O(log n) reads whatever the
size of the ledger, and the stored nodes are exactly the hashes the published tiles carry
(C2SP tlog-tiles: a tile at level L holds 256 nodes of height 8·L).

The stored nodes are a cache of values anyone can recompute from the event hashes; the audit
verifier never trusts them, it recomputes.
"""

from __future__ import annotations

from events.merkle import EMPTY_ROOT, consistency_proof, inclusion_proof, leaf_hash, node_hash, perfect_root, split
from services.ledger.sealed_log import SealedLog

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT

SCHEMA = """
CREATE TABLE IF NOT EXISTS merkle_nodes (
    height INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (height, idx)
) WITHOUT ROWID
"""


class NodeMissing(LookupError):
    """A node that does not exist yet: its leaves have not all been sealed."""


class LedgerTree:
    def __init__(self, log: SealedLog) -> None:
        self.log = log
        self.db = log.db
        self.db.create(SCHEMA)

    # -- leaves --------------------------------------------------------------------------------

    def leaves(self, start: int, count: int) -> list[bytes]:
        """Leaf hashes start … start + count - 1 (fewer if the ledger is shorter)."""
        return [leaf_hash(bytes.fromhex(h)) for h in self.log.hashes(start, count)]

    def size(self) -> int:
        return self.log.head().seq

    # -- stored nodes --------------------------------------------------------------------------

    def _stored(self, height: int, idx: int) -> bytes | None:
        row = self.db.row("SELECT hash FROM merkle_nodes WHERE height = ? AND idx = ?", (height, idx))
        return bytes(row[0]) if row else None

    def stored_blocks(self) -> int:
        """How many complete blocks of 256 leaves have their nodes stored."""
        row = self.db.row("SELECT count(*) FROM merkle_nodes WHERE height = ?", (TILE_HEIGHT,))
        return row[0] if row else 0

    def extend(self, up_to: int | None = None, *, blocks_per_transaction: int = 64) -> int:
        """Store the nodes of every block completed up to seq ``up_to`` (default: the head).
        Returns how many blocks were added. Safe to run from several processes at once: nodes are
        deterministic and a node already stored is left as it is."""
        size = self.size() if up_to is None else up_to
        done = self.stored_blocks()
        target = size // TILE_WIDTH
        added = 0
        while done < target:
            batch = min(blocks_per_transaction, target - done)
            leaves = self.leaves(done * TILE_WIDTH, batch * TILE_WIDTH)
            rows: list[tuple[int, int, bytes]] = []
            pending: dict[tuple[int, int], bytes] = {}
            for b in range(batch):
                idx = done + b
                digest = perfect_root(leaves[b * TILE_WIDTH:(b + 1) * TILE_WIDTH])
                height = TILE_HEIGHT
                rows.append((height, idx, digest))
                pending[(height, idx)] = digest
                while idx & 1:  # a right child completes its parent
                    left = pending.get((height, idx - 1)) or self._stored(height, idx - 1)
                    if left is None:
                        raise NodeMissing(f"node {height}/{idx - 1} is not stored")
                    digest = node_hash(left, digest)
                    height, idx = height + 1, idx >> 1
                    rows.append((height, idx, digest))
                    pending[(height, idx)] = digest
            with self.db.transaction() as tx:
                tx.executemany("INSERT INTO merkle_nodes VALUES (?,?,?) ON CONFLICT DO NOTHING", rows)
            done += batch
            added += batch
        return added

    # -- hashes of any subtree -----------------------------------------------------------------

    def node(self, height: int, idx: int) -> bytes:
        """MTH of the perfect subtree of height ``height`` holding leaves idx·2^h … (idx+1)·2^h - 1."""
        if height >= TILE_HEIGHT:
            digest = self._stored(height, idx)
            if digest is None:
                self.extend()
                digest = self._stored(height, idx)
            if digest is None:
                raise NodeMissing(f"node {height}/{idx} is not complete")
            return digest
        width = 1 << height
        leaves = self.leaves(idx * width, width)
        if len(leaves) < width:
            raise NodeMissing(f"node {height}/{idx} is not complete")
        return perfect_root(leaves)

    def subtree(self, start: int, size: int) -> bytes:
        """MTH of leaves start … start + size - 1, for the ranges RFC 9162's recursions ask for."""
        if size & (size - 1) == 0 and start % size == 0:
            height = size.bit_length() - 1
            return self.node(height, start >> height)
        k = split(size)
        return node_hash(self.subtree(start, k), self.subtree(start + k, size - k))

    def root(self, size: int) -> bytes:
        return self.subtree(0, size) if size else EMPTY_ROOT

    def inclusion(self, seq: int, size: int) -> list[bytes]:
        """The inclusion proof of the event with ``seq`` in the tree of the first ``size`` events."""
        return inclusion_proof(self.subtree, seq - 1, size)

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        return consistency_proof(self.subtree, old_size, new_size)

    # -- tiles ---------------------------------------------------------------------------------

    def tile(self, level: int, index: int, width: int = TILE_WIDTH) -> bytes:
        """The C2SP tlog-tiles tile ``level``/``index`` holding ``width`` hashes: at level 0 leaf
        hashes, at level L the nodes of height 8·L."""
        if level == 0:
            hashes = self.leaves(index * TILE_WIDTH, width)
        else:
            height = level * TILE_HEIGHT
            first = index * TILE_WIDTH
            self.extend()
            rows = self.db.rows(
                "SELECT hash FROM merkle_nodes WHERE height = ? AND idx >= ? AND idx < ? ORDER BY idx",
                (height, first, first + width),
            )
            hashes = [bytes(r[0]) for r in rows]
        if len(hashes) != width:
            raise NodeMissing(f"tile {level}/{index} has {len(hashes)} of {width} hashes")
        return b"".join(hashes)


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """C2SP tlog-tiles path: ``tile/<L>/<N>`` with N in 3-digit groups, the leading ones
    prefixed ``x`` (1234067 -> x001/x234/067), and ``.p/<W>`` for a partial tile."""
    digits = f"{index:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    path = "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])
    suffix = f".p/{width}" if width < TILE_WIDTH else ""
    return f"tile/{level}/{path}{suffix}"


def tiles_for(size: int) -> list[tuple[int, int, int]]:
    """(level, index, width) of every tile a tree of ``size`` leaves publishes: all full tiles and
    the partial one at the right edge of each level."""
    tiles = []
    level, count = 0, size
    while count:
        full, rest = divmod(count, TILE_WIDTH)
        tiles.extend((level, i, TILE_WIDTH) for i in range(full))
        if rest:
            tiles.append((level, full, rest))
        level, count = level + 1, full
    return tiles
