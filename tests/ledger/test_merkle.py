"""RFC 6962 hashing against the Certificate Transparency test vectors, and inclusion proofs."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle

# The eight leaves and the roots of their prefixes used by the CT reference implementations.
CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def recursive_mth(data: list[bytes]) -> bytes:
    """The RFC's definition, literally (the reference the iterative version must equal)."""
    n = len(data)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k << 1 < n:
        k <<= 1
    return hashlib.sha256(b"\x01" + recursive_mth(data[:k]) + recursive_mth(data[k:])).digest()


def test_empty_tree():
    assert merkle.root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("size", range(1, 9))
def test_ct_vectors(size):
    data = [bytes.fromhex(x) for x in CT_LEAVES[:size]]
    assert merkle.root(data).hex() == CT_ROOTS[size - 1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70))
def test_iterative_root_equals_rfc_definition_and_every_proof_verifies(data):
    leaves = [merkle.leaf_hash(d) for d in data]
    root = merkle.root_from_leaf_hashes(leaves)
    assert root == recursive_mth(data)
    for i in range(len(data)):
        path = merkle.inclusion_path(i, leaves)
        assert merkle.verify_inclusion(leaves[i], i, len(data), path, root)


def test_wrong_proofs_are_rejected():
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(13)]
    root = merkle.root_from_leaf_hashes(leaves)
    path = merkle.inclusion_path(5, leaves)
    assert merkle.verify_inclusion(leaves[5], 5, 13, path, root)
    assert not merkle.verify_inclusion(leaves[6], 5, 13, path, root)  # other leaf
    assert not merkle.verify_inclusion(leaves[5], 4, 13, path, root)  # other index
    last = merkle.inclusion_path(12, leaves)
    assert merkle.verify_inclusion(leaves[12], 12, 13, last, root)
    assert not merkle.verify_inclusion(leaves[12], 12, 14, last, root)  # other size (the signed size binds it)
    assert not merkle.verify_inclusion(leaves[5], 5, 13, path[:-1], root)  # truncated path
    assert not merkle.verify_inclusion(leaves[5], 5, 13, [*path, path[0]], root)  # padded path
    assert not merkle.verify_inclusion(leaves[5], 13, 13, path, root)  # out of range
    bad = [bytes(32), *path[1:]]
    assert not merkle.verify_inclusion(leaves[5], 5, 13, bad, root)
    # a leaf can never pose as an interior node (0x00 / 0x01 domain separation)
    node = merkle.node_hash(leaves[0], leaves[1])
    assert merkle.leaf_hash(leaves[0] + leaves[1]) != node


def test_path_index_out_of_range():
    with pytest.raises(IndexError):
        merkle.inclusion_path(3, [merkle.leaf_hash(b"a")] * 3)
