"""The QR symbol of a result document: exactly the matrix ``segno.make`` builds, in a quarter of its time.

Why: segno chooses the data mask by applying all eight masks and scoring each in pure Python
(ISO/IEC 18004 7.8.3). For the ~80×80 symbol of a verification URL that was 18 of the 23 ms the QR
took, and the QR was two thirds of a result's render (bench/bench_results.py): every issued result
pays it once, in the Celery worker that renders it.

How, without changing a single module: segno encodes the text once with mask 0 (its data placement,
format and version information, untouched); the unmasked data modules are that symbol XOR mask 0
on the encoding region (the modules that are not function patterns, as segno itself tells them
apart); each of the eight candidate masks is scored with numpy by segno's own rules — N1 runs, N2
blocks, N3 finder-like patterns (segno's exact scan, kept as it is, quirks included), N4 dark
proportion — and the lowest score wins, the first on a tie, as in segno; the winner's modules and
format information are written back. Result documents must re-render byte for byte (a lost file is
rebuilt from its signed token and checked against the SHA-256 in the ledger:
licences.actions.document_bytes), so the symbol must be segno's to the module:
tests/licences/test_qrmatrix.py compares the two on hundreds of texts and on segno's own scores.

Uses four functions of ``segno.encoder`` (the matrix skeleton and the format information); a segno
that lacks them makes ``qr_matrix`` fall back to ``segno.make``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import segno

_SKELETON: tuple[Callable[..., Any], ...] | None
try:  # segno's building blocks of the symbol's skeleton (not its public API: checked by the tests)
    from segno import consts as _consts
    from segno import encoder as _enc

    _ERROR_M = _consts.ERROR_LEVEL_M
    _SKELETON = (_enc.make_matrix, _enc.add_finder_patterns, _enc.add_alignment_patterns, _enc.add_format_info)
except (ImportError, AttributeError):  # pragma: no cover - a segno without them
    _SKELETON = None

N3_PATTERN = bytes((1, 0, 1, 1, 1, 0, 1))


def reference_matrix(text: str) -> tuple[bytearray, ...]:
    """What ``segno.make`` builds for ``text`` (error level M, no boost, no Micro QR)."""
    return segno.make(text, error="m", boost_error=False, micro=False).matrix  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=64)
def _skeleton(width: int) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """For a symbol ``width`` modules wide: (the modules segno scores outside the encoding region —
    timing, finder and alignment patterns, format and version areas reserved as light —, the
    encoding region, the eight data masks restricted to it)."""
    assert _SKELETON is not None
    make_matrix, add_finder_patterns, add_alignment_patterns, _fmt = _SKELETON
    function = make_matrix(width, width)
    add_finder_patterns(function, width, width)
    add_alignment_patterns(function, width, width)
    base = np.array([list(row) for row in function], dtype=np.uint8)
    region = base > 1  # segno's is_encoding_region: a module still at its "unset" value 0x2 is data
    i, j = np.indices((width, width))
    patterns = (
        (i + j) % 2 == 0,
        i % 2 == 0,
        j % 3 == 0,
        (i + j) % 3 == 0,
        (i // 2 + j // 3) % 2 == 0,
        (i * j) % 2 + (i * j) % 3 == 0,
        ((i * j) % 2 + (i * j) % 3) % 2 == 0,
        ((i + j) % 2 + (i * j) % 3) % 2 == 0,
    )
    return base, region, tuple((p & region).astype(np.uint8) for p in patterns)


def _n1(a: np.ndarray) -> int:
    """Runs of five or more equal modules along each row of ``a``: 3 + (length - 5) each."""
    n = a.shape[1]
    padded = np.full((a.shape[0], n + 1), 255, dtype=np.int16)  # a separator ends every row's run
    padded[:, :n] = a
    flat = padded.ravel()
    starts = np.flatnonzero(np.concatenate(([True], flat[1:] != flat[:-1])))
    lengths = np.diff(np.append(starts, flat.size))
    long_runs = lengths[(lengths >= 5) & (flat[starts] != 255)]
    return int((long_runs - 2).sum())


def _n3(seq: bytes, size: int) -> int:
    """segno's N3 scan of one row or column, as segno writes it (encoder.mask_scores)."""
    count = 0
    idx = seq.find(N3_PATTERN)
    while idx != -1:
        offset = idx + 7
        if (
            idx in (0, size - 7)
            or not any(seq[max(idx - 4, 0) : min(idx, size)])
            or not any(seq[max(offset, 0) : min(offset + 4, size)])
        ):
            count += 40
        else:
            offset = idx + 4
        idx = seq.find(N3_PATTERN, offset)
    return count


def penalty(m: np.ndarray) -> int:
    """The penalty score segno's ``encoder.evaluate_mask`` gives the square matrix ``m``."""
    size = m.shape[0]
    n1 = _n1(m) + _n1(m.T)
    top, bottom = m[:-1], m[1:]
    same = (top[:, 1:] == top[:, :-1]) & (bottom[:, 1:] == top[:, 1:]) & (bottom[:, :-1] == top[:, 1:])
    n2 = 3 * int(np.count_nonzero(same))
    rows, cols = m.tobytes(), np.ascontiguousarray(m.T).tobytes()
    n3 = 0
    for k in range(size):
        n3 += _n3(rows[k * size : (k + 1) * size], size) + _n3(cols[k * size : (k + 1) * size], size)
    percent = float(int(m.sum(dtype=np.int64))) / (size**2)
    n4 = 10 * int(abs(percent * 100 - 50) / 5)
    return n1 + n2 + n3 + n4


def qr_matrix(text: str) -> Sequence[bytearray]:
    """The module matrix of ``text``'s QR code (error level M, no boost, no Micro QR): rows of
    0 (light) and 1 (dark), the same as ``segno.make(...).matrix``."""
    if _SKELETON is None:  # pragma: no cover
        return reference_matrix(text)
    masked0 = segno.make(text, error="m", boost_error=False, micro=False, mask=0)
    final = np.array([list(row) for row in masked0.matrix], dtype=np.uint8)
    base, region, masks = _skeleton(final.shape[0])
    data = final ^ masks[0]  # on the encoding region: the data before masking
    best, best_score = 0, -1
    for number, mask in enumerate(masks):
        # What segno scores: the masked data in the skeleton, before format and version information.
        score = penalty(np.where(region, data ^ mask, base))
        if best_score < 0 or score < best_score:  # the first of equal scores wins, as in segno
            best, best_score = number, score
    rows = _as_rows(np.where(region, data ^ masks[best], final))
    _SKELETON[3](rows, masked0.version, _ERROR_M, best)  # the format information names the mask
    return rows


def _as_rows(a: np.ndarray) -> tuple[bytearray, ...]:
    return tuple(bytearray(row.tobytes()) for row in a)
