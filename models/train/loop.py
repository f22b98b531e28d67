"""Training: one loop for every model and objective, and the TVSum recipes it runs.

`TrainConfig` is what `configs/train/*.yaml` hold. `fit` is the loop itself (seed, build,
AdamW, batches, gradient clip) for any batches and any loss: the TVSum recipes below
(`train_model`: supervised or unsupervised on benchmark videos, for VideoGraph, the peer and the
MLP) and the unsupervised training on real footage (`vgsum.models.train.footage`) both run
it, so the two cannot drift apart. `save_checkpoint`/`load_checkpoint` keep the config in the
file so a checkpoint alone rebuilds its model.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator

from vgsum.models import losses
from vgsum.models.data.tvsum import DEFAULT_SPLIT_FILE, Video, normalise_features
from vgsum.models.mlp import MLPConfig, MLPRegressor
from vgsum.models.peer import VASNet, VASNetConfig
from vgsum.models.videograph import VideoGraph, VideoGraphConfig
from vgsum.runtime.common.errors import UserError

Batch = TypeVar("Batch")
LossCurve = list[dict[str, float]]  # per epoch: the mean of each logged term over its batches


class LossWeights(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mse: float = 1.0
    rank: float = 1.0
    sparsity: float = 0.0
    diversity: float = 0.0
    representativeness: float = 0.0
    sigma: float = 0.15
    margin: float = 0.05


class TrainConfig(BaseModel):
    """One training recipe (a YAML file in configs/train/)."""

    model_config = ConfigDict(extra="forbid")
    name: str = "videograph"
    model: Literal["videograph", "peer", "mlp"] = "videograph"
    mode: Literal["supervised", "unsupervised"] = "supervised"
    videograph: VideoGraphConfig = Field(default_factory=VideoGraphConfig)
    peer: VASNetConfig = Field(default_factory=VASNetConfig)
    mlp: MLPConfig = Field(default_factory=MLPConfig)
    loss: LossWeights = LossWeights()
    epochs: int = Field(40, ge=1)
    batch_size: int = Field(4, ge=1)
    lr: float = 5e-4
    weight_decay: float = 1e-3
    crop: int = Field(0, ge=0)  # train on random crops of this many steps (0 = whole videos)
    normalise: Literal["l2", "standard", "none"] = "l2"
    target: Literal["minmax", "raw"] = "minmax"
    query: Literal["none", "title"] = "none"  # "title": each video's title embedding is its query (needs query_film)
    split_file: str = DEFAULT_SPLIT_FILE
    seed: int = 0
    threads: int = 2

    @model_validator(mode="after")
    def _title_needs_film(self) -> TrainConfig:
        if self.query == "title" and (self.model != "videograph" or not self.videograph.query_film):
            raise ValueError("query: title needs model: videograph and videograph.query_film: true")
        return self


def build_model(cfg: TrainConfig, d_frame: int) -> torch.nn.Module:
    """The model a config describes, for frame features `d_frame` wide (the data decides the width)."""
    shape = {"peer": cfg.peer, "mlp": cfg.mlp, "videograph": cfg.videograph}[cfg.model]
    if "d_frame" in shape.model_fields_set and shape.d_frame != d_frame:
        raise UserError(f"{cfg.model}.d_frame: the recipe says {shape.d_frame}, the features are {d_frame} wide")
    shape = shape.model_copy(update={"d_frame": d_frame})
    if cfg.model == "peer":
        return VASNet(shape)
    if cfg.model == "mlp":
        return MLPRegressor(shape)
    return VideoGraph(shape)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def fit(
    cfg: TrainConfig,
    d_frame: int,
    epoch_batches: Callable[[np.random.Generator], Iterable[Batch]],
    batch_loss: Callable[[torch.nn.Module, Batch], tuple[torch.Tensor, dict[str, float]]],
    *,
    seed: int | None = None,
    progress: bool = True,
    steps: int | None = None,
) -> tuple[torch.nn.Module, LossCurve]:
    """Train a fresh model of `cfg`; returns it in eval mode with its loss curve.

    `epoch_batches(rng)` yields one epoch's batches (drawing any randomness from `rng`);
    `batch_loss(model, batch)` gives the loss to minimise and the terms to log. `steps`
    stops after that many optimiser steps (0: the fresh model). Deterministic for a seed and thread count.
    """
    from tqdm import tqdm

    seed = cfg.seed if seed is None else seed
    torch.set_num_threads(cfg.threads)
    seed_everything(seed)
    model = build_model(cfg, d_frame)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng(seed)
    curve: LossCurve = []
    done = 0
    model.train()
    for _epoch in tqdm(range(cfg.epochs), desc=f"train {cfg.name}", unit="epoch", disable=not progress, leave=False):
        sums: dict[str, float] = {}
        batches = 0
        for batch in epoch_batches(rng):
            if steps is not None and done >= steps:
                break
            loss, terms = batch_loss(model, batch)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            for name, value in {"loss": float(loss.detach()), **terms}.items():
                sums[name] = sums.get(name, 0.0) + value
            batches += 1
            done += 1
        if batches:
            curve.append({name: total / batches for name, total in sums.items()})
        if steps is not None and done >= steps:
            break
    model.eval()
    return model, curve


# ---------------------------------------------------------------- TVSum recipes


def prepare(video: Video, cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Normalised features and the training target of one video."""
    x = normalise_features(video.features, cfg.normalise)
    y = video.gtscore.astype(np.float32)
    if cfg.target == "minmax":
        y = (y - y.min()) / max(float(y.max() - y.min()), 1e-6)
    return x, y


