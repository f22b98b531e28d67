"""Self-supervised activity recipe: `vgsum train --activity --config configs/train/videograph_activity.yaml`.

The live score mixes the scene-activity signal of `runtime/summary/foreground.py` with the
refiner's window score, but the shipped refiner was trained without any notion of activity
(representativeness, sparsity, diversity). Here the live activity signal itself is the
teacher, so no human labels are needed: every clip is decoded the way the live path samples
it (`sampled_frames`, 2 fps by presentation time), `ForegroundModel` runs causally over it
exactly as the pipeline runs it, and each step's target is
`activity * (0.5 + 0.5 * motion)` (the live mix at its default motion gain). VideoGraph's
window score regresses that target (MSE + pairwise ranking, the existing supervised loss
terms; the unsupervised terms may be added by weight), through the same features,
tensors, windows and training loop as the unsupervised footage recipe, so the refiner
learns to see in perception features what the pixel model sees in pixels.

Teacher traces are cached beside the features (`~/.cache/vgsum/activity-teacher`), keyed
by the clip's sha256, the sampling rate and the background model's settings.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from vgsum.models.data.video_features import DEFAULT_FPS, ClipFeatures, extract_features
from vgsum.models.train.loop import TrainConfig
from vgsum.runtime.common.configfile import load_config
from vgsum.runtime.common.digest import sha256_of
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.manifest import LABELS_FILE

TEACHER_VERSION = 1
TEACHER_FLOOR = 0.5  # target = activity * (FLOOR + (1 - FLOOR) * motion): the live motion gain of 0.5
DEFAULT_OUT = Path("runs/activity")


class ActivityData(BaseModel):
    """Which footage the recipe trains on (the shipped recipe's selection, plus built streams)."""

    model_config = ConfigDict(extra="forbid")
    videos: list[str] = Field(default_factory=lambda: ["../shared/data/videos", "../shared/data/footage"])
    exclude: list[str] = Field(default_factory=lambda: ["room-people-one-by-one.mp4"])
    rating: str | None = "A"
    bundled_clips: bool = True
    # built long streams (`vgsum.models.data.event_streams`) whose every source clip is A-rated and not excluded
    streams: list[str] = Field(default_factory=list)


class ActivityRecipe(BaseModel):
    """A `configs/train/videograph_activity*.yaml` file: the model and loop (`TrainConfig`) and the data."""

    model_config = ConfigDict(extra="forbid")
    train: TrainConfig
    data: ActivityData = Field(default_factory=ActivityData)


# ---------------------------------------------------------------- teacher


def teacher_cache_dir() -> Path:
    """`$VGSUM_ACTIVITY_TEACHER`, else `~/.cache/vgsum/activity-teacher` (never the repository)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vgsum" / "activity-teacher"
    return Path(os.environ.get("VGSUM_ACTIVITY_TEACHER", default))


def live_activity(path: Path, fps: float = DEFAULT_FPS) -> tuple[np.ndarray, np.ndarray]:
    """(times relative to the first frame, teacher target) per live-sampled frame: ForegroundModel run causally."""
    from vgsum.models.eval.baselines import sampled_frames
    from vgsum.runtime.summary.foreground import ForegroundModel

    model = ForegroundModel(fps)
    times, targets = [], []
    for t, rgb in sampled_frames(path, fps):
        activity = model.update(rgb)
        times.append(t)
        targets.append(activity * (TEACHER_FLOOR + (1.0 - TEACHER_FLOOR) * model.motion))
    if not times:
        raise UserError(f"{path.name}: no frames to compute the activity teacher on")
    times_arr = np.asarray(times, np.float64)
    return times_arr - times_arr[0], np.asarray(targets, np.float32)


def teacher_for(path: Path, clip: ClipFeatures, cache_dir: Path | None = None) -> np.ndarray:
    """The teacher at each feature step of `clip` (nearest live-sampled frame in time), cached."""
    from vgsum.runtime.summary.foreground import ForegroundSettings

    folder = Path(cache_dir) if cache_dir else teacher_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    settings = json.dumps(asdict(ForegroundSettings()), sort_keys=True)
    key = hashlib.sha256(f"{TEACHER_VERSION}|{clip.sha256}|{DEFAULT_FPS:g}|{TEACHER_FLOOR}|{settings}".encode())
    cached = folder / f"{path.stem}-{key.hexdigest()[:16]}.npz"
    if cached.is_file():
        with np.load(cached) as data:
            times, targets = data["times"], data["targets"]
    else:
        times, targets = live_activity(path)
        partial = cached.with_suffix(".partial.npz")
        np.savez(partial, times=times, targets=targets)
        os.replace(partial, cached)
    index = np.clip(np.searchsorted(times, clip.times - clip.times[0]), 0, len(times) - 1)
    before = np.clip(index - 1, 0, len(times) - 1)
    nearer = np.abs(times[before] - clip.times) < np.abs(times[index] - clip.times)
    return targets[np.where(nearer, before, index)]


# ---------------------------------------------------------------- data


def stream_paths(names: list[str], data: ActivityData, cache_dir: Path | None = None) -> list[Path]:
    """Built streams whose every source clip passes the rating and the exclusions (others raise: say so)."""
    import fnmatch

    from vgsum.models.data.event_streams import RECIPES, build_streams
    from vgsum.models.data.events import default_clip_dirs, find_clip
    from vgsum.models.train.footage import licence_of, rating_ok

    for name in names:
        if name not in RECIPES:
            raise UserError(f"unknown event-stream recipe {name!r}; known: {', '.join(RECIPES)}")
        for scene in RECIPES[name].scenes:
            rating = licence_of(find_clip(scene.clip, default_clip_dirs())).rating
            if not rating_ok(rating, data.rating) or any(fnmatch.fnmatch(scene.clip, p) for p in data.exclude):
                raise UserError(f"stream {name!r} uses {scene.clip} (rating {rating}): the data section leaves it out")
    return [built.path for built in build_streams(names, cache_dir)] if names else []


def select_training_videos(data: ActivityData) -> list[Path]:
    """The shipped recipe's clip selection (`footage.select_videos`), plus the allowed built streams."""
    from vgsum.models.train.footage import select_videos

    return select_videos(data.videos, data.exclude, data.rating, data.bundled_clips) + stream_paths(data.streams, data)


# ---------------------------------------------------------------- training


def train_on_teacher(cfg: TrainConfig, clips: list, targets: list, progress: bool = True, steps: int | None = None):
    """Fit VideoGraph's window score to the teacher on random windows (the footage recipe's windows and loop)."""
    import torch

    from vgsum.models.train.footage import epoch_windows, window_batch
    from vgsum.models.train.loop import fit

    target_tensors = [torch.from_numpy(np.asarray(t, np.float32)) for t in targets]

    def epoch_batches(rng: np.random.Generator):
        picks = epoch_windows(clips, cfg.crop, rng)
        for start in range(0, len(picks), cfg.batch_size):
            chosen = picks[start : start + cfg.batch_size]
            yield window_batch(clips, chosen), padded_targets(target_tensors, chosen)

    def batch_loss(model, batch):
        return teacher_loss(cfg, model, *batch)

    return fit(cfg, cfg.videograph.d_frame, epoch_batches, batch_loss, progress=progress, steps=steps)


def padded_targets(targets: list, picks: list[tuple[int, int, int]]):
    """Teacher windows [B,W] in the layout of `window_batch` (zero where padded)."""
    import torch

    width = max(length for _, _, length in picks)
    out = torch.zeros(len(picks), width)
    for row, (index, start, length) in enumerate(picks):
        out[row, :length] = targets[index][start : start + length]
    return out


def teacher_loss(cfg: TrainConfig, model, batch, targets):
    """MSE + ranking to the teacher, plus whichever unsupervised terms the recipe weighs; (total, terms)."""
    from vgsum.models import losses
    from vgsum.models.train.footage import score_windows

    w = cfg.loss
    scores, _ = score_windows(model, batch)
    mask = batch.mask
    terms = {"mse": losses.importance_mse(scores, targets, mask)}
    if w.rank:
        terms["rank"] = losses.ranking_hinge(scores, targets, mask, w.margin)
    if w.representativeness:
        terms["representativeness"] = losses.representativeness(scores, batch.frames, mask)
    if w.sparsity:
        terms["sparsity"] = losses.sparsity(scores, mask, w.sigma)
    if w.diversity:
        terms["diversity"] = losses.diversity(scores, batch.frames, mask)
    total = sum(getattr(w, name) * value for name, value in terms.items())
    return total, {name: float(value.detach()) for name, value in terms.items()}


def evaluate(model, cfg: TrainConfig, clips: list, targets: list) -> dict[str, float]:
    """Eval-mode teacher loss over fixed windows, and the Pearson correlation of the scores with the teacher."""
    import torch

    from vgsum.models.train.footage import window_batch

    target_tensors = [torch.from_numpy(np.asarray(t, np.float32)) for t in targets]
    picks = [(i, s, min(cfg.crop, c.steps - s)) for i, c in enumerate(clips) for s in range(0, c.steps, cfg.crop)]
    total, n, got, want = 0.0, 0, [], []
    from vgsum.models.train.footage import score_windows

    with torch.no_grad():
        for start in range(0, len(picks), cfg.batch_size):
            chosen = picks[start : start + cfg.batch_size]
            batch, target = window_batch(clips, chosen), padded_targets(target_tensors, chosen)
            total += float(teacher_loss(cfg, model, batch, target)[0])
            n += 1
            scores, _ = score_windows(model, batch)
            got.append(scores[batch.mask].numpy())
            want.append(target[batch.mask].numpy())
    got_all, want_all = np.concatenate(got), np.concatenate(want)
    corr = float(np.corrcoef(got_all, want_all)[0, 1]) if got_all.std() > 0 and want_all.std() > 0 else 0.0
    return {"loss": total / max(n, 1), "pearson": corr}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vgsum train --activity",
        description="Train the VideoGraph refiner to score scene activity, taught by the live background model.",
    )
    parser.add_argument("--activity", action="store_true", help="(selects this recipe)")
    parser.add_argument("--config", type=Path, required=True, help="configs/train/videograph_activity*.yaml")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--export", type=Path, default=None, metavar="DIR", help="also export the engines into DIR")
    parser.add_argument("--engines", type=Path, default=None, help="engine folder (default: the engine cache)")
    parser.add_argument("--cache", type=Path, default=None, help="feature cache (default ~/.cache/vgsum/features)")
    parser.add_argument("--seed", type=int, default=None, help="overrides the recipe's seed")
    parser.add_argument("--epochs", type=int, default=None, help="overrides the recipe's epochs")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def run(args: argparse.Namespace, argv: list[str]) -> dict:
    """Select clips, extract features and teacher, train, save checkpoint and record (and export); the record."""
    from vgsum.models.data.video_features import load_perception_engine
    from vgsum.models.train.footage import CHECKPOINT, WINDOW, clip_record, clip_tensors, load_labels, write_run
    from vgsum.runtime.common.paths import engine_dir

    recipe = load_config(args.config, ActivityRecipe)
    updates = {k: v for k, v in (("seed", args.seed), ("epochs", args.epochs)) if v is not None}
    if updates.get("epochs", 1) < 1:
        raise UserError("--epochs must be at least 1")
    cfg = recipe.train.model_copy(update=updates)
    started = time.perf_counter()
    engines = Path(args.engines) if args.engines else engine_dir()
    paths = select_training_videos(recipe.data)
    engine = load_perception_engine(engines)
    labels = load_labels(engines)
    clips = extract_features(paths, engine=engine, cache_dir=args.cache, progress=not args.quiet)
    if not clips:
        raise UserError("none of the videos could be decoded")
    by_sha = {sha256_of(p): p for p in reversed(paths)}
    targets = [teacher_for(by_sha[c.sha256], c) for c in clips]
    extract_s = time.perf_counter() - started
    shape = cfg.videograph.model_copy(
        update={"d_frame": clips[0].frame_features.shape[1], "d_object": clips[0].object_features.shape[2],
                "d_lang": labels.shape[1]}
    )
    cfg = cfg.model_copy(update={"videograph": shape})
    tensors = [clip_tensors(c, labels, shape.max_objects) for c in clips]
    train_started = time.perf_counter()
    model, curve = train_on_teacher(cfg, tensors, targets, progress=not args.quiet)
    train_s = time.perf_counter() - train_started
    record = {
        "recipe": "activity teacher (ForegroundModel: activity * (0.5 + 0.5 * motion)); models/train/activity.py",
        "command": "vgsum train " + shlex.join(argv),
        "config": str(args.config),
        "seed": cfg.seed,
        "epochs": cfg.epochs,
        "window": WINDOW,
        "fps": DEFAULT_FPS,
        "word_queries": shape.word_queries,
        "spatial": shape.spatial,
        "refine_steps": shape.refine_steps,
        "clips": [clip_record(by_sha[c.sha256], c) | {"teacher_mean": round(float(np.mean(t)), 4)}
                  for c, t in zip(clips, targets, strict=True)],
        "streams": recipe.data.streams,
        "excluded": recipe.data.exclude,
        "rating": recipe.data.rating,
        "total_duration_s": round(sum(c.duration_s for c in clips), 2),
        "total_steps": sum(c.steps for c in clips),
        "perception_engine_sha256": engine.backend.sidecar.get("sha256"),
        "labels_sha256": sha256_of(engines / LABELS_FILE),
        "loss_curve": curve,
        "final_eval": evaluate(model, cfg, tensors, targets),
        "feature_seconds": round(extract_s, 1),
        "train_seconds": round(train_s, 1),
        "threads": cfg.threads,
    }
    out = Path(args.out)
    write_run(out, model, cfg, record)
    if args.export is not None:
        from vgsum.export.refiner.engine import export_refiner_engine

        export_refiner_engine(Path(args.export), checkpoint=out / CHECKPOINT)
    return record


def main(argv: list[str]) -> int:
    """`vgsum train --activity --config FILE ...`: write refiner.pt and record.json (and the engines with --export)."""
    args = build_parser().parse_args(argv)
    record = run(args, argv)
    final = record["final_eval"]
    print(
        f"trained on {len(record['clips'])} clips ({record['total_duration_s']:.0f} s, {record['total_steps']} steps) "
        f"in {record['train_seconds']:.0f} s; teacher loss {final['loss']:.4f}, pearson {final['pearson']:.3f}; "
        f"wrote {args.out}/refiner.pt" + (f" and engines in {args.export}" if args.export else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
