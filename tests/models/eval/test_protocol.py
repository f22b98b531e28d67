"""The benchmark protocol on hand-made examples with known answers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import kendalltau, spearmanr

from vgsum.models.eval.protocol import (
    evaluate_video,
    f_score,
    f_score_pair,
    keyshot_summary,
    rank_correlation,
    shot_scores,
    step_shots_to_frames,
    steps_to_frames,
    summe_user_vs_others,
)
from vgsum.runtime.summary.knapsack import budget_frames, knapsack


def brute_force(values, weights, capacity):
    best, best_set = 0.0, ()
    for r in range(len(values) + 1):
        for combo in itertools.combinations(range(len(values)), r):
            if sum(weights[i] for i in combo) <= capacity and sum(values[i] for i in combo) > best:
                best, best_set = sum(values[i] for i in combo), combo
    return best, best_set


def test_knapsack_textbook_optimum():
    # values 60/100/120, weights 10/20/30, capacity 50: take items 1 and 2 (220)
    assert knapsack(np.array([60, 100, 120]), np.array([10, 20, 30]), 50).tolist() == [1, 2]


def test_knapsack_matches_brute_force_on_random_instances():
    rng = np.random.default_rng(3)
    for _ in range(30):
        n = int(rng.integers(1, 9))
        values, weights = rng.random(n), rng.integers(1, 20, n)
        capacity = int(rng.integers(0, 60))
        chosen = knapsack(values, weights, capacity)
        assert weights[chosen].sum() <= capacity
        assert values[chosen].sum() == pytest.approx(brute_force(values, weights, capacity)[0])


def test_knapsack_edge_cases():
    assert knapsack(np.array([]), np.array([]), 10).tolist() == []
    assert knapsack(np.array([5.0]), np.array([11]), 10).tolist() == []
    assert budget_frames(1000) == 150


def test_steps_to_frames_covers_tail():
    frames = steps_to_frames(np.array([0.1, 0.5, 0.9]), np.array([0, 4, 8]), 11)
    assert frames.tolist() == [0.1] * 4 + [0.5] * 4 + [0.9] * 3


def test_step_shots_to_frames():
    shots = step_shots_to_frames(np.array([[0, 1], [2, 2]]), np.array([0, 4, 8]), 11)
    assert shots.tolist() == [[0, 7], [8, 10]]


def test_shot_scores_are_means():
    frames = np.array([1, 1, 0, 0, 0, 3.0])
    assert shot_scores(frames, np.array([[0, 1], [2, 4], [5, 5]])).tolist() == [1.0, 0.0, 3.0]


def test_keyshot_summary_picks_best_shots_within_15_percent():
    # 100 frames, budget 15: shots of 10, 5, 10, 75 frames; best fit is shots 0 and 1 (scores 0.9, 0.8)
    cps = np.array([[0, 9], [10, 14], [15, 24], [25, 99]])
    frames = np.concatenate([np.full(10, 0.9), np.full(5, 0.8), np.full(10, 0.7), np.full(75, 0.95)])
    summary = keyshot_summary(frames, cps)
    assert summary.sum() == 15 and summary[:15].all()


def test_f_score_of_a_known_summary():
    pred = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    user = np.array([0, 0, 1, 1, 1, 1, 0, 0], bool)
    # overlap 2, precision 2/4, recall 2/4 -> F 0.5
    assert f_score_pair(pred, user) == pytest.approx(0.5)
    assert f_score_pair(pred, ~pred) == 0.0


def test_f_score_max_vs_mean_over_users():
    pred = np.array([1, 1, 0, 0], bool)
    users = np.array([[1, 1, 0, 0], [0, 0, 1, 1]], bool)
    assert f_score(pred, users, "max") == pytest.approx(1.0)
    assert f_score(pred, users, "mean") == pytest.approx(0.5)


def test_rank_correlation_averages_scipy_over_annotators():
    rng = np.random.default_rng(0)
    pred = rng.random(200)
    raters = rng.integers(1, 6, (4, 200))
    tau, rho = rank_correlation(pred, raters)
    assert tau == pytest.approx(np.mean([kendalltau(pred, r).statistic for r in raters]))
    assert rho == pytest.approx(np.mean([spearmanr(pred, r).statistic for r in raters]))
    # scores built from the raters' mean correlate clearly; their reversal anti-correlates
    assert rank_correlation(raters.mean(0), raters)[0] > 0.3
    assert rank_correlation(-raters.mean(0), raters)[0] < -0.3
    assert rank_correlation(np.ones(200), raters) == (0.0, 0.0)


def test_evaluate_video_perfect_prediction():
    picks, n = np.array([0, 10, 20, 30]), 40
    cps = np.array([[0, 9], [10, 19], [20, 29], [30, 39]])
    users = np.zeros((2, 40), np.uint8)
    users[:, 10:16] = 1  # 6 of 40 frames: fits in the 15% budget with shot 1 alone? shot is 10 frames > 6
    step = np.array([0.0, 0.0, 0.0, 0.0])
    r = evaluate_video("v", step, picks, n, cps, users, None)
    assert r.f_score == 0.0  # nothing fits (10-frame shots, budget 6): empty summary
    cps = np.array([[0, 9], [10, 15], [16, 19], [20, 29], [30, 39]])
    r = evaluate_video("v", np.array([0.1, 0.9, 0.2, 0.3]), picks, n, cps, users, np.vstack([users, users]) + 1)
    assert r.f_score == pytest.approx(1.0)
    assert r.tau > 0.5


def test_summe_user_vs_others_max():
    users = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1]], bool)
    # users 0 and 1 match each other (1.0); user 2 matches nobody (0.0)
    assert summe_user_vs_others(users) == pytest.approx(2 / 3)


@pytest.mark.benchmark
def test_protocol_reproduces_pack_reference_figures(shared_data):
    from vgsum.models.data.tvsum import load_videos

    videos = load_videos(shared_data / "benchmarks" / "tvsum" / "tvsum.h5", keys=["video_1", "video_2", "video_3"])
    for v in videos.values():
        r = evaluate_video(v.key, v.gtscore, v.picks, v.n_frames, v.change_points, v.user_summary, v.user_scores)
        assert 0.45 < r.f_score < 0.8 and 0.2 < r.tau < 0.6 and r.rho > r.tau


@pytest.mark.benchmark
def test_summe_protocol_on_its_ground_truth(shared_data):
    import h5py

    with h5py.File(shared_data / "benchmarks" / "summe" / "summe_gt.h5", "r") as f:
        scores = [summe_user_vs_others(f[k]["user_summary"][...]) for k in f]
    assert len(scores) == 25
    assert np.mean(scores) == pytest.approx(0.543, abs=0.01)  # the pack README's figure
