"""Frames of the room clip as the live reader samples them, shared by the live path's tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def room_frames(shared_data: Path) -> list[tuple[float, np.ndarray]]:
    """The room clip's first 30 s as the live reader samples it (empty room, then the first visit from 6 s)."""
    from vgsum.models.eval.baselines import sampled_frames

    frames = []
    for t, rgb in sampled_frames(shared_data / "videos" / "room-people-one-by-one.mp4"):
        if t >= 30.0:
            break
        frames.append((t, rgb))
    return frames
