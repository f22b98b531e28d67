"""Online shots and the budgeted highlight choice: the live stand-ins for KTS and knapsack.

Plain numpy (no torch): the live runtime calls these per frame. Offline, the field cuts
shots with KTS over the whole video and picks them with a knapsack at 15% of its length;
live we can only look back, so:
- shots come from KTS run on the stream (runtime/summary/shot_kts.py, the default), or, here,
  from a cut the moment the frame feature moves more than `threshold` (cosine distance)
  from the running mean of the current shot, once the shot is at least `min_len` long,
  or when it reaches `max_len` (`shot_cut: threshold`);
- a finished shot is decided a fixed delay after it ends, by a knapsack over
  the shots seen by then, within what `budget` of the recent `horizon` of time allows.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np

from vgsum.runtime.summary.knapsack import knapsack


def unit_vector(x: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """x flattened to unit length (a zero vector stays zero): what every cosine here compares."""
    x = np.asarray(x, dtype=dtype).ravel()
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
        self._count = 0  # frames pushed

    def push(self, feature: np.ndarray) -> list[int]:
        """The cutter interface the summarizer uses (see runtime/summary/shot_kts.py): new shots' starts, by frame."""
        index = self._count
        self._count += 1
        return [index] if self.update(feature) else []

    def flush(self) -> list[int]:
        """Nothing waits here: every boundary was given when its frame came."""
        return []

    def update(self, feature: np.ndarray) -> bool:
        """Feed one frame feature; True when a boundary falls before this frame."""
        unit = unit_vector(feature)
        if self._mean is None:
            self._mean, self._length = unit, 1
            return False
        mean_unit = unit_vector(self._mean)
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


@dataclass
class _Seen:
    start: int
    end: int
    score: float
    kept: bool = False
    look: np.ndarray | None = None  # the shot's mean appearance (unit vector), when the caller has one

    @property
    def length(self) -> int:
        return self.end - self.start + 1


ShotValue = Literal["total", "mean"]


class LookaheadSelector:
    """Keeps about `budget` of recent time as highlights with a knapsack run over a look-ahead.

    The offline summary is a 0/1 knapsack over all shots of a video. Live, a shot is decided
    `delay` frames after it ends, by a knapsack over every shot still undecided then (it and
    up to `delay` frames of later shots), with the capacity the last `horizon` frames have
    left: `budget` of their length minus the highlights already kept there. Until the horizon
    holds a highlight, its best shot always fits, so a short clip still gets one.

    Deciding each shot the moment it ends (delay 0) cannot tell a good shot from the better
    one that follows. On TVSum with ground-truth scores and the live KTS shots, a 60-s
    look-ahead reaches F 0.505 against 0.31 at once (BENCHMARKS.md, "Live selection").

    `value` is what a shot is worth to the knapsack:
    - "total": its summed score, which favours fewer, longer highlights (the live default);
    - "mean": its mean score, the field's benchmark knapsack, which favours short shots (TVSum's
      user summaries were made with it: 18 F points more there; BENCHMARKS.md, "Streaming
      evaluation" and "Live pipeline").
    A shot is only a candidate when its score beats the lower quartile of recent shot scores
    by `margin`, so where every shot scores the same none is kept; and, when shots come with
    their appearance, when it looks different from the typical shot of the horizon (the
    element-wise median of the shots seen, look-ahead included) by more than `min_change`
    cosine distance. Scores alone cannot tell a still scene: the detector flickers on a still
    frame and moves them, and over minutes such a scene filled the budget with highlights. Its
    appearance stays within 0.005 of typical; where something moves, footage reaches 0.01 to 0.3
    (BENCHMARKS.md, "Live pipeline").
    """

    def __init__(self, budget: float = 0.15, horizon: int = 9000, delay: int = 120, margin: float = 0.0,
                 value: ShotValue = "total", min_change: float = 0.0) -> None:
        if not 0 < budget < 1:
            raise ValueError("budget must be in (0, 1)")
        if value not in ("total", "mean"):
            raise ValueError(f"value must be 'total' or 'mean', not {value!r}")
        if horizon < 1 or delay < 0:
            raise ValueError("need horizon >= 1 and delay >= 0")
        self.budget = budget
        self.horizon = horizon
        self.delay = delay
        self.margin = margin
        self.value = value
        self.min_change = min_change
        self._decided: deque[_Seen] = deque()  # within the horizon
        self._pending: deque[_Seen] = deque()  # oldest first

    def add(self, start: int, end: int, score: float, look: np.ndarray | None = None) -> list[ShotDecision]:
        """Record a finished shot (inclusive frame range, its mean appearance if known); returns the decisions
        now due, oldest first."""
        look = None if look is None else unit_vector(look, np.float32)
        self._pending.append(_Seen(int(start), int(end), float(score), look=look))
        return self._decide_due(now=int(end))

    def flush(self) -> list[ShotDecision]:
        """End of stream: decide every pending shot with what has been seen."""
        if not self._pending:
            return []
        return self._decide_due(now=self._pending[-1].end + self.delay)

    def _decide_due(self, now: int) -> list[ShotDecision]:
        decisions = []
        while self._pending and now - self._pending[0].end >= self.delay:
            decisions.append(self._decide_oldest())
        return decisions

    def _decide_oldest(self) -> ShotDecision:
        latest = self._pending[-1].end
        while self._decided and latest - self._decided[0].end >= self.horizon:
            self._decided.popleft()
        seen = [*self._decided, *self._pending]
        span = sum(s.length for s in seen)
        capacity = int(self.budget * span) - sum(s.length for s in self._decided if s.kept)
        floor = float(np.quantile([s.score for s in seen], 0.25)) + self.margin
        typical = self._typical(seen)
        candidates = [s for s in self._pending if s.score >= floor and self._changed(s, typical)]
        shot = self._pending.popleft()
        if candidates and candidates[0] is shot:
            if not any(s.kept for s in self._decided):  # the horizon may always hold its best shot
                capacity = max(capacity, max(candidates, key=lambda s: s.score).length)
            values = np.array([s.score * s.length if self.value == "total" else s.score for s in candidates])
            weights = np.array([s.length for s in candidates])
            shot.kept = capacity > 0 and 0 in knapsack(values, weights, capacity)
        self._decided.append(shot)
        return ShotDecision(shot.start, shot.end, shot.score, shot.kept)

    def _typical(self, seen: list[_Seen]) -> np.ndarray | None:
        """The element-wise median appearance of the shots seen (unit length), when the gate is on."""
        looks = [s.look for s in seen if s.look is not None]
        if self.min_change <= 0 or len(looks) < 3:  # too few shots to say what is typical: no gate
            return None
        return unit_vector(np.median(np.stack(looks), axis=0), np.float32)

    def _changed(self, shot: _Seen, typical: np.ndarray | None) -> bool:
        """Whether the shot looks different enough from the typical shot to be a highlight."""
        return typical is None or shot.look is None or 1.0 - float(shot.look @ typical) > self.min_change


def shot_signature(frame_feature: np.ndarray, classes: np.ndarray, n_classes: int = 80) -> np.ndarray:
    """What the online shot cut compares: the unit frame feature beside which object classes are present.

    On a fixed camera the frame feature barely moves when a person walks in (cosine
    distance ~0.05); the presence half makes that a cut, while a detection flickering
    among several present objects moves the signature little.
    """
    presence = np.zeros(n_classes)
    presence[np.asarray(classes, np.int64)[(classes >= 0) & (classes < n_classes)]] = 1.0
    return np.concatenate([unit_vector(frame_feature), presence])
