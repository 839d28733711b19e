"""licences.qrmatrix builds segno's QR symbol to the module: a result document must re-render byte
for byte (a lost file is rebuilt and checked against the SHA-256 the ledger holds), so a faster mask
choice is only acceptable if it is the same choice."""

from __future__ import annotations

import random
import string
from typing import Any

import numpy as np
import pytest
import segno
from segno import encoder

from licences import qrmatrix

VERIFY_URL = "https://zwfw.guizhou.example.gov.cn/verify/0123456789abcdef0123456789abcdef/?p=TB1."
ALPHABET = string.ascii_letters + string.digits + "-_."


def _texts(n: int, seed: int) -> list[str]:
    """Verification URLs of every length a token gives, plus short and non-ASCII texts (other
    versions, other encodings), seeded: the same texts on every run."""
    rng = random.Random(seed)
    texts = ["A", "0123456789", "https://example.org/", "贵州省政务服务", "TB1." + "x" * 500]
    for _ in range(n):
        token = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 420)))
        texts.append(VERIFY_URL + token if rng.random() < 0.8 else token or "-")
    return texts


@pytest.mark.parametrize("seed", range(4))
def test_the_matrix_is_segnos_to_the_module(seed: int) -> None:
    for text in _texts(80, seed):
        ours = [bytes(row) for row in qrmatrix.qr_matrix(text)]
        reference = segno.make(text, error="m", boost_error=False, micro=False)
        assert ours == [bytes(row) for row in reference.matrix], (text, reference.mask)


def test_every_mask_is_chosen_somewhere() -> None:
    """The comparison above means something only if it covers every mask segno picks."""
    masks = {segno.make(t, error="m", boost_error=False, micro=False).mask for t in _texts(200, 99)}
    assert masks == set(range(8))


@pytest.mark.parametrize("size", [21, 25, 45, 81])
def test_penalty_is_segnos_score(size: int) -> None:
    """The numpy score equals segno's evaluate_mask on random matrices, on uniform ones, and on
    stripes and checkerboards that make long runs, blocks and finder-like patterns."""
    rng = np.random.default_rng(size)
    i, j = np.indices((size, size))
    cases: list[Any] = [rng.integers(0, 2, (size, size)) for _ in range(25)]
    cases += [rng.random((size, size)) < p for p in (0.05, 0.3, 0.7, 0.95)]
    cases += [np.zeros((size, size)), np.ones((size, size)), (i + j) % 2, i % 2, (j // 3) % 2, (i // 7) % 2]
    cases += [np.resize(np.array([1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0]), (size, size))]
    for case in cases:
        m = np.asarray(case, dtype=np.uint8)
        rows = tuple(bytearray(r.tobytes()) for r in m)
        assert qrmatrix.penalty(m) == encoder.evaluate_mask(rows, size, size)


def test_a_result_pdf_carries_the_same_qr_as_before() -> None:
    """The drawn symbol is the one segno would have drawn: the stored documents of results issued
    before this module stay reproducible."""
    text = VERIFY_URL + "Q" * 300
    assert [bytes(r) for r in qrmatrix.qr_matrix(text)] == [bytes(r) for r in qrmatrix.reference_matrix(text)]
