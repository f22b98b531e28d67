"""The run report on synthetic data: the JSON files hold the data, the PNG shows curve, spans and thumbnails."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.report.timeline import format_time, write_report

GREEN = (0, 255, 0)
MAGENTA = (255, 0, 255)


def _solid(rgb: tuple[int, int, int], h: int = 90, w: int = 160) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, dtype=np.uint8), (h, w, 3)).copy()


def _count_colour(png: Path, rgb: tuple[int, int, int]) -> int:
    import matplotlib.image

    img = (matplotlib.image.imread(png)[..., :3] * 255).round().astype(int)
    return int(np.all(np.abs(img - np.array(rgb)) <= 3, axis=-1).sum())


def _scores(duration: float = 120.0) -> list[tuple[float, float, bool]]:
    t = np.arange(0, duration, 0.5)
    s = np.clip(0.3 + 0.2 * np.sin(t / 9), 0, 1)
    return [(float(a), float(b), bool(a < duration - 30)) for a, b in zip(t, s, strict=True)]


def test_report_files_hold_the_data(tmp_path: Path) -> None:
    scores = _scores()
    scores.append((10.0, 0.99, True))  # a later final score for t=10 replaces the provisional one
    highlights = [
        {"start": np.float32(60.0), "end": 75.5, "score": 0.8, "objects": {"person": 3}, "query": "person",
         "thumbnail": _solid(MAGENTA), "clip": Path("/clips/a.mp4")},
        {"start": 20.0, "end": 31.0, "score": np.float64(0.7), "objects": {"bicycle": 1, "car": 2}, "query": None,
         "thumbnail": _solid(GREEN)},
    ]
    files = write_report(tmp_path / "out", scores, highlights, source="/v/bikes.mp4", queries=["person"],
                         duration=120.0)
    data = json.loads(files.scores_json.read_text())
    assert data["source"] == "/v/bikes.mp4" and data["queries"] == ["person"]
    points = data["scores"]
    assert len(points) == 240
    assert [p["t"] for p in points] == sorted(p["t"] for p in points)
    assert next(p for p in points if p["t"] == 10.0) == {"t": 10.0, "score": 0.99, "final": True}
    assert all(0.0 <= p["score"] <= 1.0 for p in points)

    hl = json.loads(files.highlights_json.read_text())["highlights"]
    assert [h["start"] for h in hl] == [20.0, 60.0]  # time order
    assert hl[1] == {"start": 60.0, "end": 75.5, "score": 0.8, "objects": {"person": 3}, "query": "person",
                     "clip": "/clips/a.mp4"}
    assert "thumbnail" not in hl[0]


def test_timeline_png_shows_the_thumbnails_and_spans(tmp_path: Path) -> None:
    highlights = [
        {"start": 20.0, "end": 31.0, "score": 0.7, "objects": {"bicycle": 1}, "query": None,
         "thumbnail": _solid(GREEN)},
        {"start": 60.0, "end": 75.0, "score": 0.8, "objects": {"person": 3}, "query": "person",
         "thumbnail": _solid(MAGENTA)},
        {"start": 90.0, "end": 95.0, "score": 0.6, "objects": {}, "query": None},  # no thumbnail: a placeholder
    ]
    files = write_report(tmp_path, _scores(), highlights, source="cam.mp4", queries=["person"], duration=120.0)
    assert files.timeline_png is not None
    png = files.timeline_png
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    h, w = matplotlib.image.imread(png).shape[:2]
    assert w >= 1000 and h >= 500
    # each thumbnail is drawn at a readable size (> 40x20 px of its colour)
    assert _count_colour(png, GREEN) > 800
    assert _count_colour(png, MAGENTA) > 800

    empty = write_report(tmp_path / "none", _scores(), [], source="static.mp4", duration=120.0)
    assert empty.timeline_png is not None
    assert _count_colour(empty.timeline_png, GREEN) == 0


def test_many_highlights_keep_thumbnails_readable(tmp_path: Path) -> None:
    colours = [(0, 255, 0) if k == 17 else (40, 40, 40) for k in range(30)]
    highlights = [
        {"start": 100.0 * k, "end": 100.0 * k + 20, "score": 0.99 if k == 17 else 0.5, "objects": {}, "query": None,
         "thumbnail": _solid(colours[k])}
        for k in range(30)
    ]
    files = write_report(tmp_path, _scores(3000.0), highlights, source="long.mp4", duration=3000.0)
    assert files.timeline_png is not None
    # the best highlight's thumbnail is among the ones shown, at a visible size
    assert _count_colour(files.timeline_png, GREEN) > 800


def test_png_can_be_skipped_and_a_bad_folder_is_a_user_error(tmp_path: Path) -> None:
    files = write_report(tmp_path / "a", _scores(), [], png=False)
    assert files.timeline_png is None and not (tmp_path / "a" / "timeline.png").exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="--out"):
        write_report(blocker / "sub", _scores(), [])
    with pytest.raises(ValueError, match="start"):
        write_report(tmp_path / "b", _scores(), [{"end": 3.0, "score": 0.5}], png=False)


def test_time_format() -> None:
    assert format_time(0) == "0:00"
    assert format_time(75.4) == "1:15"
    assert format_time(3725) == "1:02:05"
