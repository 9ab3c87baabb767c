"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing and proofs, with the standard
library only, so that an auditor can read it against the RFC and run it anywhere.

- leaf hash  = SHA-256(0x00 || leaf data); node hash = SHA-256(0x01 || left || right);
- the hash of an empty tree is SHA-256 of the empty string;
- MTH(D[n]) splits at k, the largest power of two smaller than n (RFC 9162 §2.1.1);
- inclusion proofs (§2.1.3) and consistency proofs (§2.1.4), and their verification.

The ledger's leaves are the events: leaf data is the 32 raw bytes of an event's ``hash`` (the
SHA-256 of its canonical envelope), leaf *i* is the event with seq *i* + 1.

Trees are read through a ``subtree(start, size)`` function returning MTH of leaves
[start, start + size); ``MemoryTree`` gives one over a list of leaf hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()
Subtree = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def perfect_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a power-of-two number of leaf hashes, level by level (no recursion)."""
    level = list(leaf_hashes)
    if not level or len(level) & (len(level) - 1):
        raise ValueError(f"{len(level)} leaves do not make a perfect tree")
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes, bottom-up (for building trees and checking)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return MemoryTree(leaf_hashes).subtree(0, len(leaf_hashes))


class MemoryTree:
    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self.leaves = list(leaf_hashes)

    def subtree(self, start: int, size: int) -> bytes:
        if size == 1:
            return self.leaves[start]
        k = split(size)
        return node_hash(self.subtree(start, k), self.subtree(start + k, size - k))


def inclusion_proof(subtree: Subtree, index: int, size: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1, for leaf ``index`` in a tree of ``size`` leaves."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")

    def path(m: int, start: int, n: int) -> list[bytes]:
        if n == 1:
            return []
        k = split(n)
        if m < k:
            return path(m, start, k) + [subtree(start + k, n - k)]
        return path(m - k, start + k, n - k) + [subtree(start, k)]

    return path(index, 0, size)


def consistency_proof(subtree: Subtree, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size}")

    def subproof(m: int, start: int, n: int, complete: bool) -> list[bytes]:
        if m == n:
            return [] if complete else [subtree(start, n)]
        k = split(n)
        if m <= k:
            return subproof(m, start, k, complete) + [subtree(start + k, n - k)]
        return subproof(m - k, start + k, n - k, False) + [subtree(start, k)]

    return subproof(old_size, 0, new_size, True)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2, with ``leaf`` the leaf *hash*."""
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
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes) -> bool:
    """RFC 9162 §2.1.4.2."""
    if old_size == new_size:
        return not proof and old_root == new_root
    if not 0 < old_size < new_size or not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path = [old_root] + path
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
