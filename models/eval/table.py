"""The benchmark comparison table: every row scored by the same protocol on the same data in one run.

Rows: random step scores; the pack's gtscore (upper reference); a per-step MLP (the floor a
graph model must clear, docs/model.md, Benchmark protocol); the VASNet peer; VideoGraph
K = 0; VideoGraph K = 5; unsupervised VideoGraph; VideoGraph K = 5 with the title as query.
Each trained row is trained on the fold's train keys and scored on its test keys; VideoGraph
rows (and random) repeat over seeds.
Cells are mean ± std over folds (of the seed means); `runs` counts fold x seed runs.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vgsum.models.data.tvsum import Video
from vgsum.models.eval.protocol import VideoScore, evaluate_video, mean_scores
from vgsum.runtime.common.paths import REPO_ROOT

CONFIG_DIR = REPO_ROOT / "configs" / "train"
TRAINED_ROWS = {  # row name -> recipe
    "mlp": "mlp.yaml",
    "peer": "peer.yaml",
    "videograph_k0": "videograph_k0.yaml",
    "videograph_k5": "videograph_k5.yaml",
    "videograph_unsup": "videograph_unsup.yaml",
    "videograph_title": "videograph_title.yaml",
}
ALL_ROWS = ["random", "gtscore", *TRAINED_ROWS]
SEEDED_ROWS = {"random", "mlp", "peer", "videograph_k0", "videograph_k5", "videograph_unsup", "videograph_title"}


@dataclass
class RowResult:
    """Per (fold, seed) protocol means, plus the time spent training and scoring."""

    name: str
    runs: dict[tuple[int, int], dict[str, float]] = field(default_factory=dict)
    seconds: float = 0.0

    def fold_means(self, metric: str) -> np.ndarray:
        folds = sorted({f for f, _ in self.runs})
        return np.array([np.mean([r[metric] for (f, _), r in self.runs.items() if f == fold]) for fold in folds])

    def cell(self, metric: str) -> str:
        values = self.fold_means(metric)
        return f"{values.mean():.3f} ± {values.std(ddof=1) if len(values) > 1 else 0.0:.3f}"


def score_videos(videos: dict[str, Video], keys: list[str], step_scores: dict[str, np.ndarray]) -> list[VideoScore]:
    """Protocol scores of one fold's test videos (TVSum: mean over users, tau/rho over annotators)."""
    return [
        evaluate_video(k, step_scores[k], v.picks, v.n_frames, v.change_points, v.user_summary, v.user_scores)
        for k in keys
        for v in [videos[k]]
    ]


def row_scores(row: str, videos: dict[str, Video], split: dict, seed: int, epochs: int | None,
               progress: bool) -> dict[str, np.ndarray]:
    """Step scores of the fold's test videos for one row and seed (training the row's model if it has one)."""
    keys = split["test_keys"]
    if row == "random":
        rng = np.random.default_rng(1000 + seed)
        return {k: rng.random(videos[k].n_steps) for k in keys}
    if row == "gtscore":
        return {k: videos[k].gtscore.astype(np.float64) for k in keys}
    from vgsum.models.train.loop import TrainConfig, predict, train_model
    from vgsum.runtime.common.configfile import load_config

    cfg = load_config(CONFIG_DIR / TRAINED_ROWS[row], TrainConfig)
    if epochs is not None:
        cfg = cfg.model_copy(update={"epochs": epochs})
    model = train_model(cfg, videos, split["train_keys"], seed=seed, progress=progress)
    return {k: predict(model, videos[k], cfg) for k in keys}


def run_table(videos: dict[str, Video], splits: list[dict], rows: list[str], folds: list[int], seeds: list[int],
              epochs: int | None = None, save_scores: Path | None = None, progress: bool = True) -> list[RowResult]:
    """Train and score every requested row on every fold (and seed, for seeded rows)."""
    results = []
    for row in rows:
        result = RowResult(row)
        started = time.perf_counter()
        for fold in folds:
            for seed in seeds if row in SEEDED_ROWS else seeds[:1]:
                scores = row_scores(row, videos, splits[fold], seed, epochs, progress)
                result.runs[(fold, seed)] = mean_scores(score_videos(videos, splits[fold]["test_keys"], scores))
                if save_scores is not None:
                    _save(save_scores / row, fold, seed, seed == seeds[0], scores)
        result.seconds = time.perf_counter() - started
        results.append(result)
    return results


def _save(folder: Path, fold: int, seed: int, first: bool, scores: dict[str, np.ndarray]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps({k: [round(float(s), 6) for s in v] for k, v in scores.items()})
    (folder / f"fold{fold}_seed{seed}.json").write_text(text, encoding="utf-8")
    if first:  # fold<k>.json: the first seed, the file an independent scorer reads
        (folder / f"fold{fold}.json").write_text(text, encoding="utf-8")


def format_table(results: list[RowResult], split_file: str) -> str:
    """One markdown table: F-score, tau, rho as mean ± std over folds."""
    lines = [
        f"TVSum, split file {split_file}, pack shots, 15% knapsack; mean ± std over folds (std of seed means)",
        "",
        "| row | F-score | Kendall tau | Spearman rho | runs (fold x seed) | seconds |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(f"| {r.name} | {r.cell('f_score')} | {r.cell('tau')} | {r.cell('rho')} | {len(r.runs)} "
                     f"| {r.seconds:.0f} |")
    return "\n".join(lines)
