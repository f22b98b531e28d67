"""Exact 0/1 knapsack over shots: the field's way of turning shot scores into a summary.

Plain numpy (no torch) because the live runtime calls it too. The protocol uses a
capacity of 15% of the video's frames (Gygli et al. 2014; Zhang et al. 2016).
"""

from __future__ import annotations

import numpy as np


def knapsack(values: np.ndarray, weights: np.ndarray, capacity: int) -> np.ndarray:
    """Indices of the items that maximise total value with total weight <= capacity.

    Exact dynamic programming over integer weights, O(n * capacity) time, with the
    keep table as booleans so a 10k-frame video with 100 shots stays small.
    Returns the chosen indices in ascending order.
    """
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.int64)
    if values.shape != weights.shape or values.ndim != 1:
        raise ValueError("values and weights must be 1-d arrays of the same length")
    if np.any(weights < 0):
        raise ValueError("weights must be non-negative")
    capacity = int(capacity)
    n = len(values)
    if n == 0 or capacity < 0:
        return np.zeros(0, dtype=np.int64)
    best = np.zeros(capacity + 1, dtype=np.float64)  # best[c]: best value with weight <= c so far
    keep = np.zeros((n, capacity + 1), dtype=bool)
    for i in range(n):
        w, v = int(weights[i]), values[i]
        if w > capacity:
            continue
        candidate = best[: capacity + 1 - w] + v  # take item i on top of the best at c - w
        better = candidate > best[w:]
        keep[i, w:] = better
        best[w:] = np.where(better, candidate, best[w:])
    chosen = []
    c = capacity
    for i in range(n - 1, -1, -1):
        if keep[i, c]:
            chosen.append(i)
            c -= int(weights[i])
    return np.array(sorted(chosen), dtype=np.int64)


def budget_frames(n_frames: int, proportion: float = 0.15) -> int:
    """The knapsack capacity in frames for a summary of `proportion` of the video."""
    return int(np.floor(n_frames * proportion))
