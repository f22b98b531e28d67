"""What kind of thing an object is, by ImageNet-1k: the appearance network's own classifier, read with numpy.

The perception engine already computes EfficientNet-Lite0 features for every object (the
last 1280 channels of its 1392-d object feature are RoiAlign of the network's head map)
and the frame (the pooled 1280-d vector). The network's ImageNet classifier is one
fully connected layer, 1280 -> 1000, exported by `vgsum export imagenet` as an .npz with a
sidecar. Applied to an object's head-map feature it costs one small matrix product and no
engine run, and it names what COCO cannot: a taxicab, an ambulance, a golden retriever,
and it is a second opinion when the detector calls a car seen from above a cell phone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vgsum.runtime.common.digest import sha256_of
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.backends import export_command
from vgsum.runtime.engines.manifest import IMAGENET_HEAD, sidecar_name

HEAD_CHANNELS = 1280  # EfficientNet-Lite0's head map; an object feature is [stride-16 (112) | head (1280)]


def _one_blas_thread() -> Any:
    """A context in which numpy's BLAS runs on the calling thread only."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


class ImageNetHead:
    """The 1280 -> 1000 classifier and its class names; `top_k` names an object's likeliest kinds."""

    def __init__(
        self,
        weight: np.ndarray,
        bias: np.ndarray,
        names: Sequence[str],
        name_embeddings: np.ndarray | None = None,
        text_sha256: str | None = None,
    ) -> None:
        if weight.shape != (len(names), HEAD_CHANNELS) or bias.shape != (len(names),):
            raise ValueError(f"classifier {weight.shape} / {bias.shape} does not fit {len(names)} names")
        self.weight = np.ascontiguousarray(weight, dtype=np.float32)
        self.bias = bias.astype(np.float32)
        self.names = list(names)
        # The names through the text engine whose engine file has `text_sha256` (made at export, for the matcher).
        self.name_embeddings = None if name_embeddings is None else np.asarray(name_embeddings, dtype=np.float32)
        self.text_sha256 = text_sha256

    @classmethod
    def load(cls, folder: Path | str) -> ImageNetHead:
        """The head from an engine folder, checked against its sidecar's sha256; a UserError naming the fix."""
        folder = Path(folder).expanduser()
        path = folder / IMAGENET_HEAD
        sidecar = folder / sidecar_name(IMAGENET_HEAD)
        command = export_command("imagenet", folder)
        if not path.is_file() or not sidecar.is_file():
            raise UserError(f"the ImageNet classifier {path} is missing; build it with `{command}`")
        described = json.loads(sidecar.read_text(encoding="utf-8"))
        if sha256_of(path) != described.get("sha256"):
            raise UserError(f"{path} does not match its sidecar; rebuild it with `{command}`")
        with np.load(path, allow_pickle=False) as data:
            embeddings = data["name_embeddings"] if "name_embeddings" in data.files else None
            return cls(
                data["weight"],
                data["bias"],
                [str(n) for n in data["names"]],
                embeddings,
                described.get("extra", {}).get("text_sha256"),
            )

    @classmethod
    def load_optional(cls, folder: Path | str) -> ImageNetHead | None:
        """The head when the folder has one (an older engine folder may not): queries then use labels only."""
        folder = Path(folder).expanduser()
        return cls.load(folder) if (folder / IMAGENET_HEAD).is_file() else None

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Softmax over the 1000 classes for head features [n, 1280] (or whole object features [n, 1392])."""
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2:
            raise ValueError(f"features must be [n, D], got {features.shape}")
        # weight @ x.T reads the 5 MB matrix once in its own layout: 2-3x faster than x @ weight.T. One BLAS thread:
        # a multi-threaded call leaves OpenBLAS's workers spinning beside the engines' own threads, which cost the
        # live pipeline about 30 % more CPU per frame for a product that takes 0.4 ms on one core.
        with _one_blas_thread():
            logits = (self.weight @ features[:, -HEAD_CHANNELS:].T).T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def top_k(self, features: np.ndarray, k: int = 5) -> list[list[tuple[str, float]]]:
        """Each row's k likeliest classes as (name, probability), likeliest first."""
        probs = self.probabilities(features)
        if probs.shape[0] == 0:
            return []
        order = np.argsort(-probs, axis=1)[:, :k]
        return [[(self.names[int(i)], float(row[i])) for i in idx] for row, idx in zip(probs, order, strict=True)]
