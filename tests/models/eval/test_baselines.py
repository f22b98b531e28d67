"""Baselines: motion energy on synthetic and real frames, the detector on a real clip, the live reader's frames."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from vgsum.models.eval.baselines import (
    DetectorChange,
    MotionEnergy,
    baseline_traces,
    detected_labels,
    detector_trace,
    label_change,
    load_perception,
    motion_trace,
    sampled_frames,
    uniform_highlights,
    uniform_trace,
)
from vgsum.models.eval.event_metrics import Highlight, inside_any, load_spans, score_auc
from vgsum.runtime.common.errors import UserError

PARKING = "parking-lot-cars.mp4"


def still_frames(n: int, noise: float = 0.0, seed: int = 0) -> list[tuple[float, np.ndarray]]:
    """A textured still scene at 2 fps, with optional per-frame sensor noise (grey levels, std)."""
    rng = np.random.default_rng(seed)
    scene = rng.integers(40, 200, (288, 512, 3)).astype(np.float32)
    out = []
    for i in range(n):
        frame = scene + rng.normal(0, noise, scene.shape) if noise else scene
        out.append((i * 0.5, np.clip(frame, 0, 255).astype(np.uint8)))
    return out


def moving_square(n: int) -> list[tuple[float, np.ndarray]]:
    """A bright 100 px square crossing a dark background, 60 px per frame."""
    out = []
    for i in range(n):
        frame = np.full((288, 512, 3), 30, np.uint8)
        x = 10 + 60 * i
        frame[90:190, x : x + 100] = 230
        out.append((i * 0.5, frame))
    return out


def test_motion_is_zero_on_a_still_scene_and_high_on_a_moving_one():
    still = motion_trace(still_frames(8)).scores
    assert still.tolist() == [0.0] * 8
    noisy = motion_trace(still_frames(8, noise=3.0)).scores
    assert noisy.max() < 0.2  # heavy sensor noise mostly averages out in the 160 px picture
    moving = motion_trace(moving_square(8)).scores
    assert moving[0] == 0.0  # nothing to compare the first frame with
    assert moving[1:].min() > 0.9
    assert np.all((moving >= 0) & (moving <= 1))


def test_motion_restarts_when_the_size_changes():
    scorer = MotionEnergy()
    assert scorer(np.zeros((100, 200, 3), np.uint8)) == 0.0
    assert scorer(np.full((120, 200, 3), 255, np.uint8)) == 0.0
    assert scorer(np.zeros((120, 200, 3), np.uint8)) > 0.99


def test_detector_change_counts_the_multiset_difference_over_its_window():
    from collections import Counter

    assert label_change(Counter(["car", "car"]), Counter(["car", "person"])) == 2
    assert label_change(Counter(["car"]), Counter(["car", "car", "car"])) == 2
    scorer = DetectorChange(window=2, scale=2.0)
    raws = [scorer.raw(labels) for labels in (["car"], ["car"], ["car", "car"], ["car", "car"], ["car", "car"], [])]
    assert raws == [0, 0, 1, 1, 0, 2]
    trace = detector_trace([(0.0, ["car"]), (0.5, ["car"]), (1.0, ["car", "person"])])
    assert trace.times.tolist() == [0.0, 0.5, 1.0]
    assert trace.scores[:2].tolist() == [0.0, 0.0]
    assert trace.scores[2] == pytest.approx(1 - np.exp(-0.5))
    with pytest.raises(ValueError):
        DetectorChange(window=0)


def test_uniform():
    trace = uniform_trace([0.0, 0.5, 1.0])
    assert trace.scores.tolist() == [0.5, 0.5, 0.5]
    assert uniform_highlights(130.0) == [Highlight(0, 5, 5), Highlight(60, 65, 65), Highlight(120, 125, 125)]
    assert uniform_highlights(62.0) == [Highlight(0, 5, 5), Highlight(60, 62, 62)]  # clipped at the end
    assert uniform_highlights(30.0, every_s=10, length_s=2, offset_s=4) == [
        Highlight(4, 6, 6),
        Highlight(14, 16, 16),
        Highlight(24, 26, 26),
    ]
    with pytest.raises(ValueError):
        uniform_highlights(30.0, every_s=0)


def test_sampled_frames_are_the_live_readers(bikes_mp4):
    frames = list(sampled_frames(bikes_mp4))
    times = [t for t, _ in frames]
    assert len(frames) == 20  # 10 s at 2 fps, by presentation time
    # 9.52 s when every frame is decoded; at 2 of 25 fps unreferenced frames are skipped (two frames later at most)
    assert times[0] == 0.0 and 9.52 - 1e-6 <= times[-1] <= 9.52 + 2 / 25 + 1e-6
    assert np.all(np.diff(times) > 0.4) and np.all(np.diff(times) < 0.6)
    assert frames[0][1].shape == (218, 512, 3) and frames[0][1].dtype == np.uint8


def test_sampled_frames_stops_its_reader_when_left_early(bikes_mp4):
    before = {t.name for t in threading.enumerate()}
    frames = sampled_frames(bikes_mp4)
    next(frames)
    frames.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("ingest-eval") and t.name not in before]


def test_sampled_frames_refuses_what_is_not_a_video(tmp_path: Path):
    with pytest.raises(UserError, match="no such video file"):
        list(sampled_frames(tmp_path / "absent.mp4"))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(UserError, match="junk.mp4: cannot open"):
        list(sampled_frames(junk))


def test_load_perception_names_the_export_command(tmp_path: Path):
    with pytest.raises(UserError, match="vgsum export all"):
        load_perception(tmp_path / "absent")
    with pytest.raises(UserError, match="vgsum export"):
        load_perception(tmp_path)


# -- a real clip ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def parking(shared_data: Path) -> tuple[list, object]:
    """The parking-lot clip's sampled frames and its events ground truth."""
    frames = list(sampled_frames(shared_data / "videos" / PARKING))
    truth = load_spans(shared_data / "events" / "ground_truth.json")[PARKING]
    return frames, truth


