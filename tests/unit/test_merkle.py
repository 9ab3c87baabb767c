"""RFC 9162 Merkle hashing and proofs, checked against the published test vectors.

The vectors are the Certificate Transparency ones (RFC 6962 / RFC 9162 share the algorithms;
transparency-dev/merkle's testdata carries the same values): eight leaves, the root of every
prefix, and a handful of inclusion and consistency proofs. Testing a tree only against itself
would prove nothing about interoperability; these are what any other implementation computes.
"""

from __future__ import annotations

import hashlib

import pytest

from events.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

LEAF_DATA = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
)]
ROOTS = [  # MTH(D[n]) for n = 0..8
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H0 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
H1 = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
H2 = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
H3 = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
H4 = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
INCLUSION = [  # (leaf index, tree size, PATH)
    (0, 1, []),
    (0, 8, [H0, H1, H2]),
    (5, 8, [H3, H4, ROOTS[4]]),
    (2, 3, [ROOTS[2]]),
    (1, 5, [ROOTS[1], H1, H3]),
]
CONSISTENCY = [  # (old size, new size, PROOF)
    (1, 1, []),
    (1, 8, [H0, H1, H2]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", H4, ROOTS[4]]),
    (2, 5, [H1, H3]),
]
LEAVES = [leaf_hash(d) for d in LEAF_DATA]
TREE = MemoryTree(LEAVES)


def test_hashing_is_domain_separated_as_the_rfc_says():
    assert EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert leaf_hash(left + right) != node_hash(left, right)


@pytest.mark.parametrize("n", range(9))
def test_roots_match_the_published_vectors(n):
    assert root_of(LEAVES[:n]).hex() == ROOTS[n]


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION)
def test_inclusion_proofs_match_the_published_vectors(index, size, expected):
    proof = inclusion_proof(TREE.subtree, index, size)
    assert [p.hex() for p in proof] == expected
    assert verify_inclusion(LEAVES[index], index, size, proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "expected"), CONSISTENCY)
def test_consistency_proofs_match_the_published_vectors(old, new, expected):
    proof = consistency_proof(TREE.subtree, old, new)
    assert [p.hex() for p in proof] == expected
    assert verify_consistency(old, new, proof, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]))


def test_every_proof_up_to_33_leaves_verifies_and_every_lie_is_refused():
    leaves = [leaf_hash(f"leaf-{i}".encode()) for i in range(33)]
    tree = MemoryTree(leaves)
    for size in range(1, 34):
        root = root_of(leaves[:size])
        for index in range(size):
            proof = inclusion_proof(tree.subtree, index, size)
            assert verify_inclusion(leaves[index], index, size, proof, root)
            assert not verify_inclusion(leaf_hash(b"forged"), index, size, proof, root)
            if size > 1:
                assert not verify_inclusion(leaves[index], (index + 1) % size, size, proof, root)
            if proof:
                assert not verify_inclusion(leaves[index], index, size, proof[:-1], root)
                bent = bytearray(proof[0])
                bent[0] ^= 1
                assert not verify_inclusion(leaves[index], index, size, [bytes(bent), *proof[1:]], root)
        for old in range(1, size + 1):
            proof = consistency_proof(tree.subtree, old, size)
            old_root = root_of(leaves[:old])
            assert verify_consistency(old, size, proof, old_root, root)
            if old < size:
                assert not verify_consistency(old, size, proof, root, root)
                assert not verify_consistency(old, size, proof[:-1], old_root, root)
                assert not verify_consistency(old, size, proof, old_root, leaf_hash(b"forged"))


def test_structural_nonsense_is_a_refusal_never_an_exception():
    proof = inclusion_proof(TREE.subtree, 5, 8)
    root = bytes.fromhex(ROOTS[8])
    assert not verify_inclusion(LEAVES[5], 8, 8, proof, root)
    assert not verify_inclusion(LEAVES[5], -1, 8, proof, root)
    assert not verify_inclusion(LEAVES[5], 5, 8, [*proof, EMPTY_ROOT], root)
    assert not verify_consistency(8, 6, [], root, bytes.fromhex(ROOTS[6]))
    assert not verify_consistency(8, 8, [root], root, root)
    with pytest.raises(ValueError):
        inclusion_proof(TREE.subtree, 8, 8)
    with pytest.raises(ValueError):
        consistency_proof(TREE.subtree, 0, 8)
