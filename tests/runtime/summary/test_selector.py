"""The look-ahead highlight selector: the offline knapsack when it sees everything, the budget when it does not."""

from __future__ import annotations

import numpy as np
import pytest

from vgsum.runtime.summary.knapsack import knapsack
from vgsum.runtime.summary.shots import LookaheadSelector


def _run(selector: LookaheadSelector, shots: list[tuple[int, int, float]]) -> list:
    decisions = []
    for start, end, score in shots:
        decisions += selector.add(start, end, score)
    return decisions + selector.flush()


def _tiling(rng: np.random.Generator, n: int) -> list[tuple[int, int, float]]:
    shots, start = [], 0
    for _ in range(n):
        length = int(rng.integers(2, 9))
        shots.append((start, start + length - 1, float(rng.random())))
        start += length
    return shots


@pytest.mark.parametrize("value", ["mean", "total"])
def test_seeing_the_whole_stream_gives_the_offline_knapsack(value: str) -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        shots = _tiling(rng, 40)
        total = shots[-1][1] + 1
        decisions = _run(LookaheadSelector(0.15, horizon=10**6, delay=10**6, value=value), shots)
        lengths = np.array([b - a + 1 for a, b, _ in shots])
        scores = np.array([s for _, _, s in shots]) * (lengths if value == "total" else 1)
        best = set(knapsack(scores, lengths, int(0.15 * total)).tolist())
        assert [d.highlight for d in decisions] == [i in best for i in range(len(shots))]


def test_summed_value_keeps_the_long_important_shot_the_field_s_mean_trades_for_short_ones() -> None:
    # 200 frames allow 30: the 20-frame shot at 0.9 (and one 8-frame), or all four short shots at 0.6
    scores = [(20, 0.9), (8, 0.6), (8, 0.6), (8, 0.6), (6, 0.6)] + [(10, 0.1)] * 15
    shots, start = [], 0
    for length, score in scores:
        shots.append((start, start + length - 1, score))
        start += length
    kept = {value: [d.score for d in _run(LookaheadSelector(0.15, 1000, 1000, value=value), shots) if d.highlight]
            for value in ("total", "mean")}
    assert kept["total"] == [0.9, 0.6] and kept["mean"] == [0.6] * 4


def test_look_ahead_waits_for_the_better_shot_that_follows() -> None:
    # after 100 dull frames, a good 10-frame shot, then a better one that cannot fit beside it (15 % of 120)
    scores = [0.1] * 10 + [0.8, 0.9] + [0.1] * 8
    shots = [(10 * i, 10 * i + 9, s) for i, s in enumerate(scores)]
    at_once = _run(LookaheadSelector(0.15, horizon=1000, delay=0, margin=0.05), shots)
    ahead = _run(LookaheadSelector(0.15, horizon=1000, delay=10, margin=0.05), shots)
    assert [d.score for d in at_once if d.highlight] == [0.8]
    assert [d.score for d in ahead if d.highlight] == [0.9]


def test_each_shot_is_decided_once_in_order_and_not_before_its_delay() -> None:
    rng = np.random.default_rng(0)
    shots = _tiling(rng, 200)
    selector = LookaheadSelector(0.15, horizon=300, delay=30)
    decided = []
    for start, end, score in shots:
        for d in selector.add(start, end, score):
            assert end - d.end >= 30  # the latest shot ended at least `delay` after it
            decided.append(d)
    decided += selector.flush()
    assert [(d.start, d.end) for d in decided] == [(a, b) for a, b, _ in shots]
    kept = sum(d.end - d.start + 1 for d in decided if d.highlight)
    assert 0.10 < kept / (shots[-1][1] + 1) <= 0.16
    kept_scores = [d.score for d in decided if d.highlight]
    other = [d.score for d in decided if not d.highlight]
    assert np.mean(kept_scores) > np.mean(other) + 0.3


def test_a_static_scene_gives_no_highlight() -> None:
    shots = [(4 * i, 4 * i + 3, 0.5) for i in range(100)]
    assert not any(d.highlight for d in _run(LookaheadSelector(0.15, 400, 20, margin=0.03), shots))
    assert any(d.highlight for d in _run(LookaheadSelector(0.15, 400, 20, margin=0.0), shots))


def test_a_still_scene_whose_scores_flicker_gives_no_highlight_but_a_change_in_it_does() -> None:
    rng = np.random.default_rng(0)
    still = rng.normal(size=64)
    event = rng.normal(size=64)
    kept: dict[float, list[int]] = {}
    for min_change in (0.0, 0.008):
        selector = LookaheadSelector(0.15, horizon=600, delay=20, min_change=min_change)
        decisions = []
        for i in range(60):  # 4-frame shots; scores flicker as a detector's flicker moves them
            look = still + 0.02 * rng.normal(size=64)  # sensor noise: cosine distance ~1e-4
            score = 0.1 + 0.1 * rng.random()
            if i == 40:
                look, score = event, 0.18  # something happens: it looks different, and scores no higher
            decisions += selector.add(4 * i, 4 * i + 3, score, look=look)
        decisions += selector.flush()
        kept[min_change] = [d.start for d in decisions if d.highlight]
    assert len(kept[0.0]) >= 5, "without the gate the flicker fills the budget"
    assert kept[0.008] == [160], kept[0.008]
