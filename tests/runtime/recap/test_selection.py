"""Choosing parts: the knapsack within the budget, and novelty that keeps repeats out."""

from __future__ import annotations

import numpy as np
import pytest

from vgsum.runtime.recap.novelty import NoveltyRamp, novelty
from vgsum.runtime.recap.selection import choose, part_length, resolution_for


def _unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    return a / np.linalg.norm(a)


def test_the_knapsack_fills_the_budget_with_the_most_value():
    durations = [8.0, 6.0, 5.0, 4.0, 3.0]
    values = [0.9, 0.8, 0.7, 0.5, 0.1]
    picked = choose(durations, values, 15.0)
    assert sum(durations[i] for i in picked) <= 15.0
    assert picked == [1, 2, 3]  # 2.0 of value in 15 s beats 8 + 6 (1.7)


def test_nothing_fits_and_valueless_parts_never_fill_time():
    assert choose([20.0, 30.0], [1.0, 1.0], 10.0) == []
    assert choose([2.0, 2.0], [0.0, 1.0], 10.0) == [1]
    assert choose([], [], 10.0) == []


def test_the_knapsack_table_stays_bounded_on_long_budgets():
    assert resolution_for(180.0, 50) == pytest.approx(0.1)
    step = resolution_for(4320.0, 2000)
    assert 2000 * 4320.0 / step <= 40_000_000


def test_a_repeat_loses_its_novelty_and_a_different_look_keeps_it():
    car = _unit([1, 0.1, 0])
    same_car_again = _unit([1, 0.12, 0.01])
    person = _unit([0, 1, 0.2])
    sigs = np.stack([car, same_car_again, person])
    fresh = novelty(np.array([0.9, 0.8, 0.7]), sigs, ["cam1", "cam1", "cam1"])
    assert fresh[0] == 1.0  # the best-scored one is never a repeat
    assert fresh[1] == pytest.approx(0.0)
    assert fresh[2] == 1.0


def test_likeness_counts_only_within_a_camera_and_only_against_stronger_parts():
    car = _unit([1, 0, 0])
    sigs = np.stack([car, car])
    assert list(novelty(np.array([0.9, 0.8]), sigs, ["cam1", "cam2"])) == [1.0, 1.0]
    weak_first = novelty(np.array([0.2, 0.8]), sigs, ["cam1", "cam1"])
    assert list(weak_first) == [0.0, 1.0]  # the stronger one keeps its value, wherever it lies in time


def test_the_ramp_is_graded_between_distinct_and_same():
    ramp = NoveltyRamp(distinct=0.7, same=0.9)
    assert list(ramp(np.array([0.5, 0.8, 0.95]))) == pytest.approx([1.0, 0.5, 0.0])


def test_with_and_without_diversity_on_hand_made_highlights():
    """Three takes of one car (scores 0.9, 0.85, 0.8) and two visitors (0.6, 0.5), 8 s each, 24 s of budget."""
    car = _unit([1, 0, 0])
    sigs = np.stack([car, car, car, _unit([0, 1, 0]), _unit([0, 0, 1])])
    scores = np.array([0.9, 0.85, 0.8, 0.6, 0.5])
    durations = [8.0] * 5
    top = choose(durations, scores, 24.0)
    diverse = choose(durations, scores * novelty(scores, sigs, ["cam1"] * 5), 24.0)
    assert top == [0, 1, 2]  # without novelty: the same car three times
    assert diverse == [0, 3, 4]  # with it: the car once, and both visitors


def test_part_length_shares_the_budget_within_bounds():
    assert part_length(180.0, 30, 3.0, 10.0) == pytest.approx(6.0)
    assert part_length(180.0, 5, 3.0, 10.0) == 10.0
    assert part_length(60.0, 100, 3.0, 10.0) == 3.0
    assert part_length(60.0, 0, 3.0, 10.0) == 10.0
