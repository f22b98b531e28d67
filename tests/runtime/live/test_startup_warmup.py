"""Startup on a camera that shakes or is noisy from its first frame: no highlight while the background is learnt.

The foreground model starts from the first frame with one assumed spread for every pixel, so a
camera that sways moves every edge of the view by a pixel or so before the model has seen it
move, and without a warm-up that alone opened a highlight in the first seconds. For its first
`warmup_s` a frame may start a highlight only when its foreground outside the range the
background spans over each pixel's 3x3 neighbourhood scores too (runtime/summary/foreground.py).
Here real room footage, built by the stream builder with the builder's own shake and sensor
noise from the first frame (640x360, 15 fps, H.264), goes through one stream's live path on the
real engines: an empty room gives no highlight (the shaking one did without the warm-up), and a
person walking in 3 s after the start, inside the warm-up, is still reported at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vgsum.models.data.camera_nuisance import NuisanceConfig
from vgsum.models.data.event_streams import SceneRecipe, StreamRecipe, build_stream
from vgsum.models.data.events import load_ground_truth
from vgsum.models.eval.baselines import sampled_frames
from vgsum.runtime.engines.config import EngineConfig
from vgsum.runtime.engines.loader import Engines
from vgsum.runtime.live.sinks import StreamSinks
from vgsum.runtime.live.stream import LiveStream
from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.foreground import ForegroundModel, ForegroundSettings
from vgsum.runtime.summary.queries import StreamQueries
from vgsum.runtime.summary.summarizer import HighlightEvent
from vgsum.stream.ingest import SampledFrame

pytestmark = pytest.mark.slow

ROOM = "room-people-one-by-one.mp4"  # empty until a woman walks in at 6.0 s; quiet again 20.3-22.6 s
SAMPLE_FPS = 2.0


def _room(name: str, nuisances: NuisanceConfig, start_s: float, end_s: float, quiet_s: float) -> StreamRecipe:
    """The room from `start_s` to `end_s` (both in quiet stretches) with `quiet_s` of its own quiet looped in."""
    return StreamRecipe(
        name=name, seed=301, style="extend", kind="nuisance", profile="substream", preset="superfast", crf=28,
        scenes=[SceneRecipe(clip=ROOM, start_s=start_s, end_s=end_s, extra_quiet_s=quiet_s)],
        nuisances=nuisances, description="the room, with camera nuisances from the first frame",
    )


def _highlights(engines: Engines, path: Path, settings: ForegroundSettings | None = None) -> list[HighlightEvent]:
    """Every highlight message of the stream's live path (the default summary; perception on every frame)."""
    messages: list[HighlightEvent] = []
    registry = StreamQueries()
    registry.add("cam")
    sinks = StreamSinks(on_score=lambda _s, e: None, on_highlight=lambda _s, e: messages.append(e))
    live = LiveStream("cam", SAMPLE_FPS, SummaryConfig(), engines, registry, sinks)
    if settings is not None:  # the same stream's scene model with other constants (the control)
        live.activity = ForegroundModel(SAMPLE_FPS, settings)
    for seq, (t, rgb) in enumerate(sampled_frames(path, SAMPLE_FPS)):
        frame = SampledFrame("cam", seq, 0, t, t, 0.0, rgb)
        scene = live.look(frame)
        perceived = live.kept(engines.perception([rgb])[0])
        live.take(frame, perceived, engines.refiner.nodes([live.refiner_input(perceived)])[0], scene)
    live.finish()
    return messages


@pytest.fixture(scope="module")
def engines(engine_folder: Path) -> Engines:
    return Engines.load(EngineConfig(dir=engine_folder, threads=1))


def test_a_camera_shaking_from_its_first_frame_gives_no_startup_highlight(
    tmp_path: Path, shared_data: Path, engines: Engines
) -> None:
    # 12 s of the empty room on a pole that sways 3 px (of 360 lines) from the first frame
    shaking = NuisanceConfig(kinds=["shake"], shake_px=3.0)
    built = build_stream(_room("warmup-shake-empty", shaking, 0.0, 5.9, 6.0), tmp_path, shared_data)
    assert load_ground_truth(built.truth_path, [built.path.parent])[built.path.name].events == []
    assert _highlights(engines, built.path) == []
    # the control: the same frames without the warm-up open a highlight in the first seconds
    unwarmed = _highlights(engines, built.path, ForegroundSettings(warmup_s=0.0))
    assert any(h.phase == "start" and h.emitted_at < 5.0 for h in unwarmed), unwarmed


@pytest.mark.parametrize("kinds", [["noise"], ["shake", "noise"]], ids=["noise", "shake-and-noise"])
def test_a_camera_noisy_from_its_first_frame_gives_no_startup_highlight(
    tmp_path: Path, shared_data: Path, engines: Engines, kinds: list
) -> None:
    # the strongest sensor noise the builder makes (20 grey levels a frame, fresh on every frame)
    noisy = NuisanceConfig(kinds=kinds, noise_sigma=20.0, shake_px=3.0)
    built = build_stream(_room(f"warmup-{'-'.join(kinds)}-empty", noisy, 0.0, 5.9, 6.0), tmp_path, shared_data)
    assert _highlights(engines, built.path) == []


def test_a_person_walking_in_during_the_warmup_is_still_reported(
    tmp_path: Path, shared_data: Path, engines: Engines
) -> None:
    # the room from 3 s in: the woman walks in 3 s after the stream starts, while the camera shakes
    shaking = NuisanceConfig(kinds=["shake"], shake_px=3.0)
    built = build_stream(_room("warmup-shake-visit", shaking, 3.0, 21.0, 0.0), tmp_path, shared_data)
    (start, end, _), = load_ground_truth(built.truth_path, [built.path.parent])[built.path.name].events
    assert start < ForegroundSettings().warmup_s
    messages = _highlights(engines, built.path)
    first = next(h for h in messages if h.phase == "start")
    assert start <= first.emitted_at <= start + 2.0  # announced as fast as after the warm-up (alert p95: 2 s)
    ends = [h for h in messages if h.phase == "end"]
    assert ends and ends[0].start < end and ends[0].end > start  # the highlight covers her visit
