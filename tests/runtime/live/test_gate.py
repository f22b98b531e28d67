"""The perception gate on real engines and real frames: a still scene skips the engines, an event does not.

The scene is the room clip's empty first 5.5 s played forward and back (real frames, real sensor noise, nothing
moving) for 40 s, then its first visit as it was filmed (a person walks in at the clip's 6.0 s and stands at the
table). The same frames go through the pipeline with the gate off and on.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from vgsum.runtime.daemon.pipeline import Pipeline
from vgsum.runtime.engines.config import EngineConfig
from vgsum.runtime.engines.loader import Engines
from vgsum.runtime.live.config import CameraConfig
from vgsum.runtime.live.gate import GateConfig, PerceptionGate, SceneReading
from vgsum.runtime.live.sinks import StreamSinks
from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.summarizer import HighlightEvent, ScoreEvent
from vgsum.stream.ingest import SampledFrame

STILL_S = 40.0  # the held empty room; the visit starts here
VISIT_S = 13.9  # the first visit's hand-made span in the clip: 6.0-19.9 s


def _held_then_visit(room_frames: list[tuple[float, np.ndarray]]) -> list[tuple[float, np.ndarray]]:
    """The empty room held still for STILL_S (its first frames forward and back), then the first visit."""
    empty = [rgb for t, rgb in room_frames if t < 5.75]
    cycle = empty + empty[-2:0:-1]
    frames = [(i / 2.0, cycle[i % len(cycle)]) for i in range(int(STILL_S * 2))]
    return frames + [(STILL_S + t - 6.0, rgb) for t, rgb in room_frames if t >= 6.0]


class _Counted:
    """The real perception engine, counting the frames it is asked to perceive."""

    def __init__(self, engine) -> None:  # noqa: ANN001 - a PerceptionEngine
        self.engine = engine
        self.frames = 0

    def __call__(self, frames):  # noqa: ANN001, ANN204
        self.frames += len(frames)
        return self.engine(frames)


def _run(engines: Engines, frames, gate: dict) -> tuple[Pipeline, list[float], list[ScoreEvent], list[HighlightEvent]]:
    """Every frame through one pipeline, one at a time; the media times of the frames that were perceived."""
    counted = _Counted(engines.perception)
    scores: list[ScoreEvent] = []
    highlights: list[HighlightEvent] = []
    sinks = StreamSinks(on_score=lambda _s, e: scores.append(e), on_highlight=lambda _s, e: highlights.append(e))
    pipeline = Pipeline(replace(engines, perception=counted), SummaryConfig(), sinks, thumbnails=False)
    pipeline.add_stream("room", 2.0, camera=CameraConfig(stream_id="room", url="room.mp4", gate=gate))
    perceived = []
    for seq, (t, rgb) in enumerate(frames):
        before = counted.frames
        pipeline.process([SampledFrame("room", seq, 0, t, t, 0.0, rgb)])
        if counted.frames > before:
            perceived.append(t)
    pipeline.finish("room")
    return pipeline, perceived, scores, highlights


@pytest.mark.slow
def test_a_still_scene_skips_perception_but_the_first_frame_of_an_event_is_perceived(
    engine_folder: Path, room_frames
) -> None:
    engines = Engines.load(EngineConfig(dir=engine_folder, threads=1))
    frames = _held_then_visit(room_frames)
    plain, all_frames, plain_scores, plain_highlights = _run(engines, frames, {})
    assert len(all_frames) == len(frames) and plain.frames_gated("room") == 0
    gated, perceived, scores, highlights = _run(engines, frames, {"enabled": True})

    still = [t for t in perceived if t < STILL_S]
    keepalive = GateConfig().keepalive_s
    assert still[0] == 0.0  # the first frame of the stream is perceived
    assert len(still) <= 1 + STILL_S / keepalive + 2, still  # the still scene: the first frame and keep-alives
    assert max(np.diff([*still, STILL_S])) <= keepalive, still  # ... at least one per keep-alive period
    # the visit: its first frame and every frame after it while the person is in view
    visit = [t for t, _ in frames if STILL_S <= t <= STILL_S + VISIT_S]
    assert set(visit) <= set(perceived), sorted(set(visit) - set(perceived))
    assert gated.frames_done("room") == len(frames)
    assert gated.frames_gated("room") == len(frames) - len(perceived) >= STILL_S * 2 - len(still)

    # the summary sees every frame and says the same: one final score each, the same highlight at the same frame
    assert [s.t for s in scores if s.final] == [t for t, _ in frames]
    starts = [(h.start, h.emitted_at) for h in highlights if h.phase == "start"]
    assert starts == [(h.start, h.emitted_at) for h in plain_highlights if h.phase == "start"] and starts
    assert starts[0][1] - STILL_S <= 1.5  # the alert still comes within about a second of the person walking in
    quiet = [abs(a.score - b.score) for a, b in zip(scores, plain_scores, strict=True) if a.final and a.t < STILL_S]
    assert max(quiet) < 0.1  # the still scene scores as it did (only the graph's share saw the carried frame)


@pytest.mark.slow
def test_the_keepalive_rate_holds(engine_folder: Path, room_frames) -> None:
    engines = Engines.load(EngineConfig(dir=engine_folder, threads=1))
    frames = [f for f in _held_then_visit(room_frames) if f[0] < STILL_S]
    _, perceived, _, _ = _run(engines, frames, {"enabled": True, "keepalive_s": 4.0})
    gaps = np.diff(perceived)
    assert max(gaps) <= 4.0 and min(gaps) >= 4.0 - 1e-9, perceived  # exactly every 4 s: nothing else woke it
    assert len(perceived) == 1 + int((STILL_S - 0.5) // 4.0)


def _reading(t: float, share: float = 0.0, *, new_epoch: bool = False, version: int = 0) -> SceneReading:
    return SceneReading(t, share, share, cut=False, new_epoch=new_epoch, queries_version=version)


def test_the_rule_perceives_the_first_quiet_frame_after_activity_a_new_epoch_and_new_queries() -> None:
    gate = PerceptionGate(GateConfig(enabled=True))
    assert gate.perceive(_reading(0.0, new_epoch=True))  # the first frame
    assert not gate.perceive(_reading(0.5))
    assert gate.perceive(_reading(1.0, share=0.05))  # something departs from the scene: at once
    assert gate.perceive(_reading(1.5))  # quiet again, but what is carried shows the visit: perceive the empty view
    assert not gate.perceive(_reading(2.0))
    assert gate.perceive(_reading(2.5, version=1))  # new queries: the carried node vector was made for the old ones
    assert not gate.perceive(_reading(3.0, version=1))
    assert gate.perceive(_reading(3.5, new_epoch=True, version=1))  # a reconnect may bring another view
    assert gate.perceive(SceneReading(4.0, 0.0, 0.0, cut=True, new_epoch=False, queries_version=1))  # a new scene
    off = PerceptionGate(GateConfig())
    assert all(off.perceive(_reading(t / 2)) for t in range(10))  # off by default: every frame perceived


@pytest.mark.parametrize(
    ("gate", "expect"),
    [
        ("{keepalive_s: 0}", "streams.0.gate.keepalive_s: Input should be greater than 0"),
        ("{max_share: 1.5}", "streams.0.gate.max_share: Input should be less than or equal to 1"),
        ("{enabeld: true}", "streams.0.gate.enabeld: unknown key"),
        ("{enabled: sometimes}", "streams.0.gate.enabled: Input should be a valid boolean"),
    ],
)
def test_a_bad_gate_setting_is_one_line_exit_2(tmp_path: Path, gate: str, expect: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"streams:\n  - stream_id: cam\n    url: x.mp4\n    gate: {gate}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "vgsum.runtime.cli", "serve", "--config", str(bad)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expect in lines[0] and str(bad) in lines[0], proc.stderr
