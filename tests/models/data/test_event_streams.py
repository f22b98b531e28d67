"""Built event streams: real video out, truth mapped exactly, deterministic per seed, never rebuilt needlessly."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import av
import numpy as np
import pytest

from vgsum.models.data.event_streams import (
    EVENT_MARGIN_S,
    RECIPES,
    build_stream,
    build_streams,
    make_plan,
    map_truth,
)
from vgsum.models.data.events import ClipTruth, frame_labels, load_ground_truth
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.paths import REPO_ROOT

SHORT = RECIPES["short"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def decode(path: Path, width: int, height: int, until_s: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Frame times and luma planes up to `until_s`, scaled as the builder scales, then halved to save memory."""
    times, lumas = [], []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time > until_s:
                break
            image = frame.reformat(width=width, height=height, format="yuv420p", interpolation="AREA")
            times.append(frame.time)
            lumas.append(image.to_ndarray()[:height:2, ::2].astype(np.int16))
    return np.array(times), np.stack(lumas)


@pytest.fixture(scope="module")
def truths(shared_data: Path) -> dict[str, ClipTruth]:
    clip_dirs = [shared_data / "videos", shared_data / "footage"]
    return load_ground_truth(shared_data / "events" / "ground_truth.json", clip_dirs)


@pytest.fixture(scope="module")
def short_build(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("streams")
    began = time.monotonic()
    built = build_stream(SHORT, folder, shared_data)
    return built, time.monotonic() - began


@pytest.fixture(scope="module")
def output_frames(short_build) -> tuple[np.ndarray, np.ndarray]:
    return decode(short_build[0].path, SHORT.width, SHORT.height)


@pytest.fixture(scope="module")
def source_parking(shared_data: Path) -> tuple[np.ndarray, np.ndarray]:
    return decode(shared_data / "videos" / "parking-lot-cars.mp4", SHORT.width, SHORT.height, until_s=14.0)


def test_short_recipe_builds_in_seconds_into_the_given_folder(short_build) -> None:
    built, seconds = short_build
    assert seconds < 60
    assert built.path.name == "short.mp4" and built.truth_path.name == "short.json"
    assert built.path.parent == built.truth_path.parent
    assert not built.path.is_relative_to(REPO_ROOT)


def test_short_stream_decodes_at_constant_rate_and_matches_its_truth(short_build) -> None:
    built, _ = short_build
    truths = load_ground_truth(built.truth_path, built.path.parent)
    assert list(truths) == ["short.mp4"]
    truth = truths["short.mp4"]
    with av.open(str(built.path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (SHORT.width, SHORT.height)
        times = np.array([frame.time for frame in container.decode(stream)])
    assert len(times) == round(truth.duration_s * SHORT.fps)
    np.testing.assert_allclose(times, np.arange(len(times)) / SHORT.fps, atol=1e-6)
    assert 20 < truth.duration_s < 60
    assert truth.kind == "sparse" and len(truth.events) == 1 and not truth.cuts
    assert "seed 7" in truth.notes and "parking-lot-cars.mp4" in truth.notes
    labels = frame_labels(truth, times)
    assert (labels == 1).sum() > 30 and (labels == 0).sum() > 200


def _best_source_match(luma: np.ndarray, source_lumas: np.ndarray) -> tuple[int, float]:
    """Index of the source frame closest to `luma` (mean absolute difference) and that difference."""
    mad = np.abs(source_lumas - luma[None]).mean(axis=(1, 2))
    return int(mad.argmin()), float(mad.min())


def test_event_frames_are_the_source_event_frames_at_the_mapped_times(
    short_build, output_frames, source_parking, truths
) -> None:
    built, _ = short_build
    truth = load_ground_truth(built.truth_path, built.path.parent)["short.mp4"]
    [(out_start, out_end, what)] = truth.events
    [(src_start, src_end, _)] = [e for e in truths["parking-lot-cars.mp4"].events if what.startswith(e[2])]
    assert out_end - out_start == pytest.approx(src_end - src_start, abs=0.002)  # copied whole
    src_times, src_lumas = source_parking
    out_times, out_lumas = output_frames
    inside = np.flatnonzero((out_times >= out_start) & (out_times <= out_end))
    checked = 0
    for index in inside[:: max(1, len(inside) // 6)]:
        source_time = src_start + (out_times[index] - out_start)
        expected = np.searchsorted(src_times, source_time + 1e-6, "right") - 1
        if np.abs(src_times - source_time).min() < 0.01:
            continue  # on a source frame's boundary, where rounding could pick its neighbour
        best, mad = _best_source_match(out_lumas[index], src_lumas)
        assert best == expected, f"output {out_times[index]:.2f} s shows source {src_times[best]:.2f} s"
        assert mad < 4.0
        checked += 1
    assert checked >= 4


def test_quiet_frames_are_real_quiet_frames_away_from_events(
    short_build, output_frames, source_parking, truths
) -> None:
    built, _ = short_build
    truth = load_ground_truth(built.truth_path, built.path.parent)["short.mp4"]
    source = truths["parking-lot-cars.mp4"]
    src_times, src_lumas = source_parking
    out_times, out_lumas = output_frames
    quiet = np.flatnonzero(frame_labels(truth, out_times) == 0)
    matched = np.array([src_times[_best_source_match(out_lumas[i], src_lumas)[0]] for i in quiet[::7]])
    assert (frame_labels(source, matched) == 0).all()
    # More than a still: the loops show many distinct real frames.
    assert len(np.unique(matched)) > 10


def test_same_seed_same_bytes_other_seed_other_bytes_and_no_needless_rebuild(
    short_build, shared_data, tmp_path
) -> None:
    built, _ = short_build
    again = build_stream(SHORT, tmp_path, shared_data)
    assert sha256(again.path) == sha256(built.path)
    assert again.truth_path.read_bytes() == built.truth_path.read_bytes()

    stamp = again.path.stat().st_mtime_ns
    began = time.monotonic()
    build_stream(SHORT, tmp_path, shared_data)
    assert again.path.stat().st_mtime_ns == stamp and time.monotonic() - began < 2.0

    other = build_stream(SHORT.model_copy(update={"seed": 8}), tmp_path, shared_data)
    assert other.path == again.path  # same name: the recipe hash differs, so it was rebuilt
    assert sha256(other.path) != sha256(built.path)
    assert other.truth_path.read_bytes() != built.truth_path.read_bytes()


def test_cache_may_not_be_inside_the_repository_or_the_shared_folder(shared_data: Path) -> None:
    with pytest.raises(UserError, match="inside the repository"):
        build_stream(SHORT, REPO_ROOT / "streams", shared_data)
    with pytest.raises(UserError, match="inside the shared folder"):
        build_stream(SHORT, shared_data / "events" / "streams", shared_data)


def test_unknown_recipe_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown event-stream recipe 'sparse-longest'; known: short, "):
        build_streams(["sparse-longest"], tmp_path)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_plans_a_valid_timeline(name: str, truths: dict[str, ClipTruth]) -> None:
    recipe = RECIPES[name]
    plan = make_plan(recipe, truths)
    truth = map_truth(plan, recipe, truths)
    assert truth.problems() == []
    assert make_plan(recipe, truths) == plan  # deterministic
    minutes = truth.duration_s / 60
    events = len(truth.events)
    if name == "short":
        assert minutes < 1 and 1 <= events <= 2
    elif name == "sparse-long-room":
        assert 10 <= minutes <= 30 and 5 <= events <= 10
    elif name == "still-flicker":
        assert 2.5 <= minutes <= 4 and events == 0 and truth.quiet == [(0.0, truth.duration_s)]
    elif name == "nuisance-long":
        assert minutes >= 3 and events == 1 and truth.kind == "nuisance"
        start, end, _ = truth.events[0]
        assert truth.quiet[0][1] < start and end < truth.quiet[-1][0] and truth.quiet[-1][1] - end > 60
    elif name == "multi-scene":
        assert len(truth.cuts) == len(recipe.scenes) - 1
        assert events == sum(len(truths[s.clip].events) for s in recipe.scenes) - 4  # room window: 2 of 6
    # Every source frame shown more than once (a loop, a play-back) is quiet and away from events,
    # except the nuisance stream's deliberate play-back of its hand.
    for piece in plan.pieces:
        low, high = piece.source_span(plan.fps)
        source = truths[piece.clip]
        if piece.direction > 0 or (name == "nuisance-long" and high > source.events[0][0]):
            continue
        assert any(q0 - 0.06 <= low and high <= q1 + 0.06 for q0, q1 in source.quiet)
        assert all(high < e0 - EVENT_MARGIN_S + 0.06 or low > e1 + EVENT_MARGIN_S - 0.06 for e0, e1, _ in source.events)


def test_all_recipes_stay_a_few_tens_of_minutes(truths: dict[str, ClipTruth]) -> None:
    total = sum(make_plan(r, truths).n_frames / r.fps for r in RECIPES.values())
    assert total < 45 * 60
