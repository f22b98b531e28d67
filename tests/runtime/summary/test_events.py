"""The camera highlight rule: start at once, update while it lasts, end once with the final span."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from pydantic import ValidationError
from summary_feed import EpochFeed

from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.events import EventRuleConfig, EventTracker, FrameActivity, HighlightPhase
from vgsum.runtime.summary.selection import build_summarizer
from vgsum.runtime.summary.summarizer import FrameInput, HighlightEvent

FPS = 2.0


def _run(scores, cfg: EventRuleConfig | None = None, labels=None, close: bool = True) -> list[HighlightPhase]:
    tracker = EventTracker(cfg or EventRuleConfig(), 1.0 / FPS)
    out: list[HighlightPhase] = []
    for i, s in enumerate(scores):
        frame_labels = Counter(labels[i]) if labels is not None else Counter()
        out += tracker.push(FrameActivity(i / FPS, float(s), frame_labels))
    if close:
        out += tracker.close()
    return out


def _ends(phases: list[HighlightPhase]) -> list[HighlightPhase]:
    return [p for p in phases if p.phase == "end"]


def _check_life_cycles(phases: list[HighlightPhase]) -> None:
    by_id: dict[str, list[HighlightPhase]] = {}
    for p in phases:
        by_id.setdefault(p.id, []).append(p)
    for life in by_id.values():
        assert [p.phase for p in life][0] == "start"
        assert [p.phase for p in life][-1] == "end"
        assert [p.phase for p in life].count("end") == 1
        assert all(p.phase == "update" for p in life[1:-1])
        assert life[-1].end > life[-1].start
        assert all(a.emitted_at <= b.emitted_at for a, b in zip(life, life[1:], strict=False))


def test_quiet_and_flicker_below_the_bar_give_nothing() -> None:
    rng = np.random.default_rng(0)
    assert _run(np.zeros(600)) == []
    assert _run(rng.uniform(0.0, 0.35, 3600)) == []  # 30 min of flicker under `end_below`
    assert _run(np.tile([0.0, 0.9], 300)) == []  # single frames above `start_above`: never min_s long


def test_a_stretch_of_activity_starts_at_once_updates_and_ends_with_its_span() -> None:
    scores = np.zeros(200)
    scores[40:100] = 0.9  # 20 s .. 50 s
    scores[38:40] = 0.5  # the run-up above `end_below` belongs to the span
    phases = _run(scores, labels=[["person"] * (2 if 60 <= i < 70 else 1) for i in range(200)])
    _check_life_cycles(phases)
    start, *updates, end = phases
    assert start.phase == "start" and start.start == pytest.approx(19.0)
    assert start.emitted_at - 20.0 <= 1.0  # alert within min_s of the activity
    assert len(updates) == 6  # every 5 s over 30 s
    assert end.start == pytest.approx(19.0) and end.end == pytest.approx(50.0)
    assert end.emitted_at == pytest.approx(49.5 + 3.0)  # end_s below `off`
    assert end.objects == {"person": 2} and end.score == pytest.approx(0.9)


def test_a_short_dip_stays_one_highlight_and_a_long_one_splits() -> None:
    scores = np.zeros(200)
    scores[20:40] = 0.9
    scores[44:60] = 0.9  # 2 s dip < end_s
    scores[80:100] = 0.9  # 10 s later: a new highlight
    ends = _ends(_run(scores))
    assert [(e.start, e.end) for e in ends] == [(10.0, 30.0), (40.0, 50.0)]
    assert len({e.id for e in ends}) == 2


def test_long_activity_is_split_at_max_s_and_the_rate_limit_holds() -> None:
    ends = _ends(_run(np.full(400, 0.9), EventRuleConfig(max_s=30.0)))
    assert len(ends) >= 5 and all(e.end - e.start <= 30.5 for e in ends)
    bursts = np.tile(np.r_[np.full(4, 0.9), np.zeros(8)], 60)  # a 2 s burst every 6 s
    tracker_cfg = EventRuleConfig(end_s=0.5, max_per_min=3)
    tracker = EventTracker(tracker_cfg, 1.0 / FPS)
    phases = [p for i, s in enumerate(bursts) for p in tracker.push(FrameActivity(i / FPS, float(s)))]
    starts = [p.emitted_at for p in phases if p.phase == "start"]
    assert all(b - a >= 0 for a, b in zip(starts, starts[3:], strict=False))
    for i in range(len(starts) - 3):
        assert starts[i + 3] - starts[i] >= 60.0 - 1e-9
    assert tracker.suppressed > 0


def test_close_ends_the_open_highlight_once() -> None:
    scores = np.full(20, 0.9)
    phases = _run(scores, close=False)
    assert [p.phase for p in phases] == ["start", "update"]
    tracker = EventTracker(EventRuleConfig(), 0.5)
    for i, s in enumerate(scores):
        tracker.push(FrameActivity(i / FPS, float(s)))
    end = tracker.close()
    assert [p.phase for p in end] == ["end"] and end[0].end == pytest.approx(10.0)
    assert tracker.close() == []


def test_bad_rule_config_is_refused() -> None:
    with pytest.raises(ValidationError, match="end_below must not exceed"):
        EventRuleConfig(start_above=0.3, end_below=0.5)
    with pytest.raises(ValidationError):
        EventRuleConfig(bogus=1)


def _summarize(activity: np.ndarray, epochs: np.ndarray | None = None) -> list[HighlightEvent]:
    out: list[HighlightEvent] = []
    summarizer = EpochFeed(build_summarizer(
        SummaryConfig(window=16, stride=4),
        node_dim=4,
        window_fn=lambda nodes: np.zeros(len(nodes)),
        sample_fps=FPS,
        on_score=lambda e: None,
        on_highlight=out.append,
    ))
    for i, a in enumerate(activity):
        summarizer.add(
            FrameInput(
                media_time=i / FPS,
                epoch=0 if epochs is None else int(epochs[i]),
                node=np.zeros(4),
                frame_feature=np.zeros(8),
                labels=["person"] if a > 0 else [],
                query_match={},
                activity=float(a),
                motion=float(a),
            )
        )
    summarizer.finish()
    return out


def test_the_summarizer_ends_open_highlights_on_a_reconnect_and_at_the_end() -> None:
    activity = np.zeros(120)
    activity[20:70] = 1.0
    activity[100:] = 1.0
    epochs = np.r_[np.zeros(50, int), np.ones(70, int)]  # a reconnect in the middle of the first visit
    events = _summarize(activity, epochs)
    ends = [e for e in events if e.phase == "end"]
    assert len(ends) == 3
    assert ends[0].end <= 25.0 + 1e-9 and ends[0].epoch == 0  # never spans the reconnect
    assert ends[1].epoch == 1 and ends[2].end == pytest.approx(60.0)  # the end of the stream closes the last
    assert len({e.id for e in ends}) == 3


def test_a_long_lukewarm_stretch_is_not_kept_whole_a_start_reaches_back_at_most_max_s():
    """Hours between the two bars keep the lead-in bounded: memory and per-frame work stay flat, spans stay legal."""
    cfg = EventRuleConfig(max_s=10.0)
    scores = [0.5] * 4000 + [0.9] * 3  # 2000 s between end_below and start_above, then a strong moment
    phases = _run(scores, cfg, close=False)
    starts = [p for p in phases if p.phase == "start"]
    assert len(starts) == 1
    assert starts[0].emitted_at - starts[0].start <= cfg.max_s


def _named(matches: dict[int, dict[str, float]], frames: int = 120) -> str | None:
    """The query the one highlight of a `frames`-long stretch names, with `matches` on some of its frames."""
    tracker = EventTracker(EventRuleConfig(max_s=600.0), 1.0 / FPS)
    out: list[HighlightPhase] = []
    for i in range(frames):
        out += tracker.push(FrameActivity(i / FPS, 0.9, Counter(), query_match=matches.get(i, {})))
    out += tracker.close()
    (end,) = _ends(out)
    return end.query


def test_a_query_seen_on_two_frames_of_a_long_highlight_names_it_and_one_frame_does_not() -> None:
    # a car crossing for 1 s of a minute-long highlight: 2 of 120 frames, a mean of 0.013 per frame
    assert _named({50: {"a car": 0.8}, 51: {"a car": 0.8}}) == "a car"
    assert _named({50: {"a car": 1.0}}) is None  # one frame is not enough (and not a mean of 0.25)
    assert _named({0: {"a car": 1.0}}, frames=3) == "a car"  # a short highlight: one strong frame is its mean
    # of two queries, the one that matched most names it
    both = {i: {"a car": 0.6, "a red car": 0.9 if i < 52 else 0.0} for i in range(50, 60)}
    assert _named(both) == "a car"
