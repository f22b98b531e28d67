"""Camera highlights end to end: built streams through `vgsum run` and `vgsum serve`, and the evaluator's CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from vgsum.models.data.event_streams import RECIPES, SceneRecipe, StreamRecipe, build_stream
from vgsum.models.eval.event_metrics import Highlight, Spans, evaluate_clip, touches
from vgsum.stream.messages import EventMessage, HighlightMessage
from vgsum.stream.subscribe import Subscriber

pytestmark = pytest.mark.slow

STILL = StreamRecipe(
    name="still-short",
    seed=3,
    style="hold",
    kind="sparse",
    scenes=[SceneRecipe(clip="room-people-one-by-one.mp4", extra_quiet_s=40.0)],
    width=768,
    height=432,
    description="An empty room held for 40 s (detector flicker, nothing happens).",
)


def _vgsum(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vgsum.runtime.cli", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def built(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    cache = tmp_path_factory.mktemp("event-streams")
    return {r.name: build_stream(r, cache, shared_data).path for r in (RECIPES["short"], STILL)}


def _truth(video: Path) -> Spans:
    from vgsum.models.data.events import load_ground_truth

    return Spans.of(load_ground_truth(video.with_suffix(".json"), [video.parent])[video.name])


def test_run_on_a_built_stream_highlights_its_event_at_once_and_nothing_in_quiet(built, engine_folder, tmp_path):
    video = built["short"]
    result = _vgsum("run", str(video), "--out", str(tmp_path / "out"), "--engines", str(engine_folder))
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((tmp_path / "out" / "highlights.json").read_text())["highlights"]
    truth = _truth(video)
    highlights = [Highlight(h["start"], h["end"], h["alerted_at"]) for h in report]
    assert highlights, result.stdout
    for h in highlights:  # none on the quiet stretches
        assert any(touches((h.start, h.end), event) for event in truth.events), (h, truth.events)
    scores = json.loads((tmp_path / "out" / "scores.json").read_text())["scores"]
    times = [s["t"] for s in scores]
    metrics = evaluate_clip(truth, times, [s["score"] for s in scores], highlights)
    assert metrics.recall == 1.0 and metrics.precision == 1.0 and metrics.auc > 0.9
    assert max(metrics.latencies_s) <= 5.0
    assert "started at" in result.stdout  # the start is printed as it happens, the end with its span


def test_a_still_stream_with_detector_flicker_gives_no_highlight(built, engine_folder, tmp_path):
    result = _vgsum("run", str(built["still-short"]), "--out", str(tmp_path / "out"), "--engines", str(engine_folder))
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((tmp_path / "out" / "highlights.json").read_text())["highlights"] == []


def test_sigterm_ends_the_open_highlight_and_every_start_has_one_end(built, engine_folder, tmp_path, free_tcp_port):
    port = free_tcp_port()
    config = tmp_path / "edge.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "streams": [{"stream_id": "cam", "url": str(built["short"]), "realtime": True, "loop": True}],
                "publish": {"endpoints": [f"pub+bind:tcp://127.0.0.1:{port}"]},
                "engines": {"dir": str(engine_folder), "threads": 1},
                "control": {"enabled": False},
                "metrics": {"enabled": False},
                "web": {"port": 0},
            }
        )
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "vgsum.runtime.cli", "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    events: list[EventMessage] = []
    highlights: list[HighlightMessage] = []
    try:
        with Subscriber(f"tcp://127.0.0.1:{port}", kinds=["event", "highlight"]) as sub:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not any(e.phase == "start" for e in events):
                received = sub.recv(0.5)
                if received is not None and isinstance(received.message, EventMessage):
                    events.append(received.message)
            assert any(e.phase == "start" for e in events), "no highlight started within 120 s"
            time.sleep(1.0)  # the car is still in view: the highlight is open
            proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                received = sub.recv(0.5)
                if received is None:
                    if proc.poll() is not None:
                        break
                    continue
                if isinstance(received.message, EventMessage):
                    events.append(received.message)
                elif isinstance(received.message, HighlightMessage):
                    highlights.append(received.message)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    by_id: dict[str, list[str]] = {}
    for e in events:
        by_id.setdefault(e.id, []).append(e.phase)
        assert e.end > e.start
    for phases in by_id.values():
        assert phases[0] == "start" and phases.count("end") == 1 and phases[-1] == "end", phases
    ends = [e for e in events if e.phase == "end"]
    assert [(h.start, h.end) for h in highlights] == [(e.start, e.end) for e in ends]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"nope.mp4": {"duration_s": 3, "kind": "sparse", "events": [], "quiet": []}}, "no such video file"),
        (
            {"parking-lot-cars.mp4": {"duration_s": 30.16, "kind": "sparse", "events": [[5, 4, "car"]], "quiet": []}},
            "ends at or before its start",
        ),
        (
            {
                "parking-lot-cars.mp4": {
                    "duration_s": 30.16,
                    "kind": "sparse",
                    "events": [[5, 9, "car"]],
                    "quiet": [[8, 12]],
                }
            },
            "overlaps event",
        ),
        (
            {"parking-lot-cars.mp4": {"duration_s": 30.16, "kind": "sparse", "events": [[5, 40, "car"]], "quiet": []}},
            "past the clip's end",
        ),
    ],
)
def test_a_bad_ground_truth_file_is_one_line_and_exit_2(shared_data, tmp_path, entry, problem):
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps(entry))
    result = _vgsum("eval", "events", "--truth", str(truth), "--streams", "none", timeout=60)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and problem in lines[0], result.stderr


def test_every_row_runs_on_the_same_frames_and_is_saved(shared_data, engine_folder, tmp_path):
    from vgsum.models.eval.events import run_events, shared_clips

    clips = shared_clips(["bgslibrary-road-topdown.avi"])
    rows = ["uniform", "motion", "detector", "vgsum"]
    results = run_events(clips, rows, engine_folder=engine_folder, save=tmp_path, show_progress=False)
    assert list(results) == rows
    frames = {row: json.loads((tmp_path / row / "bgslibrary-road-topdown.avi.json").read_text()) for row in rows}
    times = [[t for t, _ in record["scores"]] for record in frames.values()]
    assert all(t == times[0] for t in times) and len(times[0]) >= 24  # 12.5 s at 2 fps, the same frames
    vgsum = results["vgsum"]["bgslibrary-road-topdown.avi"]
    assert vgsum.recall == 1.0 and vgsum.precision == 1.0 and vgsum.auc > 0.9
    assert results["uniform"]["bgslibrary-road-topdown.avi"].auc == 0.5


def test_the_gated_default_finds_the_ungated_rows_event_and_shares_its_perception(built, engine_folder, tmp_path):
    from vgsum.models.data.events import load_ground_truth
    from vgsum.models.eval.baselines import sampled_frames
    from vgsum.models.eval.events import Clip, SharedPerception, run_events
    from vgsum.runtime.engines.config import EngineConfig
    from vgsum.runtime.engines.loader import Engines

    video = built["short"]
    clip = Clip(video.name, video, load_ground_truth(video.with_suffix(".json"), [video.parent])[video.name], "built")
    rows = ["vgsum", "detector", "vgsum-ungated"]  # the detector baseline reads the row that perceives every frame
    results = run_events([clip], rows, engine_folder=engine_folder, save=tmp_path, show_progress=False)
    gated, plain = results["vgsum"][clip.name], results["vgsum-ungated"][clip.name]
    assert (gated.recall, gated.precision) == (plain.recall, plain.precision) == (1.0, 1.0)
    assert abs(gated.auc - plain.auc) <= 0.01 and gated.latencies_s == plain.latencies_s
    # with every live row gated, the detector baseline perceives every frame itself: the same detections
    assert results["detector"][clip.name].auc == pytest.approx(
        run_events([clip], ["detector", "vgsum"], engine_folder=engine_folder, show_progress=False)["detector"][
            clip.name
        ].auc
    )

    everything = run_events([clip], ["vgsum"], engine_folder=engine_folder, show_progress=False, gate=False)
    assert everything["vgsum"][clip.name] == plain  # `--no-gate`: the gate off on every live row

    calls: list[int] = []
    engine = Engines.load(EngineConfig(dir=engine_folder, threads=1)).perception
    shared = SharedPerception(lambda frames: calls.append(len(frames)) or engine(frames))
    frames = [rgb for _, (_, rgb) in zip(range(4), sampled_frames(video), strict=False)]
    whole = shared(frames)
    assert shared([frames[2], frames[0]]) == [whole[2], whole[0]] and calls == [4]  # a gated row's subset: no run
    assert shared([frames[1], frames[3]]) == [whole[1], whole[3]] and calls == [4]
    fresh = [f.copy() for f in frames[:2]]
    shared(fresh)
    assert calls == [4, 2]  # other frames: perceived
