"""False highlights per camera-day: the arithmetic and the table, on hand-made results with known counts."""

from __future__ import annotations

import numpy as np

from vgsum.models.eval.camera_day import CONTROL, STREAMS, format_camera_day, per_day
from vgsum.models.eval.event_metrics import Highlight, Spans, evaluate_clip


def _result(hours: float, events: list[tuple[float, float]], highlights: list[tuple[float, float]]):
    duration = hours * 3600
    quiet = ((0.0, events[0][0] - 1.0), (events[0][1] + 1.0, duration))
    spans = Spans(events=tuple(events), quiet=quiet, duration=duration)
    times = np.arange(0.0, duration, 60.0)
    scores = np.zeros_like(times)
    return evaluate_clip(spans, times, scores, [Highlight(s, e, s + 1.0) for s, e in highlights])


def test_per_day_scales_false_highlights_to_24_hours() -> None:
    assert per_day(1, 4.0) == 6.0
    assert per_day(0, 24.0) == 0.0
    assert per_day(3, 0.0) is None


def test_the_table_counts_false_highlights_per_stream_and_pools_the_nuisance_streams_apart_from_the_control() -> None:
    one_event = [(100.0, 130.0)]
    results = {
        "vgsum": {
            CONTROL: _result(4.0, one_event, [(101.0, 120.0)]),  # the event, nothing else
            STREAMS[1]: _result(4.0, one_event, [(101.0, 120.0), (5000.0, 5010.0)]),  # one false
            STREAMS[2]: _result(4.0, one_event, [(5000.0, 5010.0), (9000.0, 9010.0)]),  # two false, event missed
        }
    }
    lines = format_camera_day(results).splitlines()
    rows = {line.split()[0]: line.split() for line in lines if line.startswith("cam-")}
    assert rows[CONTROL][5:8] == ["1", "0", "0.00"]  # highlights, false, false per day
    assert rows[STREAMS[1]][5:8] == ["2", "1", "6.00"]
    assert rows[STREAMS[2]][4:8] == ["0.00", "2", "2", "12.00"]  # recall 0, two false: 12 a day
    pooled = next(line for line in lines if line.startswith("all nuisance streams")).split()
    assert pooled[4:10] == ["8.00", "2", "0.50", "4", "3", "9.00"]  # 8 h, control left out: 3 false in 8 h
