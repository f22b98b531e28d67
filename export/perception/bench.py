"""`vgsum bench perception`: latency and throughput of the perception engine, side by side with torch.

Measures, in one run on the same frames of the bundled sample:
- the fused ONNX engine on ONNX Runtime CPU at batch 1 and 4 (per-frame latency, frames/s),
  on the sample's own 640x272 frames and on 1280x720 frames;
- its EfficientNet-Lite0 part alone, on ONNX Runtime and in torch eager mode (the only part
  of the engine that has a torch form: the detector is a TF.js conversion with no torch
  model, so its share is reported from ONNX Runtime only).
The text engine line belongs to the text exporter (`--text` calls its hook when present).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vgsum.export.perception.build import sample_frames

BENCH_TIMES_S = (1.25, 3.5, 4.75, 6.25, 7.75, 9.0, 2.25, 5.75)


@dataclass
class Timing:
    """Wall-clock samples of one call, and the process CPU time they used in all."""

    wall_s: list[float]
    cpu_s: float


def _timed(fn: Callable[[], object], warmup: int, runs: int) -> Timing:
    for _ in range(warmup):
        fn()
    samples = []
    cpu_start = time.process_time()
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return Timing(samples, time.process_time() - cpu_start)


def _resize_nearest(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    rows = np.minimum((np.arange(height) + 0.5) * frames.shape[1] / height, frames.shape[1] - 1).astype(int)
    cols = np.minimum((np.arange(width) + 0.5) * frames.shape[2] / width, frames.shape[2] - 1).astype(int)
    return np.ascontiguousarray(frames[:, rows][:, :, cols])


def _line(what: str, batch: int, timing: Timing) -> str:
    # CPU ms per frame is less disturbed than wall time when other jobs share the cores.
    per_frame = statistics.median(timing.wall_s) / batch * 1000
    cpu = timing.cpu_s / len(timing.wall_s) / batch * 1000
    return (
        f"{what:<46} batch {batch}: {per_frame:7.1f} ms/frame {1000 / per_frame:6.1f} frames/s  cpu {cpu:6.1f} ms/frame"
    )


def _engine_path(engine_dir: Path | None, scratch: Path) -> Path:
    from vgsum.runtime.common.paths import engine_dir as default_dir
    from vgsum.runtime.engines.manifest import PERCEPTION_ENGINE

    for folder in (engine_dir, default_dir()):
        if folder is not None and (Path(folder) / PERCEPTION_ENGINE).is_file():
            return Path(folder) / PERCEPTION_ENGINE
    from vgsum.export.perception.build import export_perception

    print("no perception engine found: exporting one into a temp dir")
    return export_perception(scratch).onnx_path


def main(argv: list[str]) -> int:
    """Print one line per measurement; the ratios in BENCHMARKS.md come from one such run."""
    parser = argparse.ArgumentParser(prog="vgsum bench perception", description=__doc__.splitlines()[0])
    parser.add_argument("--engine-dir", type=Path, default=None, help="folder holding perception.onnx")
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads for ORT and torch (default 2)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--no-torch", action="store_true", help="skip the torch eager comparison")
    parser.add_argument("--text", action="store_true", help="also run the text engine's benchmark hook")
    args = parser.parse_args(argv)

    import onnxruntime as ort

    from vgsum.runtime.engines.perception import PerceptionEngine

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"host: {platform.machine()}, {os.cpu_count()} cores, load average {load}; threads={args.threads}")
    print(f"onnxruntime {ort.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        path = _engine_path(args.engine_dir, Path(tmp))
        native = sample_frames(BENCH_TIMES_S)
        # 1 thread too: its CPU ms/frame is what one core spends per frame (streams per core).
        for threads in sorted({args.threads, 1}, reverse=True):
            engine = PerceptionEngine.load(path, device="cpu", threads=threads)
            cfg = engine.backend.sidecar["extra"]["config"]
            if threads == args.threads:
                print(
                    f"engine: {engine.backend.path} (detector canvas {cfg['det_width']}x{cfg['det_height']}, "
                    f"EfficientNet {cfg['eff_width']}x{cfg['eff_height']}, top {cfg['top_n']})"
                )
            for label, frames in (
                (f"ORT engine {threads} thr, {native.shape[2]}x{native.shape[1]}", native),
                (f"ORT engine {threads} thr, 1280x720", _resize_nearest(native, 720, 1280)),
            ):
                for batch in args.batches:
                    samples = _timed(lambda c=frames[:batch], e=engine: e.run_batch(c), args.warmup, args.runs)
                    print(_line(label, batch, samples), flush=True)
        if not args.no_torch:
            _torch_lines(args, cfg, native, Path(tmp))
    if args.text:
        _text_hook(args)
    return 0


def _torch_lines(args: argparse.Namespace, cfg: dict, native: np.ndarray, scratch: Path) -> None:
    """EfficientNet-Lite0 at the engine's appearance size: ORT vs torch eager, same inputs, same threads.

    Also at 1 thread: on a loaded machine torch's OpenMP threads spin at barriers and a
    2-thread torch figure measures the contention more than the model.
    """
    import onnxruntime as ort
    import torch

    from vgsum.export.perception.parts import efficientnet_features, export_efficientnet

    height, width = cfg["eff_height"], cfg["eff_width"]
    canvas = _resize_nearest(native, height, width).transpose(0, 3, 1, 2).astype(np.float32)
    export_efficientnet(scratch / "effnet.onnx", height, width)
    module = efficientnet_features()
    for threads in sorted({1, args.threads}):
        torch.set_num_threads(threads)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(str(scratch / "effnet.onnx"), options, providers=["CPUExecutionProvider"])
        for batch in args.batches:
            chunk = np.ascontiguousarray(canvas[:batch])
            ort_s = _timed(lambda c=chunk, s=session: s.run(None, {"eff_input": c}), args.warmup, args.runs)
            tensor = torch.from_numpy(chunk)
            with torch.inference_mode():
                torch_s = _timed(lambda t=tensor: module(t), args.warmup, args.runs)
            what = f"EfficientNet-Lite0 {width}x{height} {threads} thr"
            print(_line(f"{what}, ORT", batch, ort_s))
            print(_line(f"{what}, torch eager", batch, torch_s))
            ratio = statistics.median(torch_s.wall_s) / statistics.median(ort_s.wall_s)
            print(f"{'':<46} torch eager / ORT = {ratio:.2f}x (wall), {torch_s.cpu_s / ort_s.cpu_s:.2f}x (cpu)")
    print("detector (CenterNet, TF.js conversion): no torch form; ORT only")


def _text_hook(args: argparse.Namespace) -> None:
    """The text engine's latency line, owned by the text exporter (`vgsum.export.text.bench.main`)."""
    from vgsum.export.text import bench as text_bench

    extra = ["--engines", str(args.engine_dir)] if args.engine_dir else []
    text_bench.main(["--threads", str(args.threads), *extra])
