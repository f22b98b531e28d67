"""The benchmark protocol: the only place that knows how a summary is scored.

Exactly as the field does it (Zhang et al. 2016; DSNet; Otani et al. 2019):
1. step scores -> frame scores through `picks` (step i covers frames [picks[i], picks[i+1]),
   the last step also covers the tail up to n_frames);
2. shot score = mean frame score in the shot;
3. 0/1 knapsack over shots with a capacity of 15% of the video's frames;
4. F-score of the predicted summary against each user summary (frame overlap),
   mean over users on TVSum, max over users on SumMe;
5. Kendall tau and Spearman rho between the predicted frame scores and each annotator's
   frame scores, averaged over annotators (TVSum).
Every model, the random baseline and the ground-truth reference go through this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from vgsum.runtime.summary.knapsack import budget_frames, knapsack

Reduce = Literal["mean", "max"]


def steps_to_frames(step_scores: np.ndarray, picks: np.ndarray, n_frames: int) -> np.ndarray:
    """Upsample per-step scores to per-frame scores: step i covers [picks[i], picks[i+1])."""
    step_scores = np.asarray(step_scores, dtype=np.float64).ravel()
    picks = np.asarray(picks, dtype=np.int64).ravel()
    if len(step_scores) != len(picks):
        raise ValueError(f"{len(step_scores)} step scores for {len(picks)} picks")
    bounds = np.append(picks, n_frames)
    lengths = np.diff(bounds)
    if picks[0] != 0:  # frames before the first pick take the first step's score
        lengths[0] += picks[0]
    if np.any(lengths < 0):
        raise ValueError("picks must be increasing and below n_frames")
    return np.repeat(step_scores, lengths)


def step_shots_to_frames(step_shots: np.ndarray, picks: np.ndarray, n_frames: int) -> np.ndarray:
    """Shots given as inclusive step ranges -> inclusive frame ranges covering 0..n_frames-1."""
    bounds = np.append(np.asarray(picks, dtype=np.int64), n_frames)
    bounds[0] = 0
    shots = np.asarray(step_shots, dtype=np.int64).reshape(-1, 2)
    return np.stack([bounds[shots[:, 0]], bounds[shots[:, 1] + 1] - 1], axis=1)


def shot_scores(frame_scores: np.ndarray, change_points: np.ndarray) -> np.ndarray:
    """Mean frame score of each shot (shots as inclusive frame ranges)."""
    return np.array([float(frame_scores[a : b + 1].mean()) for a, b in change_points])


def keyshot_summary(frame_scores: np.ndarray, change_points: np.ndarray, proportion: float = 0.15) -> np.ndarray:
    """The binary frame summary: shots chosen by 0/1 knapsack on shot scores within `proportion` of frames."""
    change_points = np.asarray(change_points, dtype=np.int64).reshape(-1, 2)
    n_frames = int(change_points[-1, 1]) + 1
    if len(frame_scores) != n_frames:
        raise ValueError(f"{len(frame_scores)} frame scores for shots covering {n_frames} frames")
    lengths = change_points[:, 1] - change_points[:, 0] + 1
    chosen = knapsack(shot_scores(frame_scores, change_points), lengths, budget_frames(n_frames, proportion))
    summary = np.zeros(n_frames, dtype=bool)
    for a, b in change_points[chosen]:
        summary[a : b + 1] = True
    return summary


def f_score_pair(pred: np.ndarray, user: np.ndarray) -> float:
    """Frame-overlap F-score of one predicted summary against one user summary (0 with no overlap)."""
    pred, user = np.asarray(pred, dtype=bool), np.asarray(user, dtype=bool)
    n = min(len(pred), len(user))  # some files disagree by a frame; compare the common part
    pred, user = pred[:n], user[:n]
    overlap = float(np.logical_and(pred, user).sum())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / pred.sum(), overlap / user.sum()
    return 2 * precision * recall / (precision + recall)


def f_score(pred: np.ndarray, user_summaries: np.ndarray, reduce: Reduce = "mean") -> float:
    """F-score against all users: the mean over users (TVSum) or the best user (SumMe)."""
    scores = [f_score_pair(pred, user) for user in np.atleast_2d(user_summaries)]
    return float(np.max(scores) if reduce == "max" else np.mean(scores))


def rank_correlation(frame_scores: np.ndarray, user_scores: np.ndarray) -> tuple[float, float]:
    """Kendall tau-b and Spearman rho against each annotator's frame scores, averaged (Otani et al. 2019)."""
    from scipy.stats import kendalltau, spearmanr

    taus, rhos = [], []
    for rater in np.atleast_2d(user_scores):
        n = min(len(rater), len(frame_scores))
        taus.append(kendalltau(frame_scores[:n], rater[:n]).statistic)
        rhos.append(spearmanr(frame_scores[:n], rater[:n]).statistic)
    # a constant prediction has no rank: scipy says NaN; count it as no correlation
    return float(np.nan_to_num(np.mean(taus))), float(np.nan_to_num(np.mean(rhos)))


@dataclass
class VideoScore:
    """One video's result under the protocol."""

    key: str
    f_score: float
    tau: float
    rho: float


def evaluate_video(
    key: str,
    step_scores: np.ndarray,
    picks: np.ndarray,
    n_frames: int,
    change_points: np.ndarray,
    user_summary: np.ndarray,
    user_scores: np.ndarray | None = None,
    reduce: Reduce = "mean",
    proportion: float = 0.15,
) -> VideoScore:
    """Score one video: keyshot F-score against the user summaries, and tau/rho when raters are given."""
    frames = steps_to_frames(step_scores, picks, n_frames)
    summary = keyshot_summary(frames, change_points, proportion)
    f = f_score(summary, user_summary, reduce)
    tau, rho = rank_correlation(frames, user_scores) if user_scores is not None else (float("nan"),) * 2
    return VideoScore(key, f, tau, rho)


def mean_scores(scores: list[VideoScore]) -> dict[str, float]:
    """Average F, tau, rho over videos (the per-split number)."""
    return {name: float(np.mean([getattr(s, name) for s in scores])) for name in ("f_score", "tau", "rho")}


def summe_user_vs_others(user_summary: np.ndarray) -> float:
    """SumMe's human reference: each user's summary against the others, max over them, averaged over users."""
    users = np.atleast_2d(user_summary)
    return float(np.mean([f_score(users[i], np.delete(users, i, axis=0), "max") for i in range(len(users))]))
