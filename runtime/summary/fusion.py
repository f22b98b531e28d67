"""Windowed score fusion: many overlapping windows score a frame; fuse them into one score.

Plain numpy (no torch), used by the live runtime and by the streaming evaluation.
Each window of W steps starts every S steps, so a step is scored by about W/S windows.
Its fused score is the weighted mean of those scores, with weights highest near a
window's centre (where the model saw context on both sides). A score is
*provisional* while more windows may still cover its step, and *final* once the
caller says no later window can (the step left the buffer); final scores never change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def centre_weights(length: int, floor: float = 0.1) -> np.ndarray:
    """Triangular weights over a window: 1 at the centre, `floor` at both edges."""
    if length <= 0:
        return np.zeros(0)
    if length == 1:
        return np.ones(1)
    pos = np.arange(length) / (length - 1)  # 0..1
    return floor + (1.0 - floor) * (1.0 - np.abs(2.0 * pos - 1.0))


@dataclass
class FusedScore:
    """One step's fused score; `final` once no later window can change it."""

    index: int
    score: float
    final: bool


class ScoreFusion:
    """Accumulates window scores per step and hands out final scores in order.

    Usage, live: `add_window(start, scores)` every S steps, then `pop_final(up_to)`
    for steps that left the buffer, and `provisional()` for a look at the rest.
    """

    def __init__(self, edge_weight: float = 0.1) -> None:
        self.edge_weight = edge_weight
        self._sum: dict[int, float] = {}
        self._weight: dict[int, float] = {}
        self._next_final = 0  # first step index not yet made final

    def add_window(self, start_index: int, scores: np.ndarray) -> None:
        """Fold one window's scores (steps start_index .. start_index+len-1) into the running sums."""
        scores = np.asarray(scores, dtype=np.float64).ravel()
        weights = centre_weights(len(scores), self.edge_weight)
        for offset, (s, w) in enumerate(zip(scores, weights, strict=True)):
            index = start_index + offset
            if index < self._next_final:
                continue  # final scores never change
            self._sum[index] = self._sum.get(index, 0.0) + w * s
            self._weight[index] = self._weight.get(index, 0.0) + w

    def score(self, index: int) -> float | None:
        """The current fused score of a step, or None when no window covered it yet."""
        weight = self._weight.get(index)
        return None if not weight else self._sum[index] / weight

    def provisional(self) -> list[FusedScore]:
        """Scores of the steps seen but not yet final, in order."""
        return [FusedScore(i, self._sum[i] / self._weight[i], False) for i in sorted(self._weight)]

    def pop_final(self, up_to: int | None = None) -> list[FusedScore]:
        """Finalise and return the steps with index < up_to (all seen steps when None), in order."""
        if up_to is None:
            up_to = max(self._weight, default=-1) + 1
        out = []
        for index in sorted(i for i in self._weight if i < up_to):
            out.append(FusedScore(index, self._sum.pop(index) / self._weight.pop(index), True))
        self._next_final = max(self._next_final, up_to)
        return out


def fuse_offline(n_steps: int, window: int, stride: int, score_window, edge_weight: float = 0.1) -> np.ndarray:
    """Run the live windowing over a whole sequence: `score_window(start, end) -> scores[end-start]`.

    The windows end every `stride` steps (as they would be emitted live), each covering the
    latest `window` steps; returns the fused score per step.
    """
    fusion = ScoreFusion(edge_weight)
    final = []
    ends = list(range(stride, n_steps + 1, stride))
    if not ends or ends[-1] != n_steps:
        ends.append(n_steps)
    for end in ends:
        start = max(0, end - window)
        fusion.add_window(start, score_window(start, end))
        final.extend(fusion.pop_final(start))  # steps before this window's start have left the buffer
    final.extend(fusion.pop_final())
    out = np.zeros(n_steps)
    for item in final:
        out[item.index] = item.score
    return out
