"""Novelty: how much a part shows that a more valuable part of the same camera does not already show.

It uses the perception features the model's diversity term compares (cosine
similarity of appearance features, models/losses.py), taken at three frames of
each highlight (a quarter, half and three quarters in): per frame the
score-weighted mean of its objects' appearance features (the head-map channels,
runtime/language/kinds.py) with a little of the whole frame's, averaged over the
frames. The same car parked and unparked, or the same cat crossing the same lawn,
look alike; a different visitor does not. One frame is one pose: on the recorded
camera-day (BENCHMARKS.md, recap) the two plays of one event came out at least 0.92
alike from one middle frame and at least 0.94 from three, different events of one
camera at most 0.89 and 0.90. Parts are ranked by score
times query match; each one's novelty is one minus its closest likeness to a part
ranked above it on the same camera, mapped through a ramp between `distinct`
(nothing alike: novelty 1) and `same` (the same thing again: novelty 0).
Cameras see different places, so parts of different cameras never count as alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

OBJECT_SHARE = 0.8  # of a signature: what the objects look like; the rest is the whole frame's look


@dataclass(frozen=True)
class NoveltyRamp:
    """Cosine likeness at or below `distinct` keeps full novelty; at or above `same`, none."""

    distinct: float = 0.90
    same: float = 0.95

    def __call__(self, likeness: np.ndarray) -> np.ndarray:
        return 1.0 - np.clip((likeness - self.distinct) / (self.same - self.distinct), 0.0, 1.0)


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def signature(seen: Any) -> np.ndarray:
    """One frame's look (a `FramePerception`): unit vector of its objects' and its frame's features."""
    frame = _unit(np.asarray(seen.frame_feature, dtype=np.float64))
    if seen.count == 0:
        return frame
    weights = np.asarray(seen.scores, dtype=np.float64)
    # an object feature ends with the appearance network's head map (RoiAlign), the frame feature's space
    heads = np.asarray(seen.object_features, dtype=np.float64)[:, -len(frame):]
    objects = _unit((heads * weights[:, None]).sum(0))
    return _unit(OBJECT_SHARE * objects + (1.0 - OBJECT_SHARE) * frame)


def looks_like(signatures: list[np.ndarray]) -> np.ndarray:
    """A highlight's look from several frames: the unit mean of their signatures (steadier than one pose)."""
    return _unit(np.mean(np.stack(signatures), axis=0))


def novelty(
    strength: np.ndarray, signatures: np.ndarray | None, groups: Sequence[str], ramp: NoveltyRamp | None = None
) -> np.ndarray:
    """Each part's novelty given the parts ranked above it by `strength` within its group (camera).

    `signatures` [n, D] unit rows (None, or a zero row, for a part with no look: it counts as novel).
    """
    n = len(strength)
    out = np.ones(n)
    if signatures is None or n < 2:
        return out
    ramp = ramp or NoveltyRamp()
    order = np.argsort(-np.asarray(strength), kind="stable")
    likeness = signatures @ signatures.T
    groups = list(groups)
    for rank, i in enumerate(order):
        above = [j for j in order[:rank] if groups[j] == groups[i]]
        if above and np.any(signatures[i]):
            out[i] = float(ramp(np.max(likeness[i, above])))
    return out
