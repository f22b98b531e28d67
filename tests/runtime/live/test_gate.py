"""The perception gate on real engines and real frames: a still scene skips the engines, an event does not.

The scene is the room clip's empty first 5.5 s played forward and back (real frames, real sensor noise, nothing
moving) for 40 s, then its first visit as it was filmed (a person walks in at the clip's 6.0 s and stands at the
table). The same frames go through the pipeline with the gate off and on.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import zmq
from polling import wait_until
from serve_config import serve_refuses

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
    plain, all_frames, plain_scores, plain_highlights = _run(engines, frames, {"enabled": False})
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
    assert gate.perceive(SceneReading(4.5, 0.0, 0.0, False, False, 1, every_frame=True))  # knapsack reads every frame
    default = PerceptionGate(GateConfig())
    assert default.perceive(_reading(0.0, new_epoch=True)) and not default.perceive(_reading(0.5))  # on by default
    off = PerceptionGate(GateConfig(enabled=False))
    assert all(off.perceive(_reading(t / 2)) for t in range(10))  # off: every frame perceived


def _write_video(path: Path, frames: list[np.ndarray], fps: int = 2) -> None:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for array in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")))
        container.mux(stream.encode())


@pytest.mark.slow
def test_gated_frames_are_counted_in_status_control_and_metrics(
    tmp_path: Path, engine_folder: Path, room_frames, free_tcp_port
) -> None:
    from vgsum.runtime.daemon.app import SummaryApp
    from vgsum.runtime.daemon.config import EdgeConfig
    from vgsum.stream.messages import StatusMessage
    from vgsum.stream.subscribe import Subscriber, wait_until_subscribed

    video = tmp_path / "hall.mp4"
    _write_video(video, [rgb for t, rgb in _held_then_visit(room_frames) if t < 20.0])
    pub = f"tcp://127.0.0.1:{free_tcp_port()}"
    cfg = EdgeConfig(
        streams=[
            {"stream_id": "hall", "url": str(video)},  # the gate is on by default
            {"stream_id": "plain", "url": str(video), "gate": {"enabled": False}},  # the same file, the same batches
        ],
        publish={"endpoints": [f"pub+bind:{pub}"], "status_interval_s": 0.2},
        engines={"dir": engine_folder, "threads": 1},
        control={"endpoint": "tcp://127.0.0.1:0"},
        metrics={"port": 0},
        web={"enabled": False},
        store={"enabled": False},
    )
    app = SummaryApp(cfg, Engines.load(cfg.engines))
    statuses: list[StatusMessage] = []
    with Subscriber(pub) as subscriber:
        assert wait_until_subscribed(app.publisher, subscriber)
        app.start()
        try:
            assert app.wait(timeout_s=120), "the file did not finish"
            gated = app.pipeline.frames_gated("hall")
            assert gated >= 30 and app.pipeline.frames_gated("plain") == 0  # 40 frames held still: most gated
            assert app.control is not None and app.control.bound_endpoint
            reply = _ask(app.control.bound_endpoint, {"op": "status"})["result"]["streams"]
            assert (reply["hall"]["frames_gated"], reply["hall"]["gate"]) == (gated, True)
            assert (reply["plain"]["frames_gated"], reply["plain"]["gate"]) == (0, False)
            assert reply["hall"]["frames_scored"] == reply["plain"]["frames_scored"] == 40
            assert app.metrics_server is not None
            def metrics() -> str | None:
                text = urllib.request.urlopen(app.metrics_server.url + "/metrics", timeout=5).read().decode()
                return text if f'vgsum_frames_gated_total{{stream="hall"}} {gated}.0' in text else None

            text = wait_until(metrics, timeout=5, what="the gated count in /metrics", every=0.2)
            assert 'vgsum_frames_gated_total{stream="plain"} 0.0' in text
        finally:
            app.stop()  # the last status of each stream goes out here, with the final count
        while (received := subscriber.recv(timeout_s=0.5)) is not None:
            if isinstance(received.message, StatusMessage):
                statuses.append(received.message)
    hall = [s for s in statuses if s.stream_id == "hall"]
    plain = [s for s in statuses if s.stream_id == "plain"]
    assert hall and plain
    assert all(s.frames_gated is not None and s.schema_version == 5 for s in hall)
    assert max(s.frames_gated or 0 for s in hall) == gated
    assert all(s.frames_gated is None and s.schema_version == 2 for s in plain)  # without the gate: version 4's


def _ask(endpoint: str, request: dict) -> dict:
    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 10_000)
    sock.connect(endpoint)
    try:
        sock.send(json.dumps(request).encode())
        return json.loads(sock.recv())
    finally:
        sock.close(0)


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
    assert expect in serve_refuses(bad)


@pytest.mark.slow
def test_a_window_of_carried_frames_only_reuses_its_score(engine_folder: Path, room_frames) -> None:
    """With a keep-alive longer than the window (64 frames, 32 s), the ring comes to hold one carried node vector
    only: the window's input is then the last one's, and `refiner.window` is not run again."""
    engines = Engines.load(EngineConfig(dir=engine_folder, threads=1))
    frames = [f for f in _held_then_visit(room_frames) if f[0] < STILL_S]
    runs: list[str] = []
    scores: list[ScoreEvent] = []
    sinks = StreamSinks(
        on_score=lambda _s, e: scores.append(e), on_highlight=lambda _s, e: None,
        on_latency=lambda _s, stage, _x: runs.append(stage),
    )
    pipeline = Pipeline(engines, SummaryConfig(), sinks, thumbnails=False)
    camera = CameraConfig(stream_id="room", url="room.mp4", gate={"enabled": True, "keepalive_s": 60.0})
    pipeline.add_stream("room", 2.0, camera=camera)
    for seq, (t, rgb) in enumerate(frames):
        pipeline.process([SampledFrame("room", seq, 0, t, t, 0.0, rgb)])
    assert runs.count("perception") == 1 and pipeline.frames_gated("room") == len(frames) - 1
    window = SummaryConfig().window
    assert runs.count("refiner_window") == window  # frames 0-63 fill the ring; from then on it holds one vector
    final = [s.score for s in scores if s.final]
    assert final[window:] == [final[window - 1]] * (len(frames) - window)
