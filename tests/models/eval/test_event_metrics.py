"""Event metrics on hand-made traces whose answers are worked out by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vgsum.models.eval.event_metrics import (
    ClipResult,
    Highlight,
    Spans,
    evaluate_clip,
    load_spans,
    pool,
    roc_auc,
    score_auc,
    touches,
)

# 100 s: three events (the last two overlap), quiet 9 + 10 + 40 = 59 s, the rest neither.
TRUTH = Spans(
    events=((10.0, 20.0), (40.0, 50.0), (45.0, 55.0)),
    quiet=((0.0, 9.0), (25.0, 35.0), (60.0, 100.0)),
    duration=100.0,
)
TIMES = np.arange(0.0, 100.0, 0.5)
FLAT = np.zeros_like(TIMES)
QUIET_HOURS = 59.0 / 3600.0


def test_perfect_highlights():
    highlights = [Highlight(10.0, 20.0, 12.0), Highlight(40.0, 55.0, 41.0)]
    r = evaluate_clip(TRUTH, TIMES, FLAT, highlights)
    assert (r.events, r.detected, r.recall) == (3, 3, 1.0)
    assert (r.highlights, r.true_highlights, r.false_highlights, r.precision) == (2, 2, 0, 1.0)
    assert r.false_per_quiet_hour == 0.0
    assert r.quiet_hours == pytest.approx(QUIET_HOURS)
    assert r.latencies_s == pytest.approx([2.0, 1.0, 0.0])  # the third event starts after the alert at 41
    assert r.highlight_s == pytest.approx(25.0)
    assert r.highlight_share == pytest.approx(0.25)


def test_missed_event_and_false_highlight_in_quiet():
    highlights = [Highlight(12.0, 16.0, 17.0), Highlight(70.0, 75.0, 76.0)]
    r = evaluate_clip(TRUTH, TIMES, FLAT, highlights)
    assert r.detected == 1 and r.recall == pytest.approx(1 / 3)
    assert (r.true_highlights, r.false_highlights, r.precision) == (1, 1, 0.5)
    assert r.false_per_quiet_hour == pytest.approx(1 / QUIET_HOURS)  # 61.0 per quiet hour
    assert r.latencies_s == pytest.approx([7.0])


def test_tolerance_is_half_a_second_of_gap():
    just_before = Highlight(35.0, 39.6, 39.6)  # ends 0.4 s before the event at 40: touches
    too_early = Highlight(30.0, 39.4, 39.4)  # ends 0.6 s before: does not
    just_after = Highlight(20.5, 24.0, 24.0)  # starts 0.5 s after the event ending at 20: touches (closed)
    assert touches((just_before.start, just_before.end), (40.0, 50.0))
    assert not touches((too_early.start, too_early.end), (40.0, 50.0))
    r = evaluate_clip(TRUTH, TIMES, FLAT, [just_before])
    assert (r.detected, r.true_highlights) == (1, 1)
    assert r.latencies_s == [0.0]  # alerted before the event began: latency is not negative
    r = evaluate_clip(TRUTH, TIMES, FLAT, [too_early])
    assert (r.detected, r.false_highlights) == (0, 1)
    r = evaluate_clip(TRUTH, TIMES, FLAT, [just_after])
    assert (r.detected, r.true_highlights) == (1, 1)
    assert r.latencies_s == pytest.approx([14.0])
    r = evaluate_clip(TRUTH, TIMES, FLAT, [too_early], tolerance_s=1.0)
    assert r.detected == 1


def test_overlapping_events_covered_by_one_highlight():
    r = evaluate_clip(TRUTH, TIMES, FLAT, [Highlight(46.0, 49.0, 52.0)])
    assert r.detected == 2 and r.recall == pytest.approx(2 / 3)
    assert (r.highlights, r.true_highlights, r.precision) == (1, 1, 1.0)
    assert r.latencies_s == pytest.approx([12.0, 7.0])


def test_first_alert_counts_for_latency():
    highlights = [Highlight(15.0, 19.0, 30.0), Highlight(10.0, 13.0, 14.5)]
    r = evaluate_clip(TRUTH, TIMES, FLAT, highlights)
    assert r.latencies_s == pytest.approx([4.5])
    assert r.highlight_s == pytest.approx(7.0)


def test_auc_by_hand():
    assert roc_auc(np.array([0.8, 0.4]), np.array([0.6, 0.2])) == pytest.approx(0.75)  # 3 of 4 pairs
    assert roc_auc(np.array([0.5, 0.9]), np.array([0.5, 0.1])) == pytest.approx(0.875)  # one tie: 3.5 of 4
    assert roc_auc(np.ones(3), np.ones(5)) == pytest.approx(0.5)
    assert roc_auc(np.array([1.0]), np.array([0.0])) == 1.0
    assert roc_auc(np.array([0.0]), np.array([1.0])) == 0.0
    assert roc_auc(np.array([]), np.array([0.3])) is None
    assert roc_auc(np.array([0.3]), np.array([])) is None
    with pytest.raises(ValueError):
        roc_auc(np.array([np.nan]), np.array([0.1]))


def test_auc_matches_pair_counting_with_ties():
    rng = np.random.default_rng(7)
    for _ in range(20):
        pos = rng.integers(0, 6, rng.integers(1, 30)).astype(float)
        neg = rng.integers(0, 6, rng.integers(1, 30)).astype(float)
        pairs = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
        assert roc_auc(pos, neg) == pytest.approx(pairs / (len(pos) * len(neg)))


def test_score_auc_labels_frames_by_time():
    # Frames: quiet (1 s, 30 s), event (15 s, 42 s), neither (22 s, 57 s: ignored however they score).
    times = np.array([1.0, 15.0, 22.0, 30.0, 42.0, 57.0])
    scores = np.array([0.6, 0.8, 0.0, 0.2, 0.4, 1.0])
    assert score_auc(TRUTH, times, scores) == pytest.approx(0.75)
    r = evaluate_clip(TRUTH, times, scores, [])
    assert r.auc == pytest.approx(0.75)
    with pytest.raises(ValueError):
        score_auc(TRUTH, times, scores[:3])


def test_no_highlights():
    r = evaluate_clip(TRUTH, TIMES, FLAT, [])
    assert (r.detected, r.recall, r.highlights, r.precision) == (0, 0.0, 0, None)
    assert r.false_per_quiet_hour == 0.0 and r.latencies_s == [] and r.highlight_share == 0.0
    assert r.auc == pytest.approx(0.5)  # a flat score ranks nothing


def test_no_events():
    truth = Spans(events=(), quiet=((0.0, 36.0),), duration=36.0)
    r = evaluate_clip(truth, np.arange(0.0, 36.0, 0.5), np.linspace(0, 1, 72), [Highlight(5.0, 10.0, 11.0)])
    assert r.recall is None and r.auc is None
    assert (r.true_highlights, r.false_highlights, r.precision) == (0, 1, 0.0)
    assert r.false_per_quiet_hour == pytest.approx(100.0)  # 1 false in 0.01 h


def test_no_quiet():
    truth = Spans(events=((2.0, 8.0),), quiet=(), duration=10.0)
    r = evaluate_clip(truth, np.arange(0.0, 10.0, 0.5), np.zeros(20), [Highlight(0.0, 1.0, 1.0)])
    assert r.quiet_hours == 0.0 and r.false_per_quiet_hour is None and r.auc is None
    assert (r.detected, r.false_highlights) == (0, 1)


def test_json_round_trip():
    r = evaluate_clip(TRUTH, TIMES, np.sin(TIMES), [Highlight(10.0, 20.0, 12.0), Highlight(70.0, 75.0, 76.0)])
    text = json.dumps(r.to_json())
    assert ClipResult.from_json(json.loads(text)) == r


def test_pool_sums_before_dividing():
    a = evaluate_clip(TRUTH, TIMES, FLAT, [Highlight(10.0, 20.0, 12.0), Highlight(70.0, 75.0, 76.0)])
    one_event = Spans(events=((5.0, 10.0),), quiet=((15.0, 51.0),), duration=60.0)
    t = np.arange(0.0, 60.0, 0.5)
    b = evaluate_clip(one_event, t, inside_score(t, 5.0, 10.0), [Highlight(5.0, 8.0, 9.0)])
    c = evaluate_clip(Spans(events=(), quiet=(), duration=10.0), np.arange(0, 10, 0.5), np.zeros(20), [])
    pooled = pool([a, b, c])
    assert pooled["clips"] == 3
    assert (pooled["events"], pooled["detected"]) == (4, 2)
    assert pooled["recall"] == pytest.approx(0.5)  # not the mean of 1/3 and 1
    assert (pooled["highlights"], pooled["true_highlights"], pooled["false_highlights"]) == (3, 2, 1)
    assert pooled["precision"] == pytest.approx(2 / 3)
    assert pooled["quiet_hours"] == pytest.approx(95.0 / 3600)
    assert pooled["false_per_quiet_hour"] == pytest.approx(3600 / 95.0)
    assert (pooled["auc_mean"], pooled["auc_min"], pooled["auc_clips"]) == (pytest.approx(0.75), 0.5, 2)
    assert pooled["latency_p50_s"] == pytest.approx(3.0)  # latencies 2 and 4
    assert pooled["latency_p95_s"] == pytest.approx(3.9)
    assert pooled["highlight_share"] == pytest.approx((15.0 + 3.0) / 170.0)
    json.dumps(pooled)


def test_pool_of_nothing():
    pooled = pool([])
    assert pooled["recall"] is None and pooled["auc_mean"] is None and pooled["latency_p50_s"] is None


def test_load_spans_of_the_shared_benchmark(shared_data):
    truth = load_spans(shared_data / "events" / "ground_truth.json")
    cars = truth["parking-lot-cars.mp4"]
    assert cars.duration == pytest.approx(30.16)
    assert cars.events[1] == (14.45, 18.3) and cars.quiet[0] == (0.0, 4.4)
    assert len(truth) == 20


def inside_score(times: np.ndarray, start: float, end: float) -> np.ndarray:
    """1 inside [start, end], 0 elsewhere."""
    return ((times >= start) & (times <= end)).astype(float)
