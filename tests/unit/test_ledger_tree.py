"""The Merkle tree over the sealed log agrees with the in-memory RFC 9162 tree at every size,
including across the 256-leaf blocks whose nodes are stored, and its tiles are what C2SP
tlog-tiles names them."""

from __future__ import annotations

import pytest

from events.merkle import MemoryTree, leaf_hash, root_of, verify_consistency, verify_inclusion
from services.ledger.ledger_tree import TILE_WIDTH, LedgerTree, NodeMissing, tile_path, tiles_for
from tests.sealed_fixtures import sealed_log_with

SIZE = 3 * TILE_WIDTH * 2 + 37  # 1573: six full blocks, a partial one, nodes up to height 10


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    log = sealed_log_with(tmp_path_factory.mktemp("tree") / "ledger.sqlite", SIZE)
    tree = LedgerTree(log)
    yield tree
    log.close()


@pytest.fixture(scope="module")
def memory(tree):
    return MemoryTree([leaf_hash(bytes.fromhex(h)) for h in tree.log.hashes(0, SIZE)])


def test_roots_agree_with_the_reference_tree_at_every_interesting_size(tree, memory):
    assert tree.extend() == SIZE // TILE_WIDTH
    sizes = {1, 2, 3, 255, 256, 257, 511, 512, 513, 1024, 1025, 1535, 1536, SIZE} | set(range(1, SIZE, 97))
    for size in sorted(sizes):
        assert tree.root(size) == root_of(memory.leaves[:size]), size


def test_proofs_from_the_stored_tree_verify(tree, memory):
    root = tree.root(SIZE)
    for seq in (1, 256, 257, 1000, SIZE):
        proof = tree.inclusion(seq, SIZE)
        assert verify_inclusion(memory.leaves[seq - 1], seq - 1, SIZE, proof, root)
    for old in (1, 255, 256, 700, 1536, SIZE):
        proof = tree.consistency(old, SIZE)
        assert verify_consistency(old, SIZE, proof, tree.root(old), root)


def test_a_node_that_is_not_complete_is_not_served(tree):
    with pytest.raises(NodeMissing):
        tree.node(8, SIZE // TILE_WIDTH)
    with pytest.raises(NodeMissing):
        tree.node(2, (SIZE - 1) // 4)


def test_tiles_are_the_hashes_of_their_level(tree, memory):
    assert tiles_for(SIZE) == [*[(0, i, 256) for i in range(6)], (0, 6, 37), (1, 0, 6)]
    assert tree.tile(0, 6, 37) == b"".join(memory.leaves[1536:SIZE])
    level1 = tree.tile(1, 0, 6)
    assert [level1[i * 32:(i + 1) * 32] for i in range(6)] == [
        root_of(memory.leaves[i * 256:(i + 1) * 256]) for i in range(6)
    ]
    with pytest.raises(NodeMissing):
        tree.tile(1, 0, 7)


def test_tile_paths_follow_c2sp():
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(0, 5) == "tile/0/005"
    assert tile_path(1, 1000, 17) == "tile/1/x001/000.p/17"
    assert tiles_for(0) == []
    assert tiles_for(256 * 256) == [*[(0, i, 256) for i in range(256)], (1, 0, 256), (2, 0, 1)]
