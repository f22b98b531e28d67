"""A camera tuned on its own, on real engines and the room clip: motion masks, zones, a required zone and an
object filter, and the one-line errors of a bad polygon, label or zone.

In the room clip's first visit a person stands at the table (box about x 0.50-0.68, feet at y 0.91) while
the detector flickers on a "tv" and a "laptop" in the top-left corner (confidence under 0.4).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vgsum.runtime.common.configfile import parse_config
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.runtime.engines.config import EngineConfig
from vgsum.runtime.engines.loader import Engines
from vgsum.runtime.engines.perception import FramePerception
from vgsum.runtime.live.config import CameraConfig, ObjectFilter
from vgsum.runtime.live.objects import kept_objects
from vgsum.runtime.live.sinks import StreamSinks
from vgsum.runtime.live.stream import LiveStream
from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.foreground import ForegroundModel
from vgsum.runtime.summary.queries import StreamQueries
from vgsum.runtime.summary.regions import check_polygon, contains, rasterise
from vgsum.runtime.summary.summarizer import HighlightEvent
from vgsum.stream.ingest import SampledFrame

TABLE = [(0.4, 0.5), (0.8, 0.5), (0.8, 1.0), (0.4, 1.0)]  # where the person stands
WINDOW = [(0.0, 0.0), (0.2, 0.0), (0.2, 0.3), (0.0, 0.3)]  # the top-left wall: nothing moves there


def test_polygons_are_checked_and_rasterise_the_same_area_at_any_size() -> None:
    triangle = check_polygon([[0.1, 0.1], [0.9, 0.1], [0.1, 0.9]])
    for shape in [(72, 128), (288, 512), (720, 1280), (45, 80)]:
        share = rasterise([triangle], shape).mean()
        assert share == pytest.approx(0.32, abs=0.02), shape  # half of 0.8 x 0.8
    assert contains(TABLE, 0.59, 0.91) and not contains(WINDOW, 0.59, 0.91)
    for bad, fragment in [
        ([[0.1, 0.1], [0.9, 0.1]], "at least 3 points"),
        ([[0.1, 0.1], [1.2, 0.1], [0.5, 0.5]], "outside the frame"),
        ([[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]], "edges cross"),
    ]:
        with pytest.raises(ValueError, match=fragment):
            check_polygon(bad)


@pytest.mark.parametrize(
    ("stream", "fragment"),
    [
        ({"motion_masks": [[[0, 0], [1, 0]]]}, "streams.0.motion_masks.0: a polygon needs at least 3 points"),
        ({"zones": [{"name": "door", "polygon": [[0, 0], [2, 0], [0, 1]]}]}, "outside the frame"),
        ({"zones": [{"name": "bow", "polygon": [[0, 0], [1, 1], [1, 0], [0, 1]]}]}, "edges cross"),
        ({"objects": {"labels": ["persn"]}}, "unknown label 'persn'"),
        ({"objects": {"min_score": {"car": 1.5}}}, "min_score of 'car' must lie between 0 and 1"),
        ({"require_zones": ["door"]}, "require_zones names 'door', which is not one of zones (none)"),
        ({"summary": {"motoin_gain": 0.2}}, "streams.0.summary.motoin_gain: Extra inputs are not permitted"),
    ],
)
def test_a_bad_camera_setting_is_one_line(stream: dict, fragment: str) -> None:
    with pytest.raises(UserError) as err:
        parse_config({"streams": [{"stream_id": "cam", "url": "a.mp4", **stream}]}, EdgeConfig, where="edge.yaml")
    assert fragment in str(err.value) and "\n" not in str(err.value), err.value


def test_the_filter_drops_a_label_a_small_box_and_a_weak_detection() -> None:
    seen = FramePerception(
        boxes=np.array([[0.5, 0.0, 0.7, 0.9], [0.0, 0.0, 0.15, 0.4], [0.1, 0.1, 0.12, 0.12], [0.3, 0.3, 0.6, 0.6]],
                       np.float32),
        classes=np.array([0, 62, 0, 2]),
        labels=["person", "tv", "person", "car"],
        scores=np.array([0.75, 0.3, 0.8, 0.35], np.float32),
        object_features=np.arange(8, dtype=np.float32).reshape(4, 2),
        frame_feature=np.zeros(4, np.float32),
    )
    assert kept_objects(seen, ObjectFilter()) is seen  # no filter: the very same detections
    kept = kept_objects(seen, ObjectFilter(labels=["person", "car"], min_area=0.01, min_score={"car": 0.5}))
    assert kept.labels == ["person"] and kept.count == 1  # tv: label; small person: area; car: score
    assert kept.object_features.tolist() == [[0.0, 1.0]] and kept.boxes.shape == (1, 4)


def _clock_frames(n: int) -> list[np.ndarray]:
    """A still grey scene with a burned-in clock (top-left) sampled at 2 fps: the seconds digit changes every
    other frame, the tens every 20 frames, the minutes every 120; nothing else in view changes."""
    rng = np.random.default_rng(0)
    base = np.full((288, 512, 3), 110, np.uint8)
    frames = []
    for i in range(n):
        seconds = i // 2
        digits = [seconds // 600 % 10, seconds // 60 % 10, seconds // 10 % 6, seconds % 10]
        frame = base + rng.integers(0, 3, base.shape, dtype=np.uint8)  # sensor noise
        for d, value in enumerate(digits):  # each digit: a dark cell with a bright bar where its value says
            x0 = 8 + d * 18
            frame[10:34, x0 : x0 + 12] = 30
            frame[10 + 2 * value : 14 + 2 * value, x0 : x0 + 12] = 240
        frames.append(frame)
    return frames


def test_a_motion_mask_over_the_clock_silences_it() -> None:
    clock = [(0.0, 0.0), (0.25, 0.0), (0.25, 0.15), (0.0, 0.15)]
    frames = _clock_frames(300)  # two and a half minutes: two minute rollovers
    plain, masked = ForegroundModel(2.0), ForegroundModel(2.0, masks=[clock])
    loud = [max((1 - 0.4) * plain.update(f), plain.moving) for f in frames]
    quiet = [max((1 - 0.4) * masked.update(f), masked.moving) for f in frames]
    assert max(loud[20:]) > 0.1, max(loud)  # unmasked, each change of the clock still reads as some activity
    assert max(quiet) == 0.0, max(quiet)


def _highlights(engines: Engines, frames, camera: CameraConfig) -> list[HighlightEvent]:
    out: list[HighlightEvent] = []
    registry = StreamQueries()
    registry.add("room")
    sinks = StreamSinks(on_score=lambda _s, e: None, on_highlight=lambda _s, e: out.append(e))
    live = LiveStream("room", 2.0, SummaryConfig(), engines, registry, sinks, camera=camera)
    for seq, (t, rgb) in enumerate(frames):
        perceived = live.kept(engines.perception([rgb])[0])
        node = engines.refiner.nodes([live.refiner_input(perceived)])[0]
        live.take(SampledFrame("room", seq, 0, t, t, 0.0, rgb), perceived, node)
    live.finish()
    return [h for h in out if h.phase == "end"]


@pytest.mark.slow
def test_zones_name_where_it_happened_and_a_required_zone_gates_the_start(engine_folder: Path, room_frames) -> None:
    engines = Engines.load(EngineConfig(dir=engine_folder, threads=1))
    zones = [{"name": "table", "polygon": TABLE}, {"name": "window", "polygon": WINDOW}]
    filtered = {"labels": ["person"]}
    named = _highlights(engines, room_frames, CameraConfig(stream_id="room", url="x", zones=zones, objects=filtered))
    assert named and all("table" in h.zones and "window" not in h.zones for h in named), named
    assert all(set(h.objects) == {"person"} for h in named)  # the filter keeps the tv and laptop out
    gated = _highlights(engines, room_frames, CameraConfig(stream_id="room", url="x", zones=zones,
                                                           require_zones=["window"]))
    assert gated == []  # nothing happened by the window
    kept = _highlights(engines, room_frames, CameraConfig(stream_id="room", url="x", zones=zones,
                                                          require_zones=["table"]))
    assert [(h.start, h.end) for h in kept] == [(h.start, h.end) for h in named]
