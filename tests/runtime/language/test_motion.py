"""Whether an object moves, from a changed-pixel mask inside its box."""

from __future__ import annotations

import numpy as np

from vgsum.runtime.language.motion import FrameChange, box_moving, box_share


def _frame(x: int) -> np.ndarray:
    frame = np.full((120, 256, 3), 90, np.uint8)
    frame[40:80, x : x + 30] = (240, 220, 60)  # a yellow block (a red one on this grey is as bright: luma only)
    frame[10:30, 200:230] = (40, 40, 200)  # a blue block that stays
    return frame


def test_a_moving_block_moves_and_a_still_one_does_not() -> None:
    change = FrameChange()
    assert change.update(_frame(20)) is None  # nothing to compare with yet
    mask = change.update(_frame(40))
    assert mask is not None
    assert box_moving(mask, (20 / 256, 40 / 120, 70 / 256, 80 / 120)) is True
    assert box_moving(mask, (200 / 256, 10 / 120, 230 / 256, 30 / 120)) is False


def test_a_brightness_step_is_not_motion() -> None:
    change = FrameChange()
    change.update(_frame(20))
    brighter = np.clip(_frame(20).astype(np.int16) + 25, 0, 255).astype(np.uint8)
    mask = change.update(brighter)
    assert mask is not None and not mask.any()


def test_without_a_mask_motion_is_unknown() -> None:
    assert box_moving(None, (0.1, 0.1, 0.2, 0.2)) is None
    assert box_share(np.ones((4, 4), bool), (0.5, 0.5, 0.5, 0.5)) is None
    assert box_share(np.eye(4, dtype=bool), (0.0, 0.0, 1.0, 1.0)) == 0.25
