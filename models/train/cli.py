"""`vgsum train --config configs/train/X.yaml [--fold k] [--seed s] [--out DIR]`: train on the TVSum pack.

`vgsum train --unsupervised --videos DIR [--out DIR] [--engines DIR] [--seed N] [--epochs N]`: train without
labels on your own footage (vgsum.models.train.footage).

`vgsum train --activity --config configs/train/videograph_activity.yaml [--out DIR] [--export DIR]`: train the
refiner to score scene activity, taught by the live background model (vgsum.models.train.activity).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from vgsum.runtime.common.configfile import load_config
from vgsum.runtime.common.errors import UserError


def main(argv: list[str]) -> int:
    """Train one fold (or all five) and write checkpoints with their config."""
    if "--activity" in argv:  # self-supervised by the live activity signal: its own options
        from vgsum.models.train.activity import main as train_on_activity

        return train_on_activity(argv)
    if any(a == "--unsupervised" or a.startswith("--videos") for a in argv):  # footage has its own options
        from vgsum.models.train.footage import main as train_on_videos

        return train_on_videos(argv)
    parser = argparse.ArgumentParser(prog="vgsum train", description=__doc__)
    parser.add_argument("--config", required=True, type=Path, help="YAML recipe in configs/train/")
    parser.add_argument("--fold", type=int, default=None, help="split index (default: all folds)")
    parser.add_argument("--seed", type=int, default=None, help="overrides the config's seed")
    parser.add_argument("--out", type=Path, default=Path("runs"), help="checkpoint folder (default: runs/)")
    parser.add_argument("--h5", type=Path, default=None, help="benchmark h5 (default: the TVSum pack)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    from vgsum.models.data.tvsum import load_splits, load_videos, tvsum_h5, tvsum_splits
    from vgsum.models.eval.protocol import evaluate_video, mean_scores
    from vgsum.models.train.loop import TrainConfig, predict, save_checkpoint, train_model

    cfg = load_config(args.config, TrainConfig)
    seed = cfg.seed if args.seed is None else args.seed
    videos = load_videos(args.h5 or tvsum_h5())
    splits = load_splits(tvsum_splits(cfg.split_file))
    folds = range(len(splits)) if args.fold is None else [args.fold]
    for fold in folds:
        if not 0 <= fold < len(splits):
            raise UserError(f"--fold {fold}: the split file has folds 0..{len(splits) - 1}")
        started = time.perf_counter()
        split = splits[fold]
        model = train_model(cfg, videos, split["train_keys"], seed=seed, progress=not args.no_progress)
        results = [
            evaluate_video(k, predict(model, v, cfg), v.picks, v.n_frames, v.change_points, v.user_summary,
                           v.user_scores)
            for k in split["test_keys"]
            for v in [videos[k]]
        ]
        score = mean_scores(results)
        path = save_checkpoint(args.out / f"{cfg.name}_fold{fold}_seed{seed}.pt", model, cfg, fold=fold, seed=seed,
                               split_file=cfg.split_file, test=score)
        print(f"fold {fold} seed {seed}: F {score['f_score']:.3f} tau {score['tau']:.3f} rho {score['rho']:.3f} "
              f"({time.perf_counter() - started:.0f} s) -> {path}")
    return 0
