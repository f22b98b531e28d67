"""The composite camera (a busy road pasted beside the room's visits): its truth, its camera settings, its rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vgsum.models.data.composite_streams import COMPOSITES, _ping_pong, composite_truth
from vgsum.models.data.events import load_ground_truth
from vgsum.models.eval.events import REGION_ROWS, Clip, _camera
from vgsum.runtime.live.config import CameraConfig


def test_the_pasted_clip_plays_forward_and_back_and_never_jumps() -> None:
    order = _ping_pong(50, 7)
    assert order[:14].tolist() == [0, 1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1, 0, 1]
    assert np.abs(np.diff(order)).max() == 1 and order.min() == 0 and order.max() == 6


def test_the_truth_is_the_rooms_with_the_settings_an_owner_would_draw(shared_data: Path) -> None:
    spec = COMPOSITES["composite-road-room"]
    assert spec.base == "sparse-long-room"
    room = load_ground_truth()["room-people-one-by-one.mp4"]  # the long room stream's truth has this form
    truth = composite_truth(spec, room)
    assert truth.events == room.events and truth.quiet == room.quiet and truth.kind == "nuisance"
    assert not truth.problems()
    camera = CameraConfig(stream_id="c", url="c.mp4", **truth.camera)  # valid polygons, a named zone
    assert camera.motion_masks[0][1] == (spec.strip, 0.0) and camera.zones[0].name == "room"
    clip = Clip("composite-road-room", Path("c.mp4"), truth, "built")
    masked, zoned = _camera(clip, "vgsum-masked"), _camera(clip, "vgsum-zoned")
    assert set(REGION_ROWS) == {"vgsum-masked", "vgsum-zoned"}
    assert masked.motion_masks and not masked.zones
    assert zoned.require_zones == ["room"] and not zoned.motion_masks
    assert _camera(clip, "vgsum") is None
    assert _camera(Clip("room", Path("r.mp4"), room, "sparse"), "vgsum-masked") is None  # no settings: plain
