"""Our KTS against the pack's shots on TVSum: how the shots agree, and what they do to F-scores.

The pack's shots are KTS with a fixed count round(duration / 4) on L2-normalised RGB+flow
features (data README). We run our KTS with the same settings (and with Potapov's penalised
count) and compare boundaries, and the F-scores of gtscore summaries built on either set of
shots (the user summaries themselves are defined on the pack's shots).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vgsum.models.data.tvsum import Video, normalise_features
from vgsum.models.eval.kts import kts_shots
from vgsum.models.eval.protocol import f_score, keyshot_summary, step_shots_to_frames, steps_to_frames


@dataclass
class KtsComparison:
    videos: int
    pack_shots: float  # mean shots per video
    ours_fixed_shots: float
    ours_auto_shots: float
    boundary_recall: float  # share of the pack's boundaries our fixed-count KTS puts at the same step
    boundary_within_1: float  # ... within one step
    f_gt_pack: float  # F-score of gtscore summaries on the pack's shots
    f_gt_ours: float  # ... on our fixed-count shots
    f_gt_auto: float  # ... on our penalised-count shots
    f_random_pack: float
    f_random_ours: float


def _boundaries(frame_shots: np.ndarray) -> np.ndarray:
    return frame_shots[1:, 0]


def run_kts_comparison(videos: dict[str, Video], seed: int = 0) -> KtsComparison:
    """Compare on every video of the pack."""
    rng = np.random.default_rng(seed)
    acc: dict[str, list[float]] = {k: [] for k in KtsComparison.__dataclass_fields__ if k != "videos"}
    for v in videos.values():
        x = normalise_features(v.features, "none")
        n_seg = len(v.change_points)  # = round(duration / 4), the pack's fixed count
        fixed = step_shots_to_frames(kts_shots(x, n_segments=n_seg), v.picks, v.n_frames)
        auto = step_shots_to_frames(kts_shots(x, max_segments=n_seg * 2), v.picks, v.n_frames)
        pack_b, ours_b = set(_boundaries(v.change_points).tolist()), _boundaries(fixed)
        steps_of = {int(p): i for i, p in enumerate(v.picks)}
        pack_steps = np.array([steps_of.get(b, -99) for b in pack_b])
        ours_steps = np.array([steps_of.get(int(b), -99) for b in ours_b])
        acc["pack_shots"].append(len(v.change_points))
        acc["ours_fixed_shots"].append(len(fixed))
        acc["ours_auto_shots"].append(len(auto))
        acc["boundary_recall"].append(float(np.mean([b in set(ours_b.tolist()) for b in pack_b])) if pack_b else 1.0)
        near = [np.min(np.abs(ours_steps - s)) <= 1 for s in pack_steps] if len(ours_steps) else [False]
        acc["boundary_within_1"].append(float(np.mean(near)))
        gt = steps_to_frames(v.gtscore, v.picks, v.n_frames)
        rand = steps_to_frames(rng.random(v.n_steps), v.picks, v.n_frames)
        acc["f_gt_pack"].append(f_score(keyshot_summary(gt, v.change_points), v.user_summary))
        acc["f_gt_ours"].append(f_score(keyshot_summary(gt, fixed), v.user_summary))
        acc["f_gt_auto"].append(f_score(keyshot_summary(gt, auto), v.user_summary))
        acc["f_random_pack"].append(f_score(keyshot_summary(rand, v.change_points), v.user_summary))
        acc["f_random_ours"].append(f_score(keyshot_summary(rand, fixed), v.user_summary))
    return KtsComparison(videos=len(videos), **{k: float(np.mean(vals)) for k, vals in acc.items()})


def format_kts(c: KtsComparison) -> str:
    return "\n".join([
        f"KTS on TVSum ({c.videos} videos; linear kernel on L2-normalised RGB|flow steps)",
        "",
        "| shots | shots per video | F (gtscore) | F (random steps) |",
        "| --- | --- | --- | --- |",
        f"| pack (KTS, fixed count) | {c.pack_shots:.1f} | {c.f_gt_pack:.3f} | {c.f_random_pack:.3f} |",
        f"| ours, same fixed count | {c.ours_fixed_shots:.1f} | {c.f_gt_ours:.3f} | {c.f_random_ours:.3f} |",
        f"| ours, penalised count (vmax 1, up to 2x) | {c.ours_auto_shots:.1f} | {c.f_gt_auto:.3f} | - |",
        "",
        f"boundaries of the pack recovered by ours (same count): {c.boundary_recall:.1%} exactly, "
        f"{c.boundary_within_1:.1%} within one step",
    ])