@pytest.fixture(scope="module")
def perception(request: pytest.FixtureRequest):
    """The perception engine from the engine cache, else the session's freshly built engines."""
    try:
        return load_perception()
    except UserError:
        return load_perception(request.getfixturevalue("engine_folder"))


def test_motion_ranks_car_frames_above_the_empty_lot(parking):
    frames, truth = parking
    trace = motion_trace(frames)
    assert len(trace.times) == 61
    auc = score_auc(truth, trace.times, trace.scores)
    print(f"motion AUC on {PARKING}: {auc:.3f}")  # 0.944 when written
    assert auc > 0.85
    assert np.array_equal(motion_trace(frames[:20]).scores, trace.scores[:20])  # causal


@pytest.mark.slow
def test_detector_scores_cars_entering_above_the_empty_road(parking, perception):
    frames, truth = parking
    traces = baseline_traces(frames, perception)
    assert set(traces) == {"uniform", "motion", "detector"}
    assert np.array_equal(traces["motion"].scores, motion_trace(frames).scores)
    detector = traces["detector"]
    assert np.array_equal(detector.times, traces["motion"].times)
    times, scores = detector.times, detector.scores
    entering = inside_any(times, [(start, start + 2.5) for start, _ in truth.events])
    # The empty road: quiet, and 2 s clear of any event (the detector's window looks 2 s back).
    empty = inside_any(times, truth.quiet) & ~inside_any(times, [(s - 2.0, e + 2.0) for s, e in truth.events])
    assert entering.sum() >= 15 and empty.sum() >= 12
    print(f"detector: entering {scores[entering].mean():.2f}, empty road {scores[empty].mean():.2f}")
    assert scores[entering].mean() > 0.3
    assert scores[empty].mean() < 0.1
    auc = score_auc(truth, times, scores)
    print(f"detector AUC on {PARKING}: {auc:.3f}")  # 0.811 when written
    assert auc > 0.65
    # Causal: the scores of a prefix are the prefix of the scores (batching changes nothing either).
    prefix = detector_trace(detected_labels(frames[:12], perception))
    assert np.allclose(prefix.scores, scores[:12])
