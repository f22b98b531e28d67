"""Export the VideoGraph refiner to ONNX as its two live halves, and check them against torch.

- `refiner_frame.onnx`: frame feature [B,Df] (+ objects [B,N,Do], boxes [B,N,4], classes [B,N],
  object_mask [B,N], query [B,L,Dl], query_mask [B,L] when the spatial branch is on) -> node [B,D];
- `refiner_window.onnx`: nodes [B,W,D], mask [B,W] -> scores [B,W].
B, W, N and L stay dynamic (`torch.onnx.export(..., dynamo=True)` with `dynamic_shapes`; example
sizes >= 2 and distinct from each other, opset 18: docs/assets.md, Exporting the refiner). The
parity check compares ONNX Runtime with `VideoGraph.frame` and `VideoGraph.window` themselves,
not with the thin modules handed to the exporter, so a wrapper that drifted from the model would
fail it. Importing this module does nothing; torch and onnxruntime load when a function runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vgsum.runtime.engines.manifest import REFINER_FRAME_ENGINE, REFINER_WINDOW_ENGINE

OPSET = 18
EXAMPLE = {"batch": 2, "window": 16, "objects": 7, "queries": 5}


def _load(checkpoint: Path | None, seed: int = 0):
    """The model to export: a checkpoint, else a fresh seeded model shaped for the live perception engine
    (spatial branch on, its frame and object feature widths), so even the untrained engines run on the edge."""
    import torch

    from vgsum.export.perception.graph import object_feature_dim
    from vgsum.export.perception.parts import EFFNET_HEAD_CHANNELS
    from vgsum.models.videograph import VideoGraph, VideoGraphConfig

    if checkpoint is not None:
        from vgsum.models.train.loop import load_checkpoint

        model, _ = load_checkpoint(checkpoint)
        if model.cfg.query_film and not model.cfg.spatial:
            from vgsum.runtime.common.errors import UserError

            raise UserError(f"{checkpoint}: a title-query benchmark model (query_film without the spatial branch) "
                            "has no live form; export a model trained with the spatial branch")
        return model.eval()
    torch.manual_seed(seed)
    shape = VideoGraphConfig(spatial=True, d_frame=EFFNET_HEAD_CHANNELS, d_object=object_feature_dim())
    return VideoGraph(shape).eval()


def _parts(model):
    """The two halves as modules whose `forward` the exporter traces (it exports `forward` only)."""
    import torch

    class FramePart(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, *inputs):
            return self.m.frame(*inputs)

    class WindowPart(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, nodes, mask):
            return self.m.window(nodes, mask)

    return FramePart(model).eval(), WindowPart(model).eval()


def frame_inputs(cfg, batch: int, objects: int, queries: int, seed: int = 0, empty_rows: tuple[int, ...] = ()):
    """Random frame-half inputs as numpy (names in export order); `empty_rows` get zero objects and no query."""
    rng = np.random.default_rng(seed)
    x = {"frame_feature": rng.normal(size=(batch, cfg.d_frame)).astype(np.float32)}
    if cfg.spatial:
        boxes = np.sort(rng.random((batch, objects, 4)).astype(np.float32), axis=-1)[..., [0, 1, 2, 3]]
        object_mask = rng.random((batch, objects)) < 0.7
        query_mask = np.ones((batch, queries), bool)
        for r in empty_rows:
            object_mask[r] = False
            query_mask[r] = False
        x |= {
            "objects": rng.normal(size=(batch, objects, cfg.d_object)).astype(np.float32),
            "boxes": boxes,
            "classes": rng.integers(0, cfg.n_classes, (batch, objects)).astype(np.int64),
            "object_mask": object_mask,
            "query": rng.normal(size=(batch, queries, cfg.d_lang)).astype(np.float32),
            "query_mask": query_mask,
        }
    return x


def window_inputs(cfg, batch: int, window: int, seed: int = 0, padded: bool = True):
    """Random window-half inputs; with `padded`, the last row is half padding (as a short live buffer)."""
    rng = np.random.default_rng(seed)
    mask = np.ones((batch, window), bool)
    if padded and batch > 1:
        mask[-1, window // 2 :] = False
    return {"nodes": rng.normal(size=(batch, window, cfg.d_model)).astype(np.float32), "mask": mask}


def export_refiner(out_dir: Path, checkpoint: Path | None = None) -> dict[str, Path]:
    """Write refiner_frame.onnx and refiner_window.onnx to out_dir; returns {"frame": path, "window": path}."""
    import torch
    from torch.export import Dim

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = _load(checkpoint)
    cfg = model.cfg
    frame_part, window_part = _parts(model)
    batch = Dim("batch", min=1, max=1024)
    paths = {"frame": out_dir / REFINER_FRAME_ENGINE, "window": out_dir / REFINER_WINDOW_ENGINE}

    fx = frame_inputs(cfg, EXAMPLE["batch"], EXAMPLE["objects"], EXAMPLE["queries"])
    if cfg.spatial:
        n, q = Dim("objects", min=1, max=256), Dim("queries", min=1, max=256)
        shapes = ({0: batch}, {0: batch, 1: n}, {0: batch, 1: n}, {0: batch, 1: n}, {0: batch, 1: n},
                  {0: batch, 1: q}, {0: batch, 1: q})
    else:
        shapes = ({0: batch},)
    args = tuple(torch.from_numpy(v) for v in fx.values())
    torch.onnx.export(frame_part, args, paths["frame"], dynamo=True, opset_version=OPSET, input_names=list(fx),
                      output_names=["node"], dynamic_shapes=(shapes,), external_data=False, verbose=False)

    wx = window_inputs(cfg, EXAMPLE["batch"], EXAMPLE["window"])
    window = Dim("window", min=2, max=4096)
    torch.onnx.export(window_part, tuple(torch.from_numpy(v) for v in wx.values()), paths["window"], dynamo=True,
                      opset_version=OPSET, input_names=list(wx), output_names=["scores"],
                      dynamic_shapes=({0: batch, 1: window}, {0: batch, 1: window}), external_data=False,
                      verbose=False)
    return paths


def check_refiner_parity(paths: dict[str, Path], checkpoint: Path | None = None,
                         windows: tuple[int, ...] = (5, 23, 37, 64, 100),
                         objects: tuple[int, ...] = (3, 11, 16), queries: tuple[int, ...] = (1, 3, 9)) -> float:
    """Max abs difference between ONNX Runtime and the torch model's `window` and `frame` over several lengths,
    batch sizes and padding."""
    import onnxruntime as ort
    import torch

    model = _load(checkpoint)
    cfg = model.cfg
    worst = 0.0
    sessions = {k: ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]) for k, p in paths.items()}
    with torch.no_grad():
        for i, w in enumerate(windows):
            for b in (1, 3):
                x = window_inputs(cfg, b, w, seed=i)
                ref = model.window(*(torch.from_numpy(v) for v in x.values())).numpy()
                got = sessions["window"].run(None, x)[0]
                worst = max(worst, float(np.abs(ref - got).max()))
        for i, (n, q) in enumerate(zip(objects, queries, strict=False)):
            x = frame_inputs(cfg, 3, n, q, seed=10 + i, empty_rows=(1,) if cfg.spatial else ())
            ref = model.frame(*(torch.from_numpy(v) for v in x.values())).numpy()
            got = sessions["frame"].run(None, x)[0]
            if not np.isfinite(got).all():
                return float("inf")
            worst = max(worst, float(np.abs(ref - got).max()))
    return worst
