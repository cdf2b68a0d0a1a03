"""Information measures of a binary outcome over a discrete value, from (value, n, positives)
cells: what the schema analysis and the feature screening both weigh signal with."""

from __future__ import annotations

import math


def entropy(counts: list[int]) -> float:
    total = sum(counts)
    return -sum(c / total * math.log2(c / total) for c in counts if c) if total else 0.0


def mutual_information(cells: list[tuple[str, int, int]]) -> tuple[float, float]:
    """(I(outcome; value), H(outcome)) in bits, from (value, n, positives) cells."""
    n = sum(c[1] for c in cells)
    pos = sum(c[2] for c in cells)
    h = entropy([pos, n - pos])
    if n == 0:
        return 0.0, h
    conditional = sum(cn / n * entropy([cp, cn - cp]) for _, cn, cp in cells if cn)
    return max(0.0, h - conditional), h


def uncertainty(cells: list[tuple[str, int, int]]) -> float:
    """Theil's U of a binary outcome given a discrete value, from (value, n, positives) cells.

    The share of the outcome's entropy that knowing the value removes: 0 (independent) to 1
    (the value determines the outcome).
    """
    mi, h = mutual_information(cells)
    return mi / h if h else 0.0
