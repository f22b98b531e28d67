"""Our KTS recovers the change points of synthetic piecewise-constant features."""

from __future__ import annotations

import numpy as np

from vgsum.models.eval.kts import change_points_to_shots, kts_auto, kts_fixed, kts_shots, linear_kernel


def piecewise(boundaries, n, dim=32, noise=0.15, seed=0):
    rng = np.random.default_rng(seed)
    edges = [0, *boundaries, n]
    parts = [np.tile(rng.normal(size=dim), (b - a, 1)) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return np.vstack(parts) + noise * rng.normal(size=(n, dim))


def test_fixed_count_recovers_synthetic_change_points():
    truth = [13, 30, 41, 70]
    x = piecewise(truth, 90)
    points, cost = kts_fixed(linear_kernel(x), len(truth))
    assert points.tolist() == truth
    assert cost > 0


def test_penalised_count_finds_the_number_of_segments():
    truth = [20, 45, 60]
    x = piecewise(truth, 80, seed=1)
    assert kts_auto(linear_kernel(x), 15).tolist() == truth


def test_shots_cover_every_step():
    x = piecewise([10, 25], 40, seed=2)
    shots = kts_shots(x, n_segments=3)
    assert shots.tolist() == [[0, 9], [10, 24], [25, 39]]
    assert change_points_to_shots(np.array([], int), 5).tolist() == [[0, 4]]
