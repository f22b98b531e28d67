"""Windowed score fusion, online shots and the budget: the numpy parts the live runtime shares."""

from __future__ import annotations

import numpy as np
import pytest

from vgsum.runtime.summary.fusion import ScoreFusion, centre_weights, fuse_offline
from vgsum.runtime.summary.shots import OnlineShotDetector, online_shots


def test_centre_weights_peak_in_the_middle():
    w = centre_weights(9)
    assert w.argmax() == 4 and w[0] == pytest.approx(0.1) and w[-1] == pytest.approx(0.1)


def test_fusion_weighted_mean_and_final_scores_never_change():
    fusion = ScoreFusion(edge_weight=0.1)
    fusion.add_window(0, np.array([1.0, 1.0, 1.0]))
    fusion.add_window(2, np.array([0.0, 0.0, 0.0]))
    # step 2: edge of window 1 (w 0.1, score 1), edge of window 2 (w 0.1, score 0) -> 0.5
    assert fusion.score(2) == pytest.approx(0.5)
    assert fusion.score(1) == pytest.approx(1.0)
    final = fusion.pop_final(2)
    assert [f.index for f in final] == [0, 1] and all(f.final for f in final)
    fusion.add_window(0, np.array([0.0, 0.0, 0.0, 0.0]))  # late window: finalised steps stay put
    assert fusion.score(0) is None
    assert [p.index for p in fusion.provisional()] == [2, 3, 4]


def test_fuse_offline_of_a_consistent_scorer_is_exact():
    truth = np.linspace(0, 1, 50)
    fused = fuse_offline(50, 16, 4, lambda a, b: truth[a:b])
    assert np.allclose(fused, truth)


def test_online_shots_cut_at_feature_changes():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=16), rng.normal(size=16)
    x = np.vstack([np.tile(a, (6, 1)), np.tile(b, (5, 1))]) + 0.01 * rng.normal(size=(11, 16))
    assert online_shots(x, threshold=0.3, min_len=1, max_len=10).tolist() == [[0, 5], [6, 10]]
    assert online_shots(x, threshold=0.3, min_len=1, max_len=4).tolist() == [[0, 3], [4, 5], [6, 9], [10, 10]]


def test_min_len_delays_a_cut():
    det = OnlineShotDetector(threshold=0.3, min_len=3, max_len=10)
    a, b = np.eye(4)[0], np.eye(4)[1]
    assert [det.update(f) for f in [a, b, b, a]] == [False, False, False, True]
