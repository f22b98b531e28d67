"""The refiner engines on the edge: `refiner.frame` once per frame, `refiner.window` every S frames.

Edge code: no torch. Inputs are padded here (objects to N, queries to the longest
query list in the batch) with masks, as the exported graphs expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vgsum.runtime.engines.backends import Backend, load_backend
from vgsum.runtime.engines.manifest import REFINER_FRAME_ENGINE, REFINER_WINDOW_ENGINE


@dataclass
class FrameBatchInput:
    """One frame's refiner.frame inputs before padding."""

    frame_feature: np.ndarray  # [Df]
    object_features: np.ndarray  # [n, Do]
    boxes: np.ndarray  # [n, 4] normalised x1,y1,x2,y2
    classes: np.ndarray  # [n] int
    queries: np.ndarray  # [L, Dl] word-level label embeddings and sentence-level query embeddings


class RefinerEngines:
    """`refiner.frame` and `refiner.window` on one backend kind and device."""

    def __init__(self, frame: Backend, window: Backend) -> None:
        self.frame_engine = frame
        self.window_engine = window
        specs = {spec.name: spec for spec in frame.inputs}
        # a refiner without the spatial branch takes the frame feature alone: objects and queries are not fed
        self.spatial = "objects" in specs
        objects, query = specs.get("objects"), specs.get("query")
        self.max_objects = int(objects.shape[1]) if objects is not None and isinstance(objects.shape[1], int) else 16
        self.object_dim = int(objects.shape[-1]) if objects is not None else 1
        self.frame_dim = int(specs["frame_feature"].shape[-1])
        self.query_dim = int(query.shape[-1]) if query is not None else 1
        self.node_dim = int(frame.outputs[0].shape[-1])
        self.trained = bool(frame.sidecar.get("extra", {}).get("trained", False))

    @classmethod
    def load(
        cls, folder: Path | str, kind: str = "onnxruntime", device: str = "auto", threads: int | None = None
    ) -> RefinerEngines:
        """Both graphs from the engine folder."""
        folder = Path(folder)
        return cls(
            load_backend(folder / REFINER_FRAME_ENGINE, kind=kind, device=device, threads=threads),
            load_backend(folder / REFINER_WINDOW_ENGINE, kind=kind, device=device, threads=threads),
        )

    @property
    def provider(self) -> str:
        """The execution provider of the frame graph (both use the same)."""
        return self.frame_engine.provider

    def nodes(self, batch: list[FrameBatchInput]) -> np.ndarray:
        """Node vectors [B, d] for a batch of frames (any mix of streams)."""
        size = len(batch)
        if not self.spatial:
            feats = np.stack([item.frame_feature for item in batch]).astype(np.float32)
            return next(iter(self.frame_engine.run({"frame_feature": feats}).values()))
        n_max = self.max_objects
        longest = max(1, max(item.queries.shape[0] for item in batch))
        feats = np.zeros((size, self.frame_dim), np.float32)
        objects = np.zeros((size, n_max, self.object_dim), np.float32)
        boxes = np.zeros((size, n_max, 4), np.float32)
        classes = np.zeros((size, n_max), np.int64)
        object_mask = np.zeros((size, n_max), bool)
        query = np.zeros((size, longest, self.query_dim), np.float32)
        query_mask = np.zeros((size, longest), bool)
        for row, item in enumerate(batch):
            n = min(n_max, len(item.classes))
            feats[row] = item.frame_feature
            objects[row, :n] = item.object_features[:n]
            boxes[row, :n] = item.boxes[:n]
            classes[row, :n] = item.classes[:n]
            object_mask[row, :n] = True
            length = item.queries.shape[0]
            query[row, :length] = item.queries
            query_mask[row, :length] = True
        out = self.frame_engine.run(
            {
                "frame_feature": feats,
                "objects": objects,
                "boxes": boxes,
                "classes": classes,
                "object_mask": object_mask,
                "query": query,
                "query_mask": query_mask,
            }
        )
        return next(iter(out.values()))

    def scores(self, nodes: np.ndarray) -> np.ndarray:
        """Scores [n] in [0, 1] for one window of node vectors [n, d]."""
        mask = np.ones((1, nodes.shape[0]), bool)
        out = self.window_engine.run({"nodes": nodes[None].astype(np.float32), "mask": mask})
        return next(iter(out.values()))[0]
