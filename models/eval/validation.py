"""Recipe choices made without the test videos: nested validation inside each fold's training keys.

For outer fold k, a fixed random 8 of its 40 training videos are held out; the recipe trains
on the other 32 and is scored on those 8 by the same protocol as the table. The fold's test
videos are never read. This is how `configs/train/*.yaml` were chosen (BENCHMARKS.md lists
the candidates and their validation scores), and how anyone can try a change:
`vgsum eval validate --recipe videograph_k5 --set videograph.max_distance=16`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import yaml

from vgsum.models.data.tvsum import Video
from vgsum.models.eval.protocol import mean_scores
from vgsum.runtime.common.errors import UserError

HELD_OUT = 8


def inner_split(split: dict, fold: int, held_out: int = HELD_OUT) -> tuple[list[str], list[str]]:
    """(inner training keys, validation keys) drawn from the fold's training keys only."""
    keys = list(np.random.default_rng(100 + fold).permutation(sorted(split["train_keys"])))
    return [str(k) for k in keys[held_out:]], [str(k) for k in keys[:held_out]]


def apply_overrides(recipe: dict, overrides: list[str]) -> dict:
    """`key.sub=value` strings (value read as YAML) applied to a recipe dict."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in recipe.items()}
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set {item!r}: expected key=value, e.g. videograph.max_distance=16")
        *parents, leaf = key.strip().split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise UserError(f"--set {item!r}: {part} is not a section")
        node[leaf] = yaml.safe_load(text)
    return out


@dataclass
class ValidationResult:
    recipe: str
    overrides: list[str]
    seeds: int
    per_fold: list[dict[str, float]]
    seconds: float

    def mean(self, metric: str) -> float:
        return float(np.mean([r[metric] for r in self.per_fold]))

    def line(self) -> str:
        taus = " ".join(f"{r['tau']:.3f}" for r in self.per_fold)
        change = ", ".join(self.overrides) or "(as written)"
        return (f"| {self.recipe} | {change} | {self.mean('tau'):.4f} | {self.mean('rho'):.4f} "
                f"| {self.mean('f_score'):.3f} | {taus} | {self.seeds} | {self.seconds:.0f} |")


def validate(videos: dict[str, Video], splits: list[dict], recipe: str, overrides: list[str], folds: list[int],
             seeds: list[int], progress: bool = True) -> ValidationResult:
    """Train the (overridden) recipe on each fold's inner training keys; score its validation keys.

    A fold's cell is the mean over seeds: one seed swings validation tau by about 0.01.
    """
    from vgsum.models.eval.table import CONFIG_DIR, score_videos
    from vgsum.models.train.loop import TrainConfig, predict, train_model
    from vgsum.runtime.common.configfile import parse_config

    path = CONFIG_DIR / f"{recipe.removesuffix('.yaml')}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")))
        raise UserError(f"--recipe {recipe!r}: no such recipe in configs/train ({known})")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    cfg = parse_config(apply_overrides(data, overrides), TrainConfig, where=f"{path.name} with --set")
    started, per_fold = time.perf_counter(), []
    for fold in folds:
        train_keys, val_keys = inner_split(splits[fold], fold)
        runs = []
        for seed in seeds:
            model = train_model(cfg, videos, train_keys, seed=seed, progress=progress)
            scores = {k: predict(model, videos[k], cfg) for k in val_keys}
            runs.append(mean_scores(score_videos(videos, val_keys, scores)))
        per_fold.append({m: float(np.mean([r[m] for r in runs])) for m in runs[0]})
    return ValidationResult(path.stem, overrides, len(seeds), per_fold, time.perf_counter() - started)


HEADER = ["| recipe | change | val tau | val rho | val F | tau per fold | seeds | seconds |",
          "| --- | --- | --- | --- | --- | --- | --- | --- |"]
