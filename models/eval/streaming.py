"""Streaming evaluation: the same checkpoint run as it will run live, against the offline result.

Offline: the model sees the whole video, shots are the pack's, the summary is the 15% knapsack.
Live: `frame` once per step, `window` over the latest W steps every S steps, scores fused
(`vgsum.models.windowed`), shots cut on the feature stream by the live cut (KTS, or the
threshold cut) and highlights chosen by the live look-ahead knapsack, all built from a
`SummaryConfig` whose defaults are the live runtime's. We report tau/rho of the fused scores
and the F-score of the online summary (with the live shot value and with the field's
mean-score knapsack), and, to separate the three effects (windowing, online shots, online
selection), the F-score of the fused scores with the offline shots and knapsack, and with the
online shots and the offline knapsack.
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
from vgsum.models.windowed import windowed_scores
from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.knapsack_summary import shot_cutter, shot_selector
from vgsum.runtime.summary.shots import online_shots

STEP_S = 2.0  # one TVSum step is a 2-s clip
LIVE = SummaryConfig()  # the live runtime's defaults


def stride_for(window: int, live: SummaryConfig = LIVE) -> int:
    """The live stride, but at least 4 windows per step for short windows."""
    return max(1, min(live.stride, window // 4))


@torch.no_grad()
def video_windowed_scores(model, features: np.ndarray, window: int, stride: int) -> np.ndarray:
    """Fused step scores of the live windowing over one video's (normalised) features."""
    nodes = model.frame(torch.from_numpy(features)[None])[0]  # once per step
    return windowed_scores(model, nodes, window, stride)


def step_online_shots(features: np.ndarray, threshold: float) -> np.ndarray:
    """Threshold-cut online shots in steps (1 to 4 steps, 2 to 8 s: the pack's shots average 4 s)."""
    return online_shots(features, threshold=threshold, min_len=1, max_len=4)


def step_kts_shots(features: np.ndarray, live: SummaryConfig = LIVE) -> np.ndarray:
    """Shots in steps as the live KTS cut commits them (`live`'s shot settings, its shot_cut aside).

    Fed the pack's features as they are (the cut L2-normalises each step, as the pack's KTS does).
    """
    cutter = shot_cutter(live.model_copy(update={"shot_cut": "kts"}), fps=1.0 / STEP_S)
    starts = [start for step in features for start in cutter.push(step)] + cutter.flush()
    return change_points_to_shots(np.array(starts, dtype=np.int64), len(features))


def online_summary(shots: np.ndarray, scores: np.ndarray, v: Video, live: SummaryConfig = LIVE) -> np.ndarray:
    """The live summary as frames: each online shot decided `live.decision_delay_s` after it ends by the
    look-ahead knapsack, within `live.budget` of `live.horizon_s`, shots worth `live.shot_value`.

    Runs in steps, as the live runtime runs in sampled frames. No floor margin: the offline knapsack it is
    set against has none.
    """
    selector = shot_selector(live.model_copy(update={"min_margin": 0.0}), fps=1.0 / STEP_S)
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


def _f_scores(shots: np.ndarray, scores: np.ndarray, v: Video, live: SummaryConfig) -> tuple[float, float, float]:
    """F of the online shots with the offline knapsack, and of the live summary (live shot value, then mean)."""
    return (f_score(online_shots_knapsack(shots, scores, v), v.user_summary),
            f_score(online_summary(shots, scores, v, live), v.user_summary),
            f_score(online_summary(shots, scores, v, live.model_copy(update={"shot_value": "mean"})), v.user_summary))


def run_streaming(videos: dict[str, Video], splits: list[dict], folds: list[int], windows: list[int],
                  seeds: int = 1, epochs: int | None = None, live: SummaryConfig = LIVE) -> list[StreamingRow]:
    """Train K=5 per fold and seed, then score offline and windowed on the fold's test videos.

    Online shots and selection follow `live` (shot_cut, shot_delay_s, decision_delay_s, budget, horizon_s,
    shot_value); the threshold cut's threshold is calibrated on the fold's training videos instead.
    """
    from vgsum.models.train.loop import TrainConfig, predict, prepare, train_model
    from vgsum.runtime.common.configfile import load_config

    cfg = load_config(CONFIG_DIR / "videograph_k5.yaml", TrainConfig)
    if epochs is not None:
        cfg = cfg.model_copy(update={"epochs": epochs})
    acc: dict[str, list[tuple[float, ...]]] = {}
    for fold in folds:
        split = splits[fold]
        if live.shot_cut == "threshold":
            threshold = calibrate_threshold([prepare(videos[k], cfg)[0] for k in split["train_keys"]])
        for seed in range(seeds):
            model = train_model(cfg, videos, split["train_keys"], seed=seed, progress=False)
            per: dict[str, list[tuple[float, ...]]] = {}
            for key in split["test_keys"]:
                v = videos[key]
                x, _ = prepare(v, cfg)
                if live.shot_cut == "kts":  # the features' shots: the same for every score set
                    shots = step_kts_shots(normalise_features(v.features, "none"), live)
                else:
                    shots = step_online_shots(x, threshold)
                off = predict(model, v, cfg)
                o = evaluate_video(key, off, v.picks, v.n_frames, v.change_points, v.user_summary, v.user_scores)
                f_off = _f_scores(shots, off, v, live)
                per.setdefault("offline", []).append((o.tau, o.rho, o.f_score, *f_off))
                gt = v.gtscore.astype(np.float64)
                g = evaluate_video(key, gt, v.picks, v.n_frames, v.change_points, v.user_summary)
                per.setdefault("gtscore (reference, offline scores)", []).append(
                    (np.nan, np.nan, g.f_score, *_f_scores(shots, gt, v, live)))
                for w in windows:
                    s = video_windowed_scores(model, x, w, stride_for(w, live))
                    frames = steps_to_frames(s, v.picks, v.n_frames)
                    tau, rho = rank_correlation(frames, v.user_scores)
                    r = evaluate_video(key, s, v.picks, v.n_frames, v.change_points, v.user_summary)
                    per.setdefault(f"W={w} S={stride_for(w, live)}", []).append(
                        (tau, rho, r.f_score, *_f_scores(shots, s, v, live)))
            for name, vals in per.items():
                acc.setdefault(name, []).append(tuple(np.mean(vals, 0)))
    return [StreamingRow(name, *np.mean(v, 0), len(v)) for name, v in acc.items()]


def format_streaming(rows: list[StreamingRow], live: SummaryConfig = LIVE) -> str:
    off = rows[0]
    cut = (f"the live KTS cut, committed {live.shot_delay_s:g} s late" if live.shot_cut == "kts"
           else "the threshold cut, calibrated on the fold's training videos")
    value = "their summed score" if live.shot_value == "total" else "their mean score"
    lines = [
        "VideoGraph K=5: offline (whole video) vs live windowing with fusion; gaps are offline minus windowed.",
        f"Online shots: {cut}.",
        "F columns: the pack's shots + knapsack (offline protocol); online shots + knapsack over the whole",
        f"video; online shots + {live.decision_delay_s:g}-s look-ahead knapsack, shots worth {value}",
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
