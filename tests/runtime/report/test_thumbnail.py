"""Thumbnails: small enough to keep one per scored frame, and still the same picture."""

from __future__ import annotations

import numpy as np

from vgsum.runtime.report.thumbnail import thumbnail


def test_a_large_frame_shrinks_below_the_width_keeping_its_aspect() -> None:
    frame = np.zeros((1080, 1920, 3), dtype=np.uint8)
    small = thumbnail(frame)
    assert small.shape[1] <= 320 and small.shape[2] == 3
    assert abs(small.shape[1] / small.shape[0] - 1920 / 1080) < 0.05
    assert small.flags["C_CONTIGUOUS"]


def test_the_picture_survives_and_a_small_frame_is_kept_whole() -> None:
    frame = np.zeros((272, 640, 3), dtype=np.uint8)
    frame[:, 320:] = (255, 0, 255)  # right half magenta
    small = thumbnail(frame, max_width=192)
    assert small.shape[1] <= 192
    assert (small[:, : small.shape[1] // 2 - 1] == 0).all()
    assert (small[:, small.shape[1] // 2 + 1 :] == (255, 0, 255)).all()
    tiny = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    assert np.array_equal(thumbnail(tiny, max_width=192), tiny)
