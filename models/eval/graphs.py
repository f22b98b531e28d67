"""Per refinement step, how the temporal graph's adjacency changes: mean row entropy and edge density.

Trains VideoGraph with K = 0..max_k on one fold and logs, for every step k of each model,
the adjacency A_k's mean row entropy (nats; log W is uniform) and edge density (share of
entries above 1/W), averaged over the fold's test videos, with the model's tau/rho.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vgsum.models.data.tvsum import Video
from vgsum.models.eval.protocol import mean_scores
from vgsum.models.eval.table import CONFIG_DIR, score_videos
from vgsum.models.videograph import adjacency_stats


@dataclass
class GraphRow:
    k: int
    entropy: list[float]  # per step 0..K
    density: list[float]
    tau: float
    rho: float
    f_score: float


def run_graphs(videos: dict[str, Video], splits: list[dict], fold: int, max_k: int, epochs: int | None = None,
               seed: int = 0) -> list[GraphRow]:
    from vgsum.models.train.loop import TrainConfig, prepare, train_model
    from vgsum.runtime.common.configfile import load_config

    base = load_config(CONFIG_DIR / "videograph_k5.yaml", TrainConfig)
    split = splits[fold]
    rows = []
    for k in range(max_k + 1):
        cfg = base.model_copy(update={"videograph": base.videograph.model_copy(update={"refine_steps": k})})
        if epochs is not None:
            cfg = cfg.model_copy(update={"epochs": epochs})
        model = train_model(cfg, videos, split["train_keys"], seed=seed, progress=False)
        entropies, densities, scores = [], [], {}
        with torch.no_grad():
            for key in split["test_keys"]:
                x, _ = prepare(videos[key], cfg)
                mask = torch.ones(1, len(x), dtype=torch.bool)
                s, graphs = model.window_with_graphs(model.frame(torch.from_numpy(x)[None]), mask)
                scores[key] = s[0].numpy().astype(np.float64)
                stats = [adjacency_stats(a, mask) for a in graphs]
                entropies.append([e for e, _ in stats])
                densities.append([d for _, d in stats])
        m = mean_scores(score_videos(videos, split["test_keys"], scores))
        rows.append(GraphRow(k, list(np.mean(entropies, 0)), list(np.mean(densities, 0)), m["tau"], m["rho"],
                             m["f_score"]))
    return rows


def format_graphs(rows: list[GraphRow]) -> str:
    max_k = max(r.k for r in rows)
    head = " | ".join(f"A_{k}" for k in range(max_k + 1))
    lines = [
        "entropy (nats) / edge density per refinement step, mean over the fold's test videos",
        "",
        f"| K | tau | rho | F | {head} |",
        "| --- " * (max_k + 5) + "|",
    ]
    for r in rows:
        cells = [f"{e:.2f} / {d:.2f}" for e, d in zip(r.entropy, r.density, strict=True)]
        cells += [""] * (max_k + 1 - len(cells))
        lines.append(f"| {r.k} | {r.tau:.3f} | {r.rho:.3f} | {r.f_score:.3f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
