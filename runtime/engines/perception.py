"""Run the perception engine on a batch of frames: what each frame holds, as small dataclasses.

Edge code: no torch. The engine (made by `vgsum export perception`) does the letterbox,
normalisation, detection, NMS and feature pooling; this wrapper only groups frames of
one size into a batch, runs the backend and slices each frame's real objects out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vgsum.runtime.common.coco import COCO80
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.backends import Backend, load_backend
from vgsum.runtime.engines.manifest import PERCEPTION_ENGINE


@dataclass
class FramePerception:
    """One frame's objects (only the real ones, highest score first) and its frame feature."""

    boxes: np.ndarray  # [n,4] float32 x1,y1,x2,y2 normalised to the frame
    classes: np.ndarray  # [n] int64 COCO-80 ids
    labels: list[str]  # [n] COCO-80 names
    scores: np.ndarray  # [n] float32
    object_features: np.ndarray  # [n,D] float32
    frame_feature: np.ndarray  # [1280] float32

    @property
    def count(self) -> int:
        """How many objects were found."""
        return len(self.classes)


class PerceptionEngine:
    """The exported perception engine on one backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        sidecar = backend.sidecar
        self.class_names: list[str] = list(sidecar.get("class_names") or COCO80)
        self.top_n = int(sidecar.get("extra", {}).get("config", {}).get("top_n", 16))

    @classmethod
    def load(
        cls, path: Path | str, *, kind: str = "onnxruntime", device: str = "auto", threads: int | None = None
    ) -> PerceptionEngine:
        """Load the perception engine from its file, its sidecar, or the folder holding it."""
        path = Path(path).expanduser()
        if path.is_dir():
            path = path / PERCEPTION_ENGINE
        return cls(load_backend(path, kind=kind, device=device, threads=threads))

    @property
    def provider(self) -> str:
        """The execution provider that runs the engine."""
        return self.backend.provider

    def run_batch(self, frames: np.ndarray) -> dict[str, np.ndarray]:
        """Raw engine outputs for uint8 RGB frames [B,H,W,3] of one size (padded to top_n, zeros past the count)."""
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"frames must be uint8 [B,H,W,3], got {frames.dtype} {frames.shape}")
        return self.backend.run({"frames": frames})

    def __call__(self, frames: Sequence[np.ndarray] | np.ndarray) -> list[FramePerception]:
        """Perceive each uint8 RGB frame [H,W,3]; frames of the same size share one engine run."""
        frames = list(frames)
        results: list[FramePerception | None] = [None] * len(frames)
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for index, frame in enumerate(frames):
            if frame.ndim != 3 or frame.shape[2] != 3:
                raise UserError(f"frame {index}: expected RGB [H,W,3], got shape {frame.shape}")
            by_shape.setdefault(frame.shape, []).append(index)
        for indices in by_shape.values():
            batch = np.stack([np.asarray(frames[i], dtype=np.uint8) for i in indices])
            out = self.run_batch(batch)
            for row, index in enumerate(indices):
                results[index] = self._frame(out, row)
        return [r for r in results if r is not None]

    def _frame(self, out: dict[str, np.ndarray], row: int) -> FramePerception:
        n = int(out["object_count"][row])
        classes = out["classes"][row, :n].astype(np.int64)
        return FramePerception(
            boxes=out["boxes"][row, :n],
            classes=classes,
            labels=[self.class_names[int(c)] for c in classes],
            scores=out["scores"][row, :n],
            object_features=out["object_features"][row, :n],
            frame_feature=out["frame_feature"][row],
        )
