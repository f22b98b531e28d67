"""`export_perception()`: build the fused perception engine, check it stage by stage, write its sidecar.

The engine is one ONNX file (see `vgsum.export.perception.graph` for what is inside). Before
the sidecar is written, each stage is compared with its reference on real frames of
the bundled sample, and the export fails loudly past a tolerance:

- detector trunk, made batch-dynamic here, against the committed batch-1 CenterNet
  conversion (which was itself checked against TensorFlow, see its provenance.json);
- frame feature and feature maps against EfficientNet-Lite0 in torch eager mode on the
  very same canvas;
- object features against a NumPy RoiAlign of the torch feature maps;
- boxes, classes and scores against a NumPy decode + greedy NMS of the heatmap.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from vgsum.export.perception.graph import OUTPUTS, PerceptionConfig, build_perception_model, object_feature_dim
from vgsum.export.perception.parts import (
    CENTERNET_STRIDE,
    centernet_path,
    centernet_source,
    detector_trunk,
    efficientnet_features,
    effnet_source,
    export_efficientnet,
)
from vgsum.export.sidecar import ExportedEngine, Parity, write_sidecar
from vgsum.runtime.common.coco import COCO80
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.manifest import PERCEPTION_ENGINE

ENGINE = "perception"
PARITY_TIMES_S = (1.25, 4.75, 6.25, 7.75)  # bikes.mp4: person+cars, person+bicycle, cars, person+bicycle
PRECISIONS = ("fp32", "fp16", "int8")


class ParityError(RuntimeError):
    """The exported engine differs from its reference past the tolerance (a bug, not a user error)."""


def sample_frames(times_s: tuple[float, ...] = PARITY_TIMES_S, video: Path | None = None) -> np.ndarray:
    """RGB uint8 frames [len(times_s),H,W,3] of the bundled sample (or `video`), decoded with PyAV."""
    import av

    from vgsum.runtime.common.sample import bundled_sample

    wanted, frames = sorted(times_s), []
    with av.open(str(video or bundled_sample())) as container:
        for frame in container.decode(video=0):
            if len(frames) < len(wanted) and frame.time is not None and frame.time >= wanted[len(frames)]:
                frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) == len(wanted):
                break
    if len(frames) != len(wanted):
        raise UserError(f"{video or 'bundled sample'}: ended before {wanted[len(frames)]} s")
    return np.stack(frames)


def _session(model_or_path, threads: int | None = None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    source = model_or_path.SerializeToString() if hasattr(model_or_path, "SerializeToString") else str(model_or_path)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def _with_taps(model, taps: dict[str, str]):
    """A copy of `model` that also outputs the named inner tensors."""
    import onnx
    from onnx import helper

    tapped = onnx.ModelProto()
    tapped.CopyFrom(model)
    for name in taps.values():
        tapped.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    return tapped


def roi_align_reference(fmap: np.ndarray, rois: np.ndarray, batch: np.ndarray, size: int, scale: float) -> np.ndarray:
    """ONNX RoiAlign (avg, half_pixel, sampling_ratio 2) followed by a mean over bins: [R, C]."""
    channels, height, width = fmap.shape[1:]
    out = np.zeros((len(rois), channels), np.float64)
    grid = 2
    for r, (roi, b) in enumerate(zip(rois, batch, strict=True)):
        x1, y1, x2, y2 = roi * scale - 0.5
        bin_w, bin_h = (x2 - x1) / size, (y2 - y1) / size
        total = np.zeros(channels)
        for ph in range(size):
            for pw in range(size):
                for iy in range(grid):
                    for ix in range(grid):
                        y = y1 + ph * bin_h + (iy + 0.5) * bin_h / grid
                        x = x1 + pw * bin_w + (ix + 0.5) * bin_w / grid
                        if y < -1 or y > height or x < -1 or x > width:
                            continue
                        y, x = max(y, 0.0), max(x, 0.0)
                        y0, x0 = int(y), int(x)
                        if y0 >= height - 1:
                            y0 = y1i = height - 1
                            y = float(y0)
                        else:
                            y1i = y0 + 1
                        if x0 >= width - 1:
                            x0 = x1i = width - 1
                            x = float(x0)
                        else:
                            x1i = x0 + 1
                        ly, lx = y - y0, x - x0
                        f = fmap[b]
                        total += (
                            (1 - ly) * (1 - lx) * f[:, y0, x0]
                            + (1 - ly) * lx * f[:, y0, x1i]
                            + ly * (1 - lx) * f[:, y1i, x0]
                            + ly * lx * f[:, y1i, x1i]
                        )
        out[r] = total / (size * size * grid * grid)
    return out


def decode_reference(heat: np.ndarray, wh: np.ndarray, content_hw: np.ndarray, frame_hw: tuple[int, int], cfg):
    """NumPy CenterNet decode + greedy class-aware NMS of one frame: (boxes normalised, classes, scores)."""
    channels, height, width = heat.shape
    padded = np.pad(heat, ((0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2)).max(axis=(-1, -2))
    peaks = (heat * (heat == windows)).reshape(-1)
    order = np.argsort(-peaks, kind="stable")[: cfg.candidates]
    scores, cls, pos = peaks[order], order // (height * width), order % (height * width)
    cx, cy = (pos % width) * CENTERNET_STRIDE, (pos // width) * CENTERNET_STRIDE
    sides = wh.reshape(4, -1)[:, pos].T
    boxes = np.stack([cx - sides[:, 0], cy - sides[:, 1], cx + sides[:, 2], cy + sides[:, 3]], 1)
    limit = np.array([content_hw[1], content_hw[0]] * 2)
    boxes = np.clip(boxes, 0, limit)
    kept: list[int] = []
    for i in range(len(order)):
        if scores[i] <= cfg.score_threshold:
            continue
        if all(cls[j] != cls[i] or _iou(boxes[i], boxes[j]) <= cfg.iou_threshold for j in kept):
            kept.append(i)
    kept = kept[: cfg.top_n]
    scale = min(cfg.det_height / frame_hw[0], cfg.det_width / frame_hw[1])
    norm = np.array([frame_hw[1], frame_hw[0]] * 2) * scale
    return np.minimum(boxes[kept] / norm, 1.0), cls[kept], scores[kept]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / max(union, 1e-6)


def check_parity(model, taps: dict[str, str], cfg: PerceptionConfig, frames: np.ndarray) -> list[Parity]:
    """Compare every stage of the engine `model` with its reference on `frames`; return the Parity list.

    `taps` names the inner tensors to compare (recorded in the sidecar's `extra.taps`).
    """
    import torch

    tapped = _session(_with_taps(model, taps))
    names = [o.name for o in tapped.get_outputs()]
    got = dict(zip(names, tapped.run(None, {"frames": frames}), strict=True))
    tap = {key: got[name] for key, name in taps.items()}
    results: list[Parity] = []
    what = f"{len(frames)} frames of bikes.mp4 at {', '.join(map(str, PARITY_TIMES_S))} s, batch {len(frames)}"

    # 1. batch-dynamic trunk vs the committed batch-1 conversion, on 512x512 letterboxed canvases
    square = np.zeros((len(frames), 3, 512, 512), np.float32)
    canvas = tap["canvas"]
    square[:, :, : canvas.shape[2], : canvas.shape[3]] = canvas[:, :, :512, :512]
    original = _session(centernet_path())
    ref_heat = np.concatenate(
        [original.run(["tower_0/keypoints"], {"tower_0/images:0": s.transpose(1, 2, 0)[None]})[0] for s in square]
    ).transpose(0, 3, 1, 2)
    trunk_heat = _session(detector_trunk()).run(None, {detector_trunk().graph.input[0].name: square})[0]
    results.append(
        Parity(
            "max_abs_diff",
            float(np.abs(trunk_heat - ref_heat).max()),
            1e-4,
            f"detector heatmap, batch-{len(frames)} trunk vs batch-1 CenterNet ONNX, 512x512",
        )
    )

    # 2. EfficientNet in torch eager on the engine's own appearance canvas
    net = efficientnet_features()
    with torch.no_grad():
        pooled, fmap16, fmap32 = (t.numpy() for t in net(torch.from_numpy(tap["eff_input"])))
    results.append(
        Parity(
            "max_abs_diff",
            float(np.abs(got["frame_feature"] - pooled).max()),
            1e-3,
            f"frame_feature vs torch eager EfficientNet-Lite0; {what}",
        )
    )

    # 3. detections vs NumPy decode + greedy NMS; 4. object features vs NumPy RoiAlign of the torch maps
    box_err, feat_err, mismatched = 0.0, 0.0, 0
    to_eff = np.array([cfg.eff_width / cfg.det_width, cfg.eff_height / cfg.det_height] * 2)
    for b in range(len(frames)):
        boxes, cls, scores = decode_reference(tap["heat"][b], tap["wh"][b], tap["content_hw"], frames.shape[1:3], cfg)
        count = int(got["object_count"][b])
        if count != len(cls) or not np.array_equal(got["classes"][b][:count], cls):
            mismatched += 1
            continue
        box_err = max(box_err, float(np.abs(got["boxes"][b][:count] - boxes).max(initial=0.0)))
        box_err = max(box_err, float(np.abs(got["scores"][b][:count] - scores).max(initial=0.0)))
        norm = np.array([frames.shape[2], frames.shape[1]] * 2) * min(
            cfg.det_height / frames.shape[1], cfg.det_width / frames.shape[2]
        )
        rois = boxes * norm * to_eff
        ref = np.concatenate(
            [
                roi_align_reference(fm, rois, np.full(count, b), cfg.roi_size, 1.0 / s)
                for fm, s in ((fmap16, 16), (fmap32, 32))
            ],
            axis=1,
        )
        feat_err = max(feat_err, float(np.abs(got["object_features"][b][:count] - ref).max(initial=0.0)))
        if np.any(got["object_features"][b][count:]) or np.any(got["boxes"][b][count:]):
            mismatched += 1
    results.append(
        Parity(
            "frames_with_other_detections",
            float(mismatched),
            0.0,
            f"count and classes vs NumPy decode + greedy NMS; {what}",
        )
    )
    results.append(Parity("max_abs_diff", box_err, 2e-3, f"boxes (normalised) and scores vs NumPy decode; {what}"))
    results.append(Parity("max_abs_diff", feat_err, 2e-3, f"object_features vs NumPy RoiAlign of torch maps; {what}"))
    return results


def export_perception(
    out_dir: Path,
    *,
    precision: str = "fp32",
    progress: Callable[[str], None] | None = None,
    config: PerceptionConfig | None = None,
) -> ExportedEngine:
    """Write `out_dir/perception.onnx` and `perception.json`; raise ParityError past a tolerance.

    The ONNX graph is always fp32: `precision` other than fp32 is for TensorRT, which
    lowers precision when it builds the engine from this file.
    """
    if precision not in PRECISIONS:
        raise UserError(f"precision {precision!r}: one of {', '.join(PRECISIONS)}")
    say = progress or (lambda _message: None)
    cfg = config or PerceptionConfig()
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / PERCEPTION_ENGINE

    import onnx

    with tempfile.TemporaryDirectory() as tmp:
        say("perception: exporting EfficientNet-Lite0 (torch dynamo)")
        effnet = export_efficientnet(Path(tmp) / "effnet.onnx", cfg.eff_height, cfg.eff_width, cfg.opset)
    say("perception: fusing with the CenterNet detector")
    model, taps = build_perception_model(detector_trunk(), effnet, cfg)
    onnx.save(model, str(onnx_path))

    say("perception: checking parity on frames of the bundled sample")
    parity = check_parity(model, taps, cfg, sample_frames())
    failed = [p for p in parity if p.value > p.tolerance]
    if failed:
        onnx_path.unlink(missing_ok=True)
        detail = "; ".join(f"{p.inputs}: {p.metric} {p.value:.3g} > {p.tolerance:g}" for p in failed)
        raise ParityError(f"perception engine differs from its reference: {detail}")

    sidecar = write_sidecar(
        onnx_path,
        engine=ENGINE,
        sources=[centernet_source(), effnet_source()],
        parity=parity,
        precision="fp32",
        class_names=list(COCO80),
        extra={
            "config": asdict(cfg),
            "object_feature_dim": object_feature_dim(),
            "frame_feature_dim": 1280,
            "input": "frames: uint8 RGB [B,H,W,3], any H,W; letterboxed inside (bottom/right zero padding)",
            "outputs": {
                "boxes": "x1,y1,x2,y2 normalised to the frame",
                "classes": "COCO-80 index (class_names)",
                "scores": "detector confidence",
                "object_features": "RoiAlign of EfficientNet stride-16 (112) and stride-32 head (1280) maps, averaged",
                "object_count": "real objects per frame; every output row past it is zero",
                "frame_feature": "EfficientNet-Lite0 pooled 1280-d",
            },
            "output_order": list(OUTPUTS),
            "taps": taps,  # inner tensors (canvas, heatmap, feature maps) for debugging and parity
        },
    )
    return ExportedEngine(
        engine=ENGINE, onnx_path=onnx_path, sidecar_path=sidecar, parity=parity, seconds=time.perf_counter() - started
    )
