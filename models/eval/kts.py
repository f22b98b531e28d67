"""Kernel temporal segmentation (Potapov et al., "Category-specific video summarization", ECCV 2014).

Our own implementation: given a kernel (Gram) matrix K of the frame features, find the
change points minimising the within-segment kernel scatter by dynamic programming, with
either a fixed number of segments or the penalised choice of Potapov et al.:
    cost(m) = scatter(m) / n + vmax * m / (2 n) * (log(n / m) + 1).
"""

from __future__ import annotations

import numpy as np


def linear_kernel(features: np.ndarray, normalise: bool = True) -> np.ndarray:
    """K = X X^T on (optionally L2-normalised) features: the kernel the field uses with KTS."""
    x = np.asarray(features, dtype=np.float64)
    if normalise:
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return x @ x.T


def segment_scatter(kernel: np.ndarray) -> np.ndarray:
    """scatter[i, j] for the segment [i, j) (j > i): sum of K_tt - (sum of the block) / (j - i)."""
    n = kernel.shape[0]
    diag = np.concatenate([[0.0], np.cumsum(np.diag(kernel))])
    block = np.zeros((n + 1, n + 1))  # 2-d prefix sums of K
    block[1:, 1:] = kernel.cumsum(0).cumsum(1)
    i = np.arange(n + 1)[:, None]
    j = np.arange(n + 1)[None, :]
    length = np.maximum(j - i, 1)
    inner = block[j, j] - block[i, j] - block[j, i] + block[i, i]
    scatter = (diag[j] - diag[i]) - inner / length
    scatter[j <= i] = np.inf
    return scatter


def kts_fixed(kernel: np.ndarray, n_change_points: int) -> tuple[np.ndarray, float]:
    """Optimal change points for a fixed count: (positions where a new segment starts, total scatter)."""
    costs, back = _dp(segment_scatter(kernel), n_change_points)
    return _backtrack(back, n_change_points, kernel.shape[0]), float(costs[n_change_points, kernel.shape[0]])


def _dp(scatter: np.ndarray, max_cp: int) -> tuple[np.ndarray, np.ndarray]:
    """cost[m, j]: least scatter of frames [0, j) cut into m+1 segments; back[m, j]: last segment's start."""
    n = scatter.shape[0] - 1
    cost = np.full((max_cp + 1, n + 1), np.inf)
    back = np.zeros((max_cp + 1, n + 1), dtype=np.int64)
    cost[0, 1:] = scatter[0, 1:]
    for m in range(1, max_cp + 1):
        # cost[m, j] = min_i cost[m-1, i] + scatter[i, j], over i in [m, j)
        total = cost[m - 1][:, None] + scatter  # [i, j]
        back[m] = np.argmin(total, axis=0)
        cost[m] = total[back[m], np.arange(n + 1)]
    return cost, back


def _backtrack(back: np.ndarray, m: int, n: int) -> np.ndarray:
    points, j = [], n
    for level in range(m, 0, -1):
        j = int(back[level, j])
        points.append(j)
    return np.array(sorted(points), dtype=np.int64)


def kts_auto(kernel: np.ndarray, max_change_points: int, vmax: float = 1.0) -> np.ndarray:
    """Change points with the count chosen by Potapov's penalty (vmax scales the penalty)."""
    n = kernel.shape[0]
    max_change_points = min(max_change_points, n - 1)
    cost, back = _dp(segment_scatter(kernel), max_change_points)
    m = np.arange(max_change_points + 1)
    penalty = np.zeros(len(m))
    penalty[1:] = vmax * m[1:] / (2.0 * n) * (np.log(n / m[1:]) + 1.0)
    best = int(np.argmin(cost[:, n] / n + penalty))
    return _backtrack(back, best, n)


def change_points_to_shots(points: np.ndarray, n: int) -> np.ndarray:
    """Segment starts -> inclusive [start, end] ranges covering 0..n-1."""
    starts = np.concatenate([[0], np.asarray(points, dtype=np.int64)])
    ends = np.concatenate([starts[1:] - 1, [n - 1]])
    return np.stack([starts, ends], axis=1)


def kts_shots(features: np.ndarray, n_segments: int | None = None, max_segments: int | None = None,
              vmax: float = 1.0) -> np.ndarray:
    """KTS on a video's step features: inclusive step ranges, a fixed count or Potapov's penalised choice."""
    kernel = linear_kernel(features)
    n = kernel.shape[0]
    if n_segments is not None:
        points, _ = kts_fixed(kernel, max(0, min(n_segments, n) - 1))
    else:
        points = kts_auto(kernel, (max_segments or n) - 1, vmax)
    return change_points_to_shots(points, n)
