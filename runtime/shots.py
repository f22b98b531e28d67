"""Online shots and the budgeted highlight choice: the live stand-ins for KTS and knapsack.

Plain numpy (no torch): the live runtime calls these per frame. Offline, the field cuts
shots with KTS over the whole video and picks them with a knapsack at 15% of its length;
live we can only look back, so:
- a shot ends when the frame feature moves more than `threshold` (cosine distance) from
  the running mean of the current shot, once the shot is at least `min_len` long, or
  when it reaches `max_len`;
- a finished shot becomes a highlight when its score clears the running quantile of
  recent shot scores that keeps about `budget` of the recent `horizon` of time.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).ravel()
    norm = np.linalg.norm(x)
    return x / norm if norm > 0 else x


class OnlineShotDetector:
    """Cuts a stream of frame features into shots, looking back only.

    `update(feature)` returns True when this frame starts a new shot (the previous
    shot ended with the frame before). Lengths are in frames (steps) of the stream.
    """

    def __init__(self, threshold: float = 0.3, min_len: int = 1, max_len: int = 8) -> None:
        if min_len < 1 or max_len < min_len:
            raise ValueError("need 1 <= min_len <= max_len")
        self.threshold = threshold
        self.min_len = min_len
        self.max_len = max_len
        self._mean: np.ndarray | None = None
        self._length = 0

    def update(self, feature: np.ndarray) -> bool:
        """Feed one frame feature; True when a boundary falls before this frame."""
        unit = _unit(feature)
        if self._mean is None:
            self._mean, self._length = unit, 1
            return False
        mean_unit = _unit(self._mean)
        distance = 1.0 - float(mean_unit @ unit)
        cut = (self._length >= self.min_len and distance > self.threshold) or self._length >= self.max_len
        if cut:
            self._mean, self._length = unit, 1
            return True
        self._length += 1
        self._mean = self._mean + (unit - self._mean) / self._length
        return False


def online_shots(features: np.ndarray, threshold: float = 0.3, min_len: int = 1, max_len: int = 8) -> np.ndarray:
    """Shots of a whole sequence as the online detector cuts it: [n_shots, 2] inclusive step ranges."""
    detector = OnlineShotDetector(threshold, min_len, max_len)
    starts = [i for i, f in enumerate(features) if detector.update(f) or i == 0]
    ends = [s - 1 for s in starts[1:]] + [len(features) - 1]
    return np.array(list(zip(starts, ends, strict=True)), dtype=np.int64).reshape(-1, 2)


@dataclass
class ShotDecision:
    """A finished shot and whether it made the budget."""

    start: int
    end: int  # inclusive
    score: float
    highlight: bool


class BudgetSelector:
    """Keeps about `budget` of recent time as highlights, deciding each shot once, when it ends.

    The one selection rule of the live runtime and of the streaming evaluation. A finished
    shot is a highlight when
    - the recent shots that scored higher cover less than `budget` of the last `horizon`
      frames (so the best shot is kept even when it alone is longer than the budget,
      which matters while the horizon fills up and for long shots of a fixed camera),
    - the highlights already kept there cover less than `budget` (so while the horizon
      fills up, a run of ever-better shots cannot all be kept), and
    - it beats the lower quartile of recent shot scores by `margin`: in a static scene
      every shot scores the same and none is kept.
    """

    def __init__(self, budget: float = 0.15, horizon: int = 9000, margin: float = 0.0) -> None:
        if not 0 < budget < 1:
            raise ValueError("budget must be in (0, 1)")
        self.budget = budget
        self.horizon = horizon
        self.margin = margin
        self._recent: deque[tuple[float, int, bool]] = deque()  # (score, length, kept) of recent shots
        self._recent_len = 0

    def decide(self, start: int, end: int, score: float) -> ShotDecision:
        """Record a finished shot (inclusive frame range) and say whether it is a highlight."""
        length = end - start + 1
        self._recent_len += length
        while self._recent and self._recent_len - self._recent[0][1] >= self.horizon:
            self._recent_len -= self._recent.popleft()[1]
        higher = sum(n for s, n, _ in self._recent if s > score)
        kept = sum(n for _, n, k in self._recent if k)
        allowance = self.budget * self._recent_len
        floor = float(np.quantile([s for s, _, _ in self._recent] + [score], 0.25)) + self.margin
        keep = higher < allowance and kept < allowance and score >= floor
        self._recent.append((float(score), length, keep))
        return ShotDecision(start, end, float(score), bool(keep))
