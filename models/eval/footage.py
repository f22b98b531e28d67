"""What did the unsupervised refiner learn? Score a held-out clip and compare with its ground truth.

`python -m vgsum.models.eval.footage --checkpoint runtime/assets/refiner/refiner.pt`
scores `room-people-one-by-one.mp4` (held out of training) as it runs live (the live
window and stride, fused) and asks: do frames with a person in view score higher than empty
frames? It prints mean scores and the AUC (probability that a random person frame
outscores a random empty frame; 0.5 = no preference), next to the same numbers for the
untrained model of the same seed, for the trained model with the objects hidden (frame
feature only: is the preference more than "objects present"?) and for the detector
alone (person detected or not),
so the model card can state honestly what the weights do.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from vgsum.runtime.common.paths import shared_dir

HELD_OUT = "room-people-one-by-one.mp4"
PERSON = 0  # COCO-80 id


def presence(times: np.ndarray, intervals: list[list[float]]) -> np.ndarray:
    """True for each time inside any [start, end] interval."""
    inside = np.zeros(len(times), bool)
    for start, end in intervals:
        inside |= (times >= start) & (times <= end)
    return inside


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U / (n_pos n_neg)), ties counted half."""
    from scipy.stats import rankdata

    pos, neg = int(positive.sum()), int((~positive).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - pos * (pos + 1) / 2) / (pos * neg))


def summary(scores: np.ndarray, positive: np.ndarray) -> dict[str, float]:
    """Mean score with and without the object, and the AUC."""
    return {
        "mean_present": round(float(scores[positive].mean()), 4),
        "mean_absent": round(float(scores[~positive].mean()), 4),
        "auc": round(auc(scores, positive), 4),
    }


def check(checkpoint: Path, video: Path, truth: Path, engines: Path | None, cache: Path | None) -> dict:
    """Scores of the trained model, the untrained model (same seed) and the detector alone, against the truth."""
    from vgsum.models.data.video_features import extract_features, load_perception_engine
    from vgsum.models.train.footage import clip_tensors, load_labels, score_clip
    from vgsum.models.train.loop import build_model, load_checkpoint, seed_everything
    from vgsum.runtime.common.paths import engine_dir

    engines = Path(engines) if engines else engine_dir()
    (clip,) = extract_features([video], engine=load_perception_engine(engines), cache_dir=cache, progress=False)
    model, cfg = load_checkpoint(checkpoint)
    labels = load_labels(engines)
    tensors = clip_tensors(clip, labels, cfg.videograph.max_objects)
    intervals = json.loads(truth.read_text())[video.name]["person"]
    positive = presence(clip.times, intervals)
    seed_everything(cfg.seed)
    untrained = build_model(cfg, model.cfg.d_frame).eval()
    detected = (clip.classes == PERSON) & (np.arange(clip.classes.shape[1])[None] < clip.counts[:, None])
    trained_scores = score_clip(model, tensors)
    blind = replace(tensors, object_mask=tensors.object_mask & False, query_mask=tensors.query_mask & False)
    return {
        "clip": video.name,
        "steps": clip.steps,
        "person_steps": int(positive.sum()),
        "empty_steps": int((~positive).sum()),
        "trained": summary(trained_scores, positive),
        "trained_objects_hidden": summary(score_clip(model, blind), positive),
        "untrained_same_seed": summary(score_clip(untrained, tensors), positive),
        "detector_person_seen": summary(detected.any(1).astype(float), positive),
        "trained_score_quantiles": [round(float(q), 4) for q in np.quantile(trained_scores, [0, 0.25, 0.5, 0.75, 1])],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vgsum.models.eval.footage", description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("runtime/assets/refiner/refiner.pt"))
    parser.add_argument("--video", type=Path, default=shared_dir() / "data" / "videos" / HELD_OUT)
    parser.add_argument("--truth", type=Path, default=shared_dir() / "data" / "videos" / "ground_truth.json")
    parser.add_argument("--engines", type=Path, default=None)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args(argv)
    print(json.dumps(check(args.checkpoint, args.video, args.truth, args.engines, args.cache), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
