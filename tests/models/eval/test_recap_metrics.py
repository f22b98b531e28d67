"""The recap benchmark's figures on hand-made days: coverage, kinds, quiet and repeats, and the uniform baseline."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from vgsum.models.eval.recap import uniform_spans
from vgsum.models.eval.recap_metrics import Span, coverage


@dataclass
class Event:
    wall_start: float
    wall_end: float
    kind: str
    distinct_id: str


@dataclass
class Stream:
    stream_id: str
    events: list[Event]
    quiet: list[tuple[float, float]]
    anchor_wall: float = 0.0
    duration_s: float = 100.0
    extra: dict = field(default_factory=dict)


def _day() -> list[Stream]:
    lobby = Stream("lobby", [Event(10, 20, "person", "a"), Event(40, 50, "person", "b"), Event(70, 80, "person", "a")],
                   [(0, 9), (21, 39), (51, 69), (81, 100)])
    lot = Stream("lot", [Event(1010, 1014, "car", "c")], [(1000, 1009), (1015, 1100)], anchor_wall=1000.0)
    return [lobby, lot]


def test_every_event_once_and_nothing_else():
    spans = [Span("lobby", 12, 18), Span("lobby", 42, 48), Span("lot", 1010, 1014)]
    c = coverage(spans, _day())
    assert (c.events, c.kinds, c.quiet, c.repeats) == (1.0, 1.0, 0.0, 0.0)
    assert (c.events_covered, c.events_total, c.kinds_total, c.seconds) == (3, 3, 2, 16)


def test_a_repeat_counts_once_and_its_time_is_repeat_share():
    spans = [Span("lobby", 12, 18), Span("lobby", 72, 78)]  # the same visitor twice
    c = coverage(spans, _day())
    assert c.events == pytest.approx(1 / 3) and c.kinds == pytest.approx(0.5)
    assert c.repeats == pytest.approx(0.5)


def test_quiet_time_and_the_other_camera_do_not_cover():
    spans = [Span("lobby", 0, 10.5), Span("lot", 10, 14)]  # 0.5 s of an event is too little; lot times are its own
    c = coverage(spans, _day())
    assert c.events == 0.0
    assert c.quiet == pytest.approx(9 / 14.5)


def test_uniform_parts_spread_over_every_camera():
    spans = uniform_spans(type("Day", (), {"streams": _day()})(), budget_s=20.0, part_s=5.0)
    assert len(spans) == 4 and all(s.length == 5.0 for s in spans)
    assert [s.stream_id for s in spans] == ["lobby", "lobby", "lot", "lot"]
    assert all(s.start >= 1000 and s.end <= 1100 for s in spans if s.stream_id == "lot")
