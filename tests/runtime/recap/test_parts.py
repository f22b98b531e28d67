"""Where in its clip a part lies: on a keyframe, past the clip's lead-in, where the scores are, without the tail."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vgsum.runtime.recap.clips import ClipFormat, ClipIndex
from vgsum.runtime.recap.parts import Timeline, candidate, place
from vgsum.runtime.store.reader import HighlightRow

FORMAT = ClipFormat("h264", 640, 360, "yuv420p", b"")


def _row(start: float, end: float, wall0: float = 1000.0) -> HighlightRow:
    return HighlightRow(id="h", stream_id="cam", phase="end", start=start, end=end, wall_start=wall0 + start,
                        wall_end=wall0 + end, score=0.8, objects={}, query=None, clip="c.mp4", thumbnail=None,
                        created_at=0.0, updated_at=0.0)


def _clip(duration: float, gop: float = 2.0) -> ClipIndex:
    return ClipIndex(Path("c.mp4"), np.arange(0.0, duration, gop), duration, FORMAT)


def _timeline(points: dict[float, float], wall0: float = 1000.0) -> Timeline:
    times = sorted(points)
    return Timeline(np.array([wall0 + t for t in times]), np.array([points[t] for t in times]))


def test_the_clip_lands_on_the_wall_clock_and_the_lead_in_is_skipped():
    # highlight 101.3-111.3 s; its clip starts at the keyframe at 100.0 (the clip is 11.3 s long)
    c = candidate(_row(101.3, 111.3), _clip(11.3), None)
    assert c.anchor == pytest.approx(1100.0) and c.starts_at == pytest.approx(1.3)
    part = place(c, 6.0, None)
    # no scores: a third of the part before the highlight's middle (6.3 s), on the keyframe before, never before
    # the highlight's own start
    assert part.clip_from == 4.0
    assert part.duration == pytest.approx(6.0) and part.wall_from == pytest.approx(1104.0)
    short = place(c, 10.0, None)
    assert short.clip_from == 2.0 and short.clip_to == pytest.approx(11.3)


def test_a_highlight_too_short_for_that_keeps_its_lead_in():
    c = candidate(_row(101.3, 102.8), _clip(2.8), None)  # 1.5 s highlight, next keyframe at 102.0 leaves 0.8 s
    part = place(c, 6.0, None)
    assert (part.clip_from, part.clip_to) == (0.0, pytest.approx(2.8))


def test_the_part_goes_where_the_scores_are_and_stops_when_they_fall():
    scores = {100.0 + t: 0.1 for t in range(0, 30)}
    scores |= {112.0: 0.8, 113.0: 0.85, 114.0: 0.8, 115.0: 0.7}  # the moment
    scores |= {116.0 + t: 0.3 for t in range(10)}  # a weak tail the highlight stayed open on
    timeline = _timeline(scores)
    c = candidate(_row(101.3, 126.0), _clip(26.0), timeline)
    part = place(c, 10.0, timeline, shortest=3.0)
    assert part.clip_from == 12.0  # the keyframe where the 10-s window holds the most score
    assert part.clip_to == pytest.approx(15.5)  # a sampling interval after the last score at 60 % of the peak


def test_the_tail_is_never_cut_below_the_shortest_part():
    timeline = _timeline({100.0 + t: (0.9 if t == 2 else 0.2) for t in range(20)})
    c = candidate(_row(101.9, 120.0), _clip(20.0), timeline)
    part = place(c, 10.0, timeline, shortest=4.0)
    assert part.duration == pytest.approx(4.0)
