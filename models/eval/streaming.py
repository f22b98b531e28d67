"""Streaming evaluation: the same checkpoint run as it will run live, against the offline result.

Offline: the model sees the whole video, shots are the pack's, the summary is the 15% knapsack.
Live: `frame` once per step, `window` over the latest W steps every S steps, scores fused
(runtime.fusion), shots cut by KTS run on the feature stream (runtime.shot_kts; or the older
threshold cut) and highlights chosen by the look-ahead knapsack (runtime.shots, the live rule).
We report tau/rho of the fused scores and the F-score of the online summary (with the live
default, shots worth their summed score, and with the field's mean-score knapsack), and, to
separate the three effects (windowing, online shots, online selection), the F-score of the
fused scores with the offline shots and knapsack, and with the online shots and the offline
knapsack.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vgsum.models.data.tvsum import Video, normalise_features
from vgsum.models.eval.kts import change_points_to_shots
from vgsum.models.eval.protocol import (
    evaluate_video,
    f_score,
    keyshot_summary,
    rank_correlation,
    shot_scores,
    step_shots_to_frames,
    steps_to_frames,
)
from vgsum.models.eval.table import CONFIG_DIR
from vgsum.runtime.summary.fusion import fuse_offline
from vgsum.runtime.summary.shots import ShotValue, online_shots
from vgsum.runtime.summary.summarizer import SummaryConfig, shot_cutter, shot_selector

STEP_S = 2.0  # one TVSum step is a 2-s clip


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


def step_online_shots(features: np.ndarray, threshold: float) -> np.ndarray:
    """Threshold-cut online shots in steps (1 to 4 steps, 2 to 8 s: the pack's shots average 4 s)."""
    return online_shots(features, threshold=threshold, min_len=1, max_len=4)


def step_kts_shots(features: np.ndarray, delay_s: float = 30.0) -> np.ndarray:
    """Shots in steps as the live KTS cut commits them (runtime/shot_kts.py; the live defaults of SummaryConfig).

    Fed the pack's features as they are (the cut L2-normalises each step, as the pack's KTS does).
    """
    cutter = shot_cutter(SummaryConfig(shot_cut="kts", shot_delay_s=delay_s), fps=1.0 / STEP_S)
    starts = [start for step in features for start in cutter.push(step)] + cutter.flush()
    return change_points_to_shots(np.array(starts, dtype=np.int64), len(features))


def online_summary(shots: np.ndarray, scores: np.ndarray, v: Video, budget: float = 0.15, horizon_s: float = 600.0,
                   delay_s: float = 60.0, value: ShotValue = "total") -> np.ndarray:
    """The live summary as frames: each online shot decided `delay_s` after it ends by the look-ahead knapsack.

    Runs in steps, as the live runtime runs in sampled frames, with the live defaults
    (runtime/summarizer.SummaryConfig: horizon_s 600, decision_delay_s 60, shot_value total).
    """
    cfg = SummaryConfig(budget=budget, horizon_s=horizon_s, decision_delay_s=delay_s, shot_value=value,
                        min_margin=0.0)  # no floor margin, as the offline knapsack it is set against has none
    selector = shot_selector(cfg, fps=1.0 / STEP_S)
    decisions = []
    for (a, b), s in zip(shots, shot_scores(scores, shots), strict=True):
        decisions += selector.add(int(a), int(b), float(s))
    kept = np.zeros(len(scores), dtype=bool)
    for d in decisions + selector.flush():
        kept[d.start : d.end + 1] |= d.highlight
    return steps_to_frames(kept.astype(np.float64), v.picks, v.n_frames) > 0.5


def online_shots_knapsack(shots: np.ndarray, scores: np.ndarray, v: Video) -> np.ndarray:
    """The offline knapsack over the online shots: what selection could reach with the whole video in view."""
    frame_shots = step_shots_to_frames(shots, v.picks, v.n_frames)
    return keyshot_summary(steps_to_frames(scores, v.picks, v.n_frames), frame_shots)


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
    f_offline_shots: float  # pack shots + knapsack
    f_online_shots: float  # online shots + knapsack over the whole video
    f_online: float  # online shots + look-ahead knapsack, shots worth their summed score: the live summary
    f_online_mean: float  # the same with the field's mean-score knapsack (shot_value: mean)
    runs: int


def _f_scores(shots: np.ndarray, scores: np.ndarray, v: Video, delay_s: float) -> tuple[float, float, float]:
    """F of the online shots with the offline knapsack, and of the live summary (summed, then mean shot value)."""
    return (f_score(online_shots_knapsack(shots, scores, v), v.user_summary),
            f_score(online_summary(shots, scores, v, delay_s=delay_s), v.user_summary),
            f_score(online_summary(shots, scores, v, delay_s=delay_s, value="mean"), v.user_summary))


def run_streaming(videos: dict[str, Video], splits: list[dict], folds: list[int], windows: list[int],
                  seeds: int = 1, epochs: int | None = None, shot_cut: str = "kts", shot_delay_s: float = 30.0,
                  decision_delay_s: float = 60.0) -> list[StreamingRow]:
    """Train K=5 per fold and seed, then score offline and windowed on the fold's test videos."""
    from vgsum.models.train.loop import TrainConfig, predict, prepare, train_model
    from vgsum.runtime.common.configfile import load_config

    cfg = load_config(CONFIG_DIR / "videograph_k5.yaml", TrainConfig)
    if epochs is not None:
        cfg = cfg.model_copy(update={"epochs": epochs})
    acc: dict[str, list[tuple[float, ...]]] = {}
    for fold in folds:
        split = splits[fold]
        if shot_cut == "threshold":
            threshold = calibrate_threshold([prepare(videos[k], cfg)[0] for k in split["train_keys"]])
        for seed in range(seeds):
            model = train_model(cfg, videos, split["train_keys"], seed=seed, progress=False)
            per: dict[str, list[tuple[float, ...]]] = {}
            for key in split["test_keys"]:
                v = videos[key]
                x, _ = prepare(v, cfg)
                if shot_cut == "kts":  # the features' shots: the same for every score set
                    shots = step_kts_shots(normalise_features(v.features, "none"), delay_s=shot_delay_s)
                else:
                    shots = step_online_shots(x, threshold)
                off = predict(model, v, cfg)
                o = evaluate_video(key, off, v.picks, v.n_frames, v.change_points, v.user_summary, v.user_scores)
                f_off = _f_scores(shots, off, v, decision_delay_s)
                per.setdefault("offline", []).append((o.tau, o.rho, o.f_score, *f_off))
                gt = v.gtscore.astype(np.float64)
                g = evaluate_video(key, gt, v.picks, v.n_frames, v.change_points, v.user_summary)
                per.setdefault("gtscore (reference, offline scores)", []).append(
                    (np.nan, np.nan, g.f_score, *_f_scores(shots, gt, v, decision_delay_s)))
                for w in windows:
                    s = windowed_scores(model, x, w, stride_for(w))
                    frames = steps_to_frames(s, v.picks, v.n_frames)
                    tau, rho = rank_correlation(frames, v.user_scores)
                    r = evaluate_video(key, s, v.picks, v.n_frames, v.change_points, v.user_summary)
                    per.setdefault(f"W={w} S={stride_for(w)}", []).append(
                        (tau, rho, r.f_score, *_f_scores(shots, s, v, decision_delay_s)))
            for name, vals in per.items():
                acc.setdefault(name, []).append(tuple(np.mean(vals, 0)))
    return [StreamingRow(name, *np.mean(v, 0), len(v)) for name, v in acc.items()]


def format_streaming(rows: list[StreamingRow], shot_cut: str = "kts", shot_delay_s: float = 30.0,
                     decision_delay_s: float = 60.0) -> str:
    off = rows[0]
    cut = (f"the live KTS cut, committed {shot_delay_s:g} s late" if shot_cut == "kts"
           else "the threshold cut, calibrated on the fold's training videos")
    lines = [
        "VideoGraph K=5: offline (whole video) vs live windowing with fusion; gaps are offline minus windowed.",
        f"Online shots: {cut}.",
        "F columns: the pack's shots + knapsack (offline protocol); online shots + knapsack over the whole",
        f"video; online shots + {decision_delay_s:g}-s look-ahead knapsack, shots worth their summed score",
        "(the live summary) and worth their mean score (the field's knapsack, live).",
        "",
        "| setting | tau | rho | F pack shots | F online shots | F live | F live (mean) | tau gap "
        "| F gap (pack shots) | F gap (live vs offline) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        f_cells = f"{r.f_offline_shots:.3f} | {r.f_online_shots:.3f} | {r.f_online:.3f} | {r.f_online_mean:.3f}"
        if np.isnan(r.tau):
            lines.append(f"| {r.setting} | - | - | {f_cells} | | | |")
            continue
        lines.append(
            f"| {r.setting} | {r.tau:.3f} | {r.rho:.3f} | {f_cells} "
            f"| {off.tau - r.tau:+.3f} | {off.f_offline_shots - r.f_offline_shots:+.3f} "
            f"| {off.f_offline_shots - r.f_online:+.3f} |"
        )
    return "\n".join(lines)
