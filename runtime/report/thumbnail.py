"""The small picture of a frame that a highlight carries to the report.

Its own module because the pipeline makes one per scored frame (a highlight is
decided long after its frames went by), while the rest of the report is drawn once
at the end: the pipeline needs this, not matplotlib's drawing code.
"""

from __future__ import annotations

import math

import numpy as np


def thumbnail(frame: np.ndarray, max_width: int = 320) -> np.ndarray:
    """A small RGB copy of a frame (nearest-neighbour, numpy only, so the edge needs no Pillow)."""
    width = frame.shape[1]
    step = max(1, math.ceil(width / max_width))
    return np.ascontiguousarray(frame[::step, ::step])
