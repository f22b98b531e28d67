"""The ways of running the engines that a run compares: ONNX Runtime CPU, onnxruntime-gpu, TensorRT plans.

Each candidate loads an engine only when a stage first asks for it, so one that cannot
load (no CUDA provider, no plan built) costs nothing until then and is reported, with
the reason, in every stage that would have used it: the dry run's report and the GPU
run's have the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vgsum.runtime.bench.gpu.budget import CPU_ONLY, Mode
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.backends import Backend, OrtBackend, load_backend, resolve_engine
from vgsum.runtime.engines.manifest import (
    PERCEPTION_ENGINE,
    REFINER_FRAME_ENGINE,
    REFINER_WINDOW_ENGINE,
    TEXT_ENGINE,
)

# Engine name in this report -> ONNX file of the engine folder.
ENGINE_ONNX = {
    "perception": PERCEPTION_ENGINE,
    "text": TEXT_ENGINE,
    "refiner_frame": REFINER_FRAME_ENGINE,
    "refiner_window": REFINER_WINDOW_ENGINE,
}


class TunedOrtBackend(OrtBackend):
    """ONNX Runtime CPU with a chosen graph optimisation level: the dry run's second opinion."""

    def __init__(self, path: Path, threads: int, optimisation: str) -> None:
        import onnxruntime as ort

        engine_file, sidecar = resolve_engine(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, optimisation)
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(engine_file), sess_options=options, providers=["CPUExecutionProvider"])
        self.path, self.sidecar = engine_file, sidecar
        self.provider = self.session.get_providers()[0]
        self._output_names = [o.name for o in self.session.get_outputs()]


@dataclass
class Plan:
    """One TensorRT plan built in this run, with the sidecar `vgsum.export.trt` wrote for it."""

    engine: str
    precision: str
    file: Path
    sidecar: dict[str, Any]


@dataclass
class Candidate:
    """One way of running the engines, compared with ONNX Runtime CPU and timed."""

    name: str
    what: str
    loaders: dict[str, Callable[[], Backend]]
    unavailable: str | None = None
    loaded: dict[str, Backend] = field(default_factory=dict)

    def backend(self, engine: str) -> Backend:
        """The engine on this candidate (loaded once); UserError when it has no such engine."""
        if engine not in self.loaded:
            if engine not in self.loaders:
                raise UserError(f"{self.name} has no {engine} engine in this run")
            self.loaded[engine] = self.loaders[engine]()
        return self.loaded[engine]


def ort_cpu(folder: Path, threads: int | None = None) -> Candidate:
    """The reference every other candidate is held to."""
    loaders = {e: (lambda f=folder / n: load_backend(f, device="cpu", threads=threads)) for e, n in ENGINE_ONNX.items()}
    return Candidate("ort-cpu", "ONNX Runtime CPU, default threads, full graph optimisation", loaders)


def ort_cpu_variant(folder: Path) -> Candidate:
    """ONNX Runtime CPU under other settings: gives the dry run a real comparison to make."""
    loaders = {e: (lambda f=folder / n: TunedOrtBackend(f, 1, "ORT_ENABLE_BASIC")) for e, n in ENGINE_ONNX.items()}
    return Candidate("ort-cpu-1t-basic", "ONNX Runtime CPU, 1 thread, basic graph optimisation", loaders)


def cuda_loader(path: Path) -> Backend:
    """The engine on onnxruntime's CUDA provider; an error when it silently fell back to the CPU."""
    backend = load_backend(path, device="cuda")
    if backend.provider != "CUDAExecutionProvider":
        raise RuntimeError(f"onnxruntime fell back to {backend.provider}: the CUDA/cuDNN libraries did not load")
    return backend


def ort_cuda(folder: Path) -> Candidate:
    """onnxruntime-gpu, marked unavailable (with what to install) when its CUDA provider is not there."""
    loaders = {e: (lambda f=folder / n: cuda_loader(f)) for e, n in ENGINE_ONNX.items()}
    candidate = Candidate("ort-cuda", "onnxruntime-gpu, CUDAExecutionProvider", loaders)
    try:
        import onnxruntime as ort

        available = ort.get_available_providers()
        if "CUDAExecutionProvider" not in available:
            candidate.unavailable = (
                f"onnxruntime has no CUDAExecutionProvider (available: {', '.join(available)}); "
                "install onnxruntime-gpu instead of onnxruntime"
            )
    except ImportError:
        candidate.unavailable = "onnxruntime is not installed"
    return candidate


def trt_candidate(precision: str, plans: dict[tuple[str, str], Plan]) -> Candidate:
    """The plans of one precision built in this run."""
    from vgsum.runtime.engines.backends import TrtBackend

    mine = {engine: plan for (engine, p), plan in plans.items() if p == precision}
    loaders = {e: (lambda plan=plan: TrtBackend(plan.file, plan.sidecar)) for e, plan in mine.items()}
    unavailable = None if mine else f"no {precision} plan was built"
    return Candidate(f"trt-{precision}", f"TensorRT {precision.upper()} plans", loaders, unavailable)


def no_plan_reason(builds: dict[str, Any], precision: str) -> str:
    """Why no plan of `precision` exists: the one reason they share, else each engine's."""
    entries = {e: by_p[precision] for e, by_p in builds.items() if isinstance(by_p, dict) and precision in by_p}
    reasons = {e: str(entry.get("reason") or entry.get("error")) for e, entry in entries.items()}
    if not reasons:
        return f"no {precision} plan was built (the plans stage did not run)"
    if len(set(reasons.values())) == 1:
        return f"no {precision} plan was built: {next(iter(reasons.values()))}"
    return f"no {precision} plan was built ({'; '.join(f'{e}: {r}' for e, r in reasons.items())})"


def gpu_candidates(mode: Mode, folder: Path, plans: dict[tuple[str, str], Plan], builds: dict[str, Any]) -> list:
    """onnxruntime-gpu and the FP16 and INT8 plans, each saying why when it cannot run.

    They are listed in the dry run too (skipped, with why), so that both reports have one shape.
    """
    candidates = [ort_cuda(folder), trt_candidate("fp16", plans), trt_candidate("int8", plans)]
    for candidate in candidates:
        if mode.cpu:
            candidate.unavailable = CPU_ONLY
        elif candidate.name.startswith("trt-") and candidate.unavailable:
            candidate.unavailable = no_plan_reason(builds, candidate.name.removeprefix("trt-"))
    return candidates
