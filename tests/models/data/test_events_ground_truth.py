"""The hand-made event truth: the real shared file loads, and every kind of mistake is one clear line."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from vgsum.models.data.events import (
    ClipTruth,
    dump_ground_truth,
    find_clip,
    frame_labels,
    load_ground_truth,
)
from vgsum.runtime.common.errors import UserError

VIDEO_SUFFIXES = {".mp4", ".avi", ".gif"}


@pytest.fixture(scope="module")
def clip_dirs(shared_data: Path) -> list[Path]:
    return [shared_data / "videos", shared_data / "footage"]


@pytest.fixture(scope="module")
def shared_truth(shared_data: Path) -> dict:
    return json.loads((shared_data / "events" / "ground_truth.json").read_text(encoding="utf-8"))


def test_all_shared_clips_load(shared_data: Path, clip_dirs: list[Path]) -> None:
    truths = load_ground_truth(shared_data / "events" / "ground_truth.json", clip_dirs)
    on_disk = {p.name for d in clip_dirs for p in d.iterdir() if p.suffix in VIDEO_SUFFIXES}
    assert len(on_disk) == 20
    assert set(truths) == on_disk
    kinds = {name: t.kind for name, t in truths.items()}
    assert kinds["opencv-tree-window.avi"] == "nuisance"
    assert kinds["bikes.mp4"] == "edited" and truths["bikes.mp4"].cuts == [1.2, 3.04, 5.48, 7.48, 9.68]
    assert {n for n, k in kinds.items() if k == "sparse"} == {
        "room-people-one-by-one.mp4",
        "parking-lot-cars.mp4",
        "tracktor-spiders.mp4",
        "bgslibrary-road-topdown.avi",
    }
    # Two cars at once are two events: overlapping events are allowed.
    parking = truths["parking-lot-cars.mp4"].events
    assert parking[1][0] < parking[2][0] < parking[1][1]


def test_default_paths_are_the_shared_ones(shared_data: Path) -> None:
    assert len(load_ground_truth()) == 20


def test_dump_reproduces_the_shared_file_byte_for_byte(shared_data: Path, clip_dirs: list[Path]) -> None:
    path = shared_data / "events" / "ground_truth.json"
    assert dump_ground_truth(load_ground_truth(path, clip_dirs)) == path.read_text(encoding="utf-8")


def test_find_clip_looks_in_videos_and_footage_only(clip_dirs: list[Path]) -> None:
    assert find_clip("parking-lot-cars.mp4", clip_dirs) == clip_dirs[0] / "parking-lot-cars.mp4"
    assert find_clip("opencv-tree-window.avi", clip_dirs) == clip_dirs[1] / "opencv-tree-window.avi"
    assert find_clip("no-such-clip.mp4", clip_dirs) is None
    assert find_clip("../videos/bikes.mp4", clip_dirs) is None
    assert find_clip("", clip_dirs) is None


def _edit(entry: dict, change: str) -> dict:
    """One mistake applied to a copy of the parking-lot entry."""
    bad = copy.deepcopy(entry)
    if change == "reversed":
        bad["events"][0] = [8.7, 4.45, "white hatchback"]
    elif change == "empty":
        bad["quiet"][1] = [9.0, 9.0]
    elif change == "past-end":
        bad["quiet"][3] = [27.9, 30.5]
    elif change == "negative":
        bad["quiet"][0] = [-0.5, 4.4]
    elif change == "quiet-quiet":
        bad["quiet"].append([10.0, 12.0])
    elif change == "quiet-event":
        bad["quiet"][0] = [0.0, 5.0]
    elif change == "kind":
        bad["kind"] = "boring"
    elif change == "extra-key":
        bad["label"] = "car"
    elif change == "missing-key":
        del bad["duration_s"]
    elif change == "not-a-number":
        bad["events"][0] = ["4.4x", 8.7, "white hatchback"]
    elif change == "cut-outside":
        bad["cuts"] = [45.0]
    return bad


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("reversed", "event 1 [8.7, 4.45] ends at or before its start"),
        ("empty", "quiet 2 [9.0, 9.0] ends at or before its start"),
        ("past-end", "quiet 4 [27.9, 30.5] runs past the clip's end (30.16 s)"),
        ("negative", "quiet 1 [-0.5, 4.4] has a negative time"),
        ("quiet-quiet", "quiet 2 [9.0, 14.4] overlaps quiet 5 [10.0, 12.0]"),
        ("quiet-event", "quiet 1 [0.0, 5.0] overlaps event 1 [4.45, 8.7]"),
        ("kind", "kind: Input should be 'sparse', 'nuisance', 'busy' or 'edited'"),
        ("extra-key", "label: Extra inputs are not permitted"),
        ("missing-key", "duration_s: Field required"),
        ("not-a-number", "events.0.0: Input should be a valid number"),
        ("cut-outside", "cut 1 at 45.0 s lies outside the clip (0-30.16 s)"),
    ],
)
def test_each_mistake_is_one_line_naming_file_clip_and_problem(
    tmp_path: Path, clip_dirs: list[Path], shared_truth: dict, change: str, problem: str
) -> None:
    path = tmp_path / "truth.json"
    good = shared_truth["parking-lot-cars.mp4"]
    path.write_text(json.dumps({"parking-lot-cars.mp4": _edit(good, change)}), encoding="utf-8")
    with pytest.raises(UserError) as caught:
        load_ground_truth(path, clip_dirs)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: clip 'parking-lot-cars.mp4': ")
    assert problem in message


def test_unchanged_entry_loads(tmp_path: Path, clip_dirs: list[Path], shared_truth: dict) -> None:
    path = tmp_path / "truth.json"
    path.write_text(json.dumps({"parking-lot-cars.mp4": shared_truth["parking-lot-cars.mp4"]}), encoding="utf-8")
    assert list(load_ground_truth(path, clip_dirs)) == ["parking-lot-cars.mp4"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"parking-lot-cars.mp4": {"duration_s": 30.16,', "not valid JSON: Expecting property name"),
        ("[1, 2]", "expected an object mapping clip file names to annotations"),
        ('{"parking-lot-cars.mp4": {"duration_s": NaN, "kind": "sparse", "events": [], "quiet": []}}', "finite"),
        ('{"parking-lot-cars.mp4": ["sparse"]}', "Input should be a valid dictionary"),
    ],
)
def test_malformed_files_are_one_line(tmp_path: Path, clip_dirs: list[Path], text: str, problem: str) -> None:
    path = tmp_path / "truth.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as caught:
        load_ground_truth(path, clip_dirs)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(path)) and problem in message


def test_unknown_clip_and_missing_file_are_one_line(tmp_path: Path, clip_dirs: list[Path], shared_truth: dict) -> None:
    path = tmp_path / "truth.json"
    path.write_text(json.dumps({"parked-cars.mp4": shared_truth["parking-lot-cars.mp4"]}), encoding="utf-8")
    with pytest.raises(UserError, match=r"truth\.json: clip 'parked-cars\.mp4': no such video file in "):
        load_ground_truth(path, clip_dirs)
    with pytest.raises(UserError, match=r"absent\.json: cannot read the ground truth"):
        load_ground_truth(tmp_path / "absent.json", clip_dirs)


def test_frame_labels_event_over_quiet_over_neither() -> None:
    truth = ClipTruth(
        duration_s=30.16,
        kind="sparse",
        events=[(4.45, 8.7, "car"), (14.45, 18.3, "car"), (14.95, 19.0, "car")],
        quiet=[(0.0, 4.4), (9.0, 14.4)],
    )
    times = [0.0, 4.4, 4.42, 4.45, 8.7, 8.8, 9.0, 14.42, 16.0, 18.9, 19.1, 30.0]
    expected = [0, 0, -1, 1, 1, -1, 0, -1, 1, 1, -1, -1]
    labels = frame_labels(truth, np.array(times))
    assert labels.dtype == np.int8
    assert labels.tolist() == expected
    assert frame_labels(truth, []).shape == (0,)
