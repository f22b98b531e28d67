"""Streaming evaluation: the same checkpoint run as it will run live, against the offline result.

Offline: the model sees the whole video, shots are the pack's, the summary is the 15% knapsack.
Live: `frame` once per step, `window` over the latest W steps every S steps, scores fused
(runtime.fusion), shots cut online from the feature stream and highlights chosen by the
running budget (runtime.shots). We report tau/rho of the fused scores and the F-score of
the online summary, and, to separate the two effects, the F-score of the fused scores with
the offline shots and knapsack.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vgsum.models.dataset import Video
from vgsum.models.eval import CONFIG_DIR
from vgsum.models.protocol import (
    evaluate_video,
    f_score,
    rank_correlation,
    shot_scores,
    step_shots_to_frames,
    steps_to_frames,
)
from vgsum.runtime.fusion import fuse_offline
from vgsum.runtime.shots import BudgetSelector, online_shots


def stride_for(window: int) -> int:
    """Live default: every 8 steps, but at least 4 windows per step for short windows."""
    return max(1, min(8, window // 4))


@torch.no_grad()
def windowed_scores(model, features: np.ndarray, window: int, stride: int) -> np.ndarray:
    """Fused step scores of the live windowing over one video's (normalised) features."""
    nodes = model.frame(torch.from_numpy(features)[None])  # once per step

    def score(start: int, end: int) -> np.ndarray:
        part = nodes[:, start:end]
        return model.window(part, torch.ones(part.shape[:2], dtype=torch.bool))[0].numpy()

    return fuse_offline(len(features), window, stride, score)


def online_summary(features: np.ndarray, scores: np.ndarray, v: Video, threshold: float, budget: float = 0.15,
                   horizon: int = 9000) -> np.ndarray:
    """The live summary as frames: online shots, each kept when it clears the running budget quantile."""
    shots = online_shots(features, threshold=threshold, min_len=1, max_len=4)
    frame_shots = step_shots_to_frames(shots, v.picks, v.n_frames)
    frames = steps_to_frames(scores, v.picks, v.n_frames)
    selector = BudgetSelector(budget=budget, horizon=horizon)  # horizon in frames (5 min at 30 fps)
    summary = np.zeros(v.n_frames, dtype=bool)
    for (a, b), s in zip(frame_shots, shot_scores(frames, frame_shots), strict=True):
        if selector.decide(int(a), int(b), float(s)).highlight:
            summary[a : b + 1] = True
    return summary


def calibrate_threshold(features: list[np.ndarray], target_len: float = 2.0) -> float:
    """The cut threshold whose online shots average `target_len` steps on training videos (the pack: 4 s)."""
    best, best_gap = 0.3, np.inf
    for t in np.linspace(0.02, 0.6, 30):
        mean_len = np.mean([len(x) / len(online_shots(x, t, 1, 4)) for x in features])
        if abs(mean_len - target_len) < best_gap:
            best, best_gap = float(t), abs(mean_len - target_len)
    return best


@dataclass
class StreamingRow:
    setting: str
    tau: float
    rho: float
    f_offline_shots: float  # fused scores, pack shots + knapsack
    f_online: float  # fused scores, online shots + budget
    runs: int


def run_streaming(videos: dict[str, Video], splits: list[dict], folds: list[int], windows: list[int],
                  seeds: int = 1, epochs: int | None = None) -> list[StreamingRow]:
    """Train K=5 per fold and seed, then score offline and windowed on the fold's test videos."""
    from vgsum.models.train import TrainConfig, predict, prepare, train_model
    from vgsum.runtime.configfile import load_config

    cfg = load_config(CONFIG_DIR / "videograph_k5.yaml", TrainConfig)
    if epochs is not None:
        cfg = cfg.model_copy(update={"epochs": epochs})
    acc: dict[str, list[tuple[float, float, float, float]]] = {}
    for fold in folds:
        split = splits[fold]
        threshold = calibrate_threshold([prepare(videos[k], cfg)[0] for k in split["train_keys"]])
        for seed in range(seeds):
            model = train_model(cfg, videos, split["train_keys"], seed=seed, progress=False)
            per: dict[str, list[tuple[float, float, float, float]]] = {}
            for key in split["test_keys"]:
                v = videos[key]
                x, _ = prepare(v, cfg)
                off = predict(model, v, cfg)
                o = evaluate_video(key, off, v.picks, v.n_frames, v.change_points, v.user_summary, v.user_scores)
                f_on = f_score(online_summary(x, off, v, threshold), v.user_summary)
                per.setdefault("offline", []).append((o.tau, o.rho, o.f_score, f_on))
                g = evaluate_video(key, v.gtscore, v.picks, v.n_frames, v.change_points, v.user_summary)
                f_gt_on = f_score(online_summary(x, v.gtscore.astype(np.float64), v, threshold), v.user_summary)
                per.setdefault("gtscore (reference, offline scores)", []).append((np.nan, np.nan, g.f_score, f_gt_on))
                for w in windows:
                    s = windowed_scores(model, x, w, stride_for(w))
                    frames = steps_to_frames(s, v.picks, v.n_frames)
                    tau, rho = rank_correlation(frames, v.user_scores)
                    r = evaluate_video(key, s, v.picks, v.n_frames, v.change_points, v.user_summary)
                    f_on = f_score(online_summary(x, s, v, threshold), v.user_summary)
                    per.setdefault(f"W={w} S={stride_for(w)}", []).append((tau, rho, r.f_score, f_on))
            for name, vals in per.items():
                acc.setdefault(name, []).append(tuple(np.mean(vals, 0)))
    return [StreamingRow(name, *np.mean(v, 0), len(v)) for name, v in acc.items()]


def format_streaming(rows: list[StreamingRow]) -> str:
    off = rows[0]
    lines = [
        "VideoGraph K=5: offline (whole video) vs live windowing with fusion; gaps are offline minus windowed",
        "",
        "| setting | tau | rho | F (pack shots + knapsack) | F (online shots + budget) | tau gap | F gap (knapsack) "
        "| F gap (online vs offline) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        if np.isnan(r.tau):
            lines.append(f"| {r.setting} | - | - | {r.f_offline_shots:.3f} | {r.f_online:.3f} | | | |")
            continue
        lines.append(
            f"| {r.setting} | {r.tau:.3f} | {r.rho:.3f} | {r.f_offline_shots:.3f} | {r.f_online:.3f} "
            f"| {off.tau - r.tau:+.3f} | {off.f_offline_shots - r.f_offline_shots:+.3f} "
            f"| {off.f_offline_shots - r.f_online:+.3f} |"
        )
    return "\n".join(lines)
