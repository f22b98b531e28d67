"""Whether an object moves: the share of its box that changed since the last sampled frame.

"a car drives in" and "a parked car" differ only in motion. The foreground model
(`runtime.summary.foreground`) already knows, per pixel of its small grey image, what is
foreground and what changed since the last frame; `box_moving` reads such a mask inside
one box. The mask is plain numpy at any resolution, so the caller passes whichever it
has: the foreground model's changed-foreground mask live, or `FrameChange`'s below where
no foreground model runs (the query benchmark, tests).
"""

from __future__ import annotations

import numpy as np

MOVING_SHARE = 0.12  # this share of a box changed since the last frame: the object moves
CHANGE_LEVELS = 6.0  # grey levels (of 255) of change that count, the foreground model's `still_diff`
WIDTH = 128  # analysis width in pixels, as the foreground model's


def box_share(mask: np.ndarray, box: tuple[float, float, float, float]) -> float | None:
    """The share of a boolean mask [h, w] set inside a normalised x1,y1,x2,y2 box; None when the box holds no cell."""
    h, w = mask.shape
    x1, y1, x2, y2 = box
    left, right = int(np.floor(max(0.0, x1) * w)), int(np.ceil(min(1.0, x2) * w))
    top, bottom = int(np.floor(max(0.0, y1) * h)), int(np.ceil(min(1.0, y2) * h))
    if right <= left or bottom <= top:
        return None
    return float(mask[top:bottom, left:right].mean())


def box_moving(
    changed: np.ndarray | None, box: tuple[float, float, float, float], min_share: float = MOVING_SHARE
) -> bool | None:
    """True when at least `min_share` of the box changed since the last frame, None when unknown (no mask yet)."""
    if changed is None:
        return None
    share = box_share(changed, box)
    return None if share is None else share >= min_share


def grey(rgb: np.ndarray, width: int = WIDTH) -> np.ndarray:
    """BT.601 luma of an RGB frame, subsampled to about `width` pixels wide (nearest), float32."""
    step = max(1, rgb.shape[1] // width)
    small = rgb[::step, ::step].astype(np.float32)
    return small[..., 0] * 0.299 + small[..., 1] * 0.587 + small[..., 2] * 0.114


class FrameChange:
    """One stream's last small grey frame; `update(rgb)` gives the mask of what changed since it (None at first)."""

    def __init__(self, width: int = WIDTH, levels: float = CHANGE_LEVELS) -> None:
        self.width = width
        self.levels = levels
        self._last: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the last frame (a reconnect may bring another view)."""
        self._last = None

    def update(self, rgb: np.ndarray) -> np.ndarray | None:
        """The changed-pixel mask of this frame against the last one; None for the first frame or a new size."""
        now = grey(rgb, self.width)
        last, self._last = self._last, now
        if last is None or last.shape != now.shape:
            return None
        diff = np.abs(now - last)
        diff -= np.median(diff)  # a global brightness step (auto exposure) is not motion
        return diff > self.levels
