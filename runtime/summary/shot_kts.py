"""Kernel temporal segmentation run on a stream: the field's KTS shots, committed a fixed delay late.

Plain numpy (no torch). Offline, the field cuts a video into shots by KTS (Potapov et al.,
ECCV 2014): the change points that minimise the within-shot scatter of the L2-normalised
features (a linear kernel), with the count fixed by the video's length (TVSum's shots: one
per 4 s). TVSum's user summaries are knapsacks over exactly those shots, so how close live
shots come to them decides most of the live F-score (BENCHMARKS.md, "Streaming evaluation").

Live, `KernelShotCutter` solves the penalised form of the same problem (optimal
partitioning: scatter plus `penalty` per shot, shots `min_len`..`max_len` frames) over the
frames not yet committed, and commits a boundary once it lies `delay` frames in the past;
committed shots never change. A fixed count is not possible on an endless stream, so the
penalty is re-fit every `refit` frames so that the last `horizon` frames would hold one shot
per `mean_len` frames: the field's count, held as a rate.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from vgsum.runtime.summary.shots import unit_vector

PENALTY_GRID = np.geomspace(1e-3, 8.0, 48)  # per-shot penalties tried by a re-fit (scatter per frame is <= 2)


class KernelShotCutter:
    """`push(feature)` per frame returns the starts of newly committed shots (the cutter's own frame count)."""

    def __init__(self, mean_len: float, max_len: int, delay: int, horizon: int, min_len: int = 1,
                 refit: int | None = None) -> None:
        if not (1 <= min_len <= mean_len <= max_len and delay >= 0 and horizon >= 1 and (refit or 1) >= 1):
            raise ValueError("need 1 <= min_len <= mean_len <= max_len, delay >= 0, horizon >= 1, refit >= 1")
        self.mean_len = float(mean_len)
        self.min_len, self.max_len = int(min_len), int(max_len)
        self.delay, self.horizon = int(delay), int(horizon)
        self.refit = int(refit) if refit else max(1, round(2 * mean_len))  # every 8 s at the field's 4-s shots
        self.penalty = float(np.median(PENALTY_GRID))
        self._fitted = False  # no boundary is committed before the first re-fit (flush aside)
        self._count = 0  # frames pushed
        self._committed = 0  # start of the shot still open: everything before it is final
        self._recent: deque[np.ndarray] = deque(maxlen=self.max_len)  # the last unit features, newest last
        # cost[j - self._cost_base][l - 1]: scatter of the segment of length l ending before frame j
        self._cost: deque[np.ndarray] = deque()
        self._cost_base = 1

    def push(self, feature: np.ndarray) -> list[int]:
        """Take one frame's feature; the shot starts that became final with it, in order."""
        self._recent.append(unit_vector(feature))
        self._count += 1
        self._cost.append(self._segment_costs())
        keep = max(self.horizon, self._count - self._committed)
        while len(self._cost) > keep:
            self._cost.popleft()
            self._cost_base += 1
        if self._count % self.refit == 0 or not self._fitted:
            self._refit()
        return self._commit(self._count - self.delay) if self._fitted else []

    def flush(self) -> list[int]:
        """End of stream (or of an epoch): commit every boundary of the best cut of what is open."""
        return self._commit(self._count)

    def _segment_costs(self) -> np.ndarray:
        """Scatter of each segment ending with the newest frame, by length 1..max_len (inf where too long)."""
        newest_first = np.array(self._recent)[::-1]
        sums = np.cumsum(newest_first, axis=0)  # [l-1]: sum of the last l features
        squares = np.cumsum(np.einsum("ld,ld->l", newest_first, newest_first))
        lengths = np.arange(1, len(newest_first) + 1)
        costs = np.full(self.max_len, np.inf)
        costs[: len(lengths)] = squares - np.einsum("ld,ld->l", sums, sums) / lengths
        return costs

    def _partition(self, start: int, end: int, penalties: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Optimal partitioning of frames [start, end) for each penalty: (costs, back pointers, shot counts).

        A cost is inf where no cut into min_len..max_len shots exists (e.g. 6 frames into shots of 4-5).
        """
        n, grid = end - start, len(penalties)
        best = np.full((n + 1, grid), np.inf)
        best[0] = 0.0
        back = np.zeros((n + 1, grid), dtype=np.int64)
        count = np.zeros((n + 1, grid), dtype=np.int64)
        lengths = np.arange(1, self.max_len + 1)
        allowed = lengths >= self.min_len
        for j in range(1, n + 1):
            usable = allowed & (lengths <= j)
            if not usable.any():
                continue
            ls = lengths[usable]
            seg = self._cost[start + j - self._cost_base][ls - 1]  # [L]
            total = best[j - ls] + seg[:, None] + penalties[None, :]  # [L, G]
            pick = np.argmin(total, axis=0)
            best[j] = total[pick, np.arange(grid)]
            back[j] = j - ls[pick]
            count[j] = count[j - ls[pick], np.arange(grid)] + 1
        return best, back, count

    def _refit(self) -> None:
        """The penalty whose best cut of the last `horizon` frames comes closest to one shot per `mean_len`."""
        start = max(self._count - self.horizon, self._cost_base - 1, 0)
        if self._count - start < 4 * self.mean_len:
            return
        target = (self._count - start) / self.mean_len
        grid = PENALTY_GRID
        for _ in range(2):  # a coarse pass, then a fine one between the coarse neighbours of the best
            costs, _, count = self._partition(start, self._count, grid)
            miss = np.where(np.isfinite(costs[-1]), np.abs(count[-1] - target), np.inf)
            if not np.isfinite(miss).any():
                return
            pick = int(np.argmin(miss))
            self.penalty, self._fitted = float(grid[pick]), True
            grid = np.geomspace(grid[max(pick - 1, 0)], grid[min(pick + 1, len(grid) - 1)], 16)

    def _commit(self, up_to: int) -> list[int]:
        """Commit the boundaries of the open frames' best cut that lie at or before `up_to`."""
        start, end = self._committed, self._count
        if up_to <= start or end - start < self.min_len:
            return []
        best, back, _ = self._partition(start, end, np.array([self.penalty]))
        if not np.isfinite(best[-1, 0]):
            return []  # no valid cut of exactly these frames: the next frame will have one
        points, j = [], end - start
        while j > 0:
            j = int(back[j, 0])
            if j > 0:
                points.append(start + j)
        new = sorted(p for p in points if p <= up_to)
        if new:
            self._committed = new[-1]
        return new
