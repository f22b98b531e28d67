"""Reads benchmark videos from h5: the pack's TVSum file and the field's usual eccv16-style layout.

Both are one group per video (`video_1`, ...). The pack adds `user_scores` (per-annotator
frame scores for tau/rho), `n_steps`, `title`; the eccv16-style files have `features`
(2 fps GoogLeNet), `gtscore`, `user_summary`, `change_points`, `n_frame_per_seg`, `picks`,
`n_frames`, and no `user_scores`. Splits are JSON lists of {"train_keys", "test_keys"}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.paths import shared_dir

DEFAULT_SPLIT_FILE = "tvsum_splits_nonoverlap.json"


def benchmarks_dir() -> Path:
    """The read-only benchmark pack."""
    return shared_dir() / "data" / "benchmarks"


def tvsum_h5() -> Path:
    return benchmarks_dir() / "tvsum" / "tvsum.h5"


def tvsum_splits(name: str = DEFAULT_SPLIT_FILE) -> Path:
    return benchmarks_dir() / "tvsum" / "splits" / name


@dataclass
class Video:
    """One benchmark video, everything the model and the protocol need."""

    key: str
    features: np.ndarray  # [n_steps, D] float32
    gtscore: np.ndarray  # [n_steps] in [0, 1]
    picks: np.ndarray  # [n_steps] first frame of each step
    n_frames: int
    change_points: np.ndarray  # [n_shots, 2] inclusive frame ranges
    user_summary: np.ndarray  # [n_users, n_frames] 0/1
    user_scores: np.ndarray | None = None  # [n_users, n_frames] annotator scores (TVSum pack only)
    title: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def n_steps(self) -> int:
        return len(self.features)


def _string(value) -> str:
    value = value[()] if hasattr(value, "shape") else value
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def load_videos(path: str | Path, keys: list[str] | None = None, feature_key: str = "features") -> dict[str, Video]:
    """Load videos (all, or `keys`) from a pack-style or eccv16-style h5 file, as it is."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: benchmark file not found (is ../shared/data/benchmarks there?)")
    out: dict[str, Video] = {}
    with h5py.File(path, "r") as f:
        for key in keys or sorted(f.keys(), key=_natural):
            if key not in f:
                raise UserError(f"{path}: no video {key!r}")
            g = f[key]
            picks = g["picks"][...].astype(np.int64)
            n_frames = int(g["n_frames"][()])
            out[key] = Video(
                key=key,
                features=g[feature_key][...].astype(np.float32),
                gtscore=g["gtscore"][...].astype(np.float32),
                picks=picks,
                n_frames=n_frames,
                change_points=g["change_points"][...].astype(np.int64),
                user_summary=g["user_summary"][...].astype(np.uint8),
                user_scores=g["user_scores"][...] if "user_scores" in g else None,
                title=_string(g["title"]) if "title" in g else "",
            )
    return out


def _natural(key: str) -> tuple:
    head, _, tail = key.rpartition("_")
    return (head, int(tail)) if tail.isdigit() else (key, 0)


def load_splits(path: str | Path) -> list[dict[str, list[str]]]:
    """The split file: a list of {"train_keys": [...], "test_keys": [...]}."""
    path = Path(path)
    try:
        splits = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: split file not found") from None
    if not isinstance(splits, list) or not all("train_keys" in s and "test_keys" in s for s in splits):
        raise UserError(f"{path}: expected a list of {{train_keys, test_keys}} objects")
    return splits


def normalise_features(features: np.ndarray, mode: str = "l2") -> np.ndarray:
    """Per-video feature normalisation: "l2" per stream (RGB and flow halves apart), "standard", or "none"."""
    x = np.asarray(features, dtype=np.float32)
    if mode == "none":
        return x
    if mode == "standard":
        return (x - x.mean(0, keepdims=True)) / (x.std(0, keepdims=True) + 1e-6)
    if mode == "l2":
        halves = np.split(x, 2, axis=1) if x.shape[1] % 2 == 0 else [x]
        return np.concatenate([h / np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-6) for h in halves], 1)
    raise ValueError(f"unknown normalisation {mode!r}")
