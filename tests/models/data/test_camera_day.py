"""The site's camera-day: recipes as promised, every event a kind and a distinct id, repeats, spans inside the video."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import av
import pytest

from vgsum.models.data.camera_day import (
    CAMERA_S,
    DAY_RECIPES,
    KINDS,
    CameraEvent,
    build_day,
    camera_events,
    day_recipes,
    read_truth,
    scaled,
    source_truths,
)
from vgsum.models.data.event_streams import make_plan, map_truth
from vgsum.models.data.events import ClipTruth
from vgsum.runtime.common.errors import UserError

# camera -> (event occurrences, distinct events, kinds) of the full day
EXPECTED = {
    "day-lobby": (12, 6, {"person"}),
    "day-parking": (8, 4, {"car"}),
    "day-road": (10, 5, {"car"}),
    "day-web": (6, 3, {"spider", "person"}),
    "day-window": (2, 1, {"hand"}),
}


@pytest.fixture(scope="module")
def sources(shared_data: Path) -> dict[str, ClipTruth]:
    return source_truths(shared_data)


@pytest.fixture(scope="module")
def planned(sources: dict[str, ClipTruth]) -> dict[str, tuple[ClipTruth, list[CameraEvent]]]:
    """Each full camera's mapped truth and events, planned without encoding a frame."""
    out = {}
    for name, recipe in DAY_RECIPES.items():
        truth = map_truth(make_plan(recipe, sources), recipe, sources)
        out[name] = (truth, camera_events(truth, recipe, sources))
    return out


def test_recipes_are_camera_substreams_of_one_clip_played_twice() -> None:
    assert set(DAY_RECIPES) == set(EXPECTED)
    for recipe in DAY_RECIPES.values():
        assert recipe.profile == "substream" and (recipe.width, recipe.height, recipe.fps) == (640, 360, 15)
        clips = [s.clip for s in recipe.scenes]
        assert len(set(clips)) == 1 and len(clips) >= 2
        assert [s.end_s for s in recipe.scenes[:2]] == [None, None]  # two whole plays
    with pytest.raises(UserError, match="unknown camera"):
        day_recipes(["day-nowhere"])


def test_every_source_event_of_the_site_has_a_kind(sources: dict[str, ClipTruth]) -> None:
    clips = {s.clip for r in DAY_RECIPES.values() for s in r.scenes}
    wanted = {(clip, i) for clip in clips for i in range(len(sources[clip].events))}
    assert set(KINDS) == wanted
    assert 4 <= len(set(KINDS.values())) <= 6


def test_full_day_has_its_events_repeats_and_length(planned: dict) -> None:
    total = 0.0
    for name, (truth, events) in planned.items():
        count, distinct, kinds = EXPECTED[name]
        assert len(events) == count and {e.kind for e in events} == kinds
        plays = Counter(e.distinct_id for e in events)
        assert len(plays) == distinct and set(plays.values()) == {2}  # every source event repeats once
        assert abs(truth.duration_s - CAMERA_S) < 60
        assert all(0 <= e.start < e.end <= truth.duration_s for e in events)
        assert len(truth.cuts) == len(DAY_RECIPES[name].scenes) - 1
        # the two plays of an event last as long (the window's second hand also plays back out)
        for distinct_id in plays:
            first, second = [e.end - e.start for e in events if e.distinct_id == distinct_id]
            assert second == pytest.approx(first, abs=0.15) or name == "day-window"
        total += truth.duration_s
    assert 1.9 * 3600 < total < 2.3 * 3600


def test_scaled_recipes_keep_events_and_shrink_quiet(sources: dict[str, ClipTruth]) -> None:
    full = DAY_RECIPES["day-lobby"]
    assert sum(s.extra_quiet_s for s in scaled(full, quiet_s=10).scenes) == pytest.approx(10)
    assert sum(s.extra_quiet_s for s in scaled(full, quiet_scale=0.5).scenes) == pytest.approx(
        sum(s.extra_quiet_s for s in full.scenes) / 2
    )
    with pytest.raises(ValueError, match="not both"):
        scaled(full, quiet_s=1, quiet_scale=1)


def test_tiny_build_has_events_inside_the_video(shared_data: Path, tmp_path: Path) -> None:
    built = build_day(tmp_path, shared_data, cameras=["day-road", "day-window"], quiet_s=3.0)
    sources = source_truths(shared_data)
    for recipe, stream in built:
        truth = read_truth(stream)
        events = camera_events(truth, recipe, sources)
        with av.open(str(stream.path)) as container:
            video = container.streams.video[0]
            frames = video.frames
            assert (video.width, video.height) == (640, 360)
        assert frames == round(truth.duration_s * 15)
        assert all(0 <= e.start < e.end <= frames / 15 for e in events)
        count, distinct, _ = EXPECTED[recipe.name.removesuffix("-q3s")]
        assert len(events) == count and len({e.distinct_id for e in events}) == distinct
        assert truth.duration_s < 120  # minutes of quiet shrunk to seconds


def _engines_present() -> bool:
    from vgsum.runtime.common.paths import engine_dir

    return all((engine_dir() / f).is_file() for f in ("perception.json", "refiner_frame.json", "text.json"))


@pytest.mark.slow
def test_tiny_day_recorded_through_vgsum_run_has_truth_in_store_wall_time(shared_data: Path, tmp_path: Path) -> None:
    if not _engines_present():
        pytest.skip("no engines in the engine cache (vgsum export all)")
    from vgsum.models.eval.recap_day import record_day, stored_highlights

    day = record_day(tmp_path, quiet_s=4.0, cameras=["day-parking"], progress=False)
    assert day.store.is_file() and day.store.parent == day.data_dir and not day.reused
    (stream,) = day.streams
    assert stream.stream_id == "day-parking-q4s" and stream.highlights > 0
    highlights = stored_highlights(day.store, stream.stream_id)
    assert len(highlights) == stream.highlights
    assert all(clip and Path(clip).is_file() and day.data_dir in Path(clip).parents for _, _, clip in highlights)
    assert len(stream.events) == 8 and day.recorded_s == stream.duration_s
    for event in stream.events:
        assert event.wall_start == pytest.approx(stream.anchor_wall + event.start)
    assert stream.quiet and all(stream.anchor_wall <= s < e for s, e in stream.quiet)
    again = record_day(tmp_path, quiet_s=4.0, cameras=["day-parking"], progress=False)
    assert again.reused and again.streams == day.streams


def test_the_busy_day_plays_every_event_four_times(sources: dict[str, ClipTruth]) -> None:
    from vgsum.models.data.camera_day import BUSY_DAY_RECIPES

    assert [n.replace("busy-", "day-") for n in BUSY_DAY_RECIPES] == list(DAY_RECIPES)
    for name, recipe in BUSY_DAY_RECIPES.items():
        events = camera_events(map_truth(make_plan(recipe, sources), recipe, sources), recipe, sources)
        occurrences, distinct, kinds = EXPECTED[name.replace("busy-", "day-")]
        assert Counter(Counter(e.distinct_id for e in events).values()) == {4: distinct}, name
        assert {e.kind for e in events} == kinds
        duration = make_plan(recipe, sources).n_frames / recipe.fps
        assert abs(duration - CAMERA_S) < 0.1 * CAMERA_S
