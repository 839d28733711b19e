"""RFC 6962 (Certificate Transparency) Merkle tree hashing, inclusion proofs and their verification.

MTH({}) = SHA-256(), MTH({d0}) = SHA-256(0x00 || d0), MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) ||
MTH(D[k:n])) with k the largest power of two smaller than n. The 0x00/0x01 prefixes keep a leaf
from ever being passed off as an interior node (second-preimage resistance).

Pure functions over bytes: no Django, so an auditor's script (or a phone) can reuse the module.
pymerkle implements the same hashing, but only around its own storage backends; the ledger keeps
its leaves in its own table and needs the bare functions, so they live here, checked against the
published CT test vectors in tests/ledger/test_merkle.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def root_from_leaf_hashes(leaves: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves, bottom-up.

    Pairing neighbours level by level and promoting a lone last node unchanged gives exactly the
    RFC's "split at the largest power of two" tree, without recursion (batches of 10^5 leaves).
    """
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    sha = hashlib.sha256
    while len(level) > 1:
        nxt = [sha(NODE_PREFIX + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def root(data: Sequence[bytes]) -> bytes:
    """MTH over raw leaf data."""
    return root_from_leaf_hashes([leaf_hash(d) for d in data])


def _largest_power_of_two_below(n: int) -> int:
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def inclusion_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1 over leaf hashes: the sibling hashes from leaf to root."""
    n = len(leaves)
    if not 0 <= index < n:
        raise IndexError(f"leaf {index} outside a tree of {n}")
    path: list[bytes] = []
    lo, hi, m = 0, n, index
    # Walk down from the root, remembering the sibling subtree at each split; the RFC lists them
    # from the bottom up, hence the reverse at the end.
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if m - lo < k:
            path.append(root_from_leaf_hashes(leaves[lo + k : hi]))
            hi = lo + k
        else:
            path.append(root_from_leaf_hashes(leaves[lo : lo + k]))
            lo = lo + k
    path.reverse()
    return path


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``leaf`` (already leaf-hashed) sit at ``index`` of the tree of
    ``size`` leaves whose root is ``expected_root``?"""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root