def pad_batch(items: list[tuple[np.ndarray, np.ndarray]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pad (features, target) pairs to [B,T,D], [B,T], mask [B,T]."""
    T = max(len(x) for x, _ in items)
    B, D = len(items), items[0][0].shape[1]
    feats, targets, mask = np.zeros((B, T, D), np.float32), np.zeros((B, T), np.float32), np.zeros((B, T), bool)
    for i, (x, y) in enumerate(items):
        feats[i, : len(x)], targets[i, : len(y)], mask[i, : len(x)] = x, y, True
    return torch.from_numpy(feats), torch.from_numpy(targets), torch.from_numpy(mask)


def title_queries(cfg: TrainConfig, videos: dict[str, Video], keys: list[str]) -> dict[str, np.ndarray] | None:
    """Each video's title embedding [384] when the recipe asks for title queries, else None."""
    if cfg.query == "none":
        return None
    from vgsum.models.data.titles import embed_titles

    return dict(zip(keys, embed_titles([videos[k].title for k in keys]), strict=True))


def forward_with_nodes(model: torch.nn.Module, feats: torch.Tensor, mask: torch.Tensor,
                       query: torch.Tensor | None = None):
    """Scores and the per-step vectors the diversity term compares (VideoGraph nodes; other models' input)."""
    if isinstance(model, VideoGraph):
        query_mask = None if query is None else torch.ones(query.shape[:2], dtype=torch.bool)
        nodes = model.frame(feats, query=query, query_mask=query_mask)
        return model.window(nodes, mask), nodes
    return model(feats, mask), feats


def objective(cfg: TrainConfig, scores, targets, feats, nodes, mask) -> torch.Tensor:
    """The weighted sum of the loss terms the config asks for (docs/model.md, Losses)."""
    w = cfg.loss
    total = scores.new_zeros(())
    if cfg.mode == "supervised":
        total = total + w.mse * losses.importance_mse(scores, targets, mask)
        if w.rank:
            total = total + w.rank * losses.ranking_hinge(scores, targets, mask, w.margin)
    elif w.representativeness:
        # in a fixed random 256-d projection of the features (distances kept, Johnson-Lindenstrauss): 8x cheaper
        total = total + w.representativeness * losses.representativeness(scores, feats @ _projection(feats.shape[-1]),
                                                                          mask)
    if w.sparsity:
        total = total + w.sparsity * losses.sparsity(scores, mask, w.sigma)
    if w.diversity:
        total = total + w.diversity * losses.diversity(scores, nodes, mask)
    return total


def _projection(dim: int, out: int = 256) -> torch.Tensor:
    """A fixed (seeded, data-independent) Gaussian projection for the unsupervised loss."""
    if dim <= out:
        return torch.eye(dim)
    g = torch.Generator().manual_seed(12345)
    return torch.randn(dim, out, generator=g) / out**0.5


VideoBatch = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]  # feats, targets, mask, query


def train_model(cfg: TrainConfig, videos: dict[str, Video], train_keys: list[str], seed: int | None = None,
                progress: bool = True) -> torch.nn.Module:
    """Train a fresh model on `train_keys`: each epoch visits every video once, in random order."""
    data = [prepare(videos[k], cfg) for k in train_keys]
    queries = title_queries(cfg, videos, train_keys)

    def epoch_batches(rng: np.random.Generator) -> Iterator[VideoBatch]:
        order = rng.permutation(len(data))
        for start in range(0, len(order), cfg.batch_size):
            picked = order[start : start + cfg.batch_size]
            batch = [data[i] for i in picked]
            if cfg.crop:
                batch = [_random_crop(x, y, cfg.crop, rng) for x, y in batch]
            query = None
            if queries is not None:  # [B,1,Dl]: one title per video
                query = torch.from_numpy(np.stack([queries[train_keys[i]] for i in picked]))[:, None]
            yield (*pad_batch(batch), query)

    def batch_loss(model: torch.nn.Module, batch: VideoBatch) -> tuple[torch.Tensor, dict[str, float]]:
        feats, targets, mask, query = batch
        scores, nodes = forward_with_nodes(model, feats, mask, query)
        return objective(cfg, scores, targets, feats, nodes, mask), {}

    model, _ = fit(cfg, data[0][0].shape[1], epoch_batches, batch_loss, seed=seed, progress=progress)
    return model


def _random_crop(x, y, length, rng):
    if len(x) <= length:
        return x, y
    start = int(rng.integers(0, len(x) - length + 1))
    return x[start : start + length], y[start : start + length]


@torch.no_grad()
def predict(model: torch.nn.Module, video: Video, cfg: TrainConfig) -> np.ndarray:
    """Step scores for one whole video (offline: the window is the video)."""
    model.eval()
    x, _ = prepare(video, cfg)
    feats = torch.from_numpy(x)[None]
    mask = torch.ones(1, len(x), dtype=torch.bool)
    queries = title_queries(cfg, {video.key: video}, [video.key])
    query = None if queries is None else torch.from_numpy(queries[video.key])[None, None]  # [1,1,Dl]
    scores, _ = forward_with_nodes(model, feats, mask, query)
    return scores[0].numpy().astype(np.float64)


# ---------------------------------------------------------------- checkpoints


def save_checkpoint(path: Path, model: torch.nn.Module, cfg: TrainConfig, **extra) -> Path:
    """A .pt file with the weights and the config that built them (with the model's own shape, d_frame included)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cfg = cfg.model_copy(update={cfg.model: model.cfg})
    torch.save({"config": cfg.model_dump(), "d_frame": model.cfg.d_frame, "state_dict": model.state_dict(), **extra},
               path)
    return path


def load_checkpoint(path: Path) -> tuple[torch.nn.Module, TrainConfig]:
    """Rebuild the model from a checkpoint written by save_checkpoint."""
    blob = torch.load(Path(path), map_location="cpu", weights_only=True)
    cfg = TrainConfig.model_validate(blob["config"])
    model = build_model(cfg, int(blob["d_frame"]))
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return model, cfg
