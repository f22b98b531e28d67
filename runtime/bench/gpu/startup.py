"""The second start: how long a restart takes once the engine cache holds the plans.

A TensorRT build takes minutes; the engine cache exists so that a daemon restart does
not pay it again. This checks that the second start finds the plan (a cache hit) and
how long deserialising it takes, beside ONNX Runtime's session loads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vgsum.runtime.bench.gpu.candidates import Candidate, Plan, cuda_loader
from vgsum.runtime.bench.gpu.outcome import guarded, skipped
from vgsum.runtime.bench.gpu.plans import build_plan
from vgsum.runtime.engines.backends import load_backend
from vgsum.runtime.engines.manifest import PERCEPTION_ENGINE


def _load_twice(load: Callable[[], object]) -> dict[str, Any]:
    times = []
    for _ in range(2):
        started = time.perf_counter()
        load()
        times.append(round(time.perf_counter() - started, 3))
    return {"first_load_s": times[0], "second_load_s": times[1]}


def cache_on_second_start(
    folder: Path, plans: dict[tuple[str, str], Plan], builds: dict[str, Any], cuda: Candidate
) -> dict[str, Any]:
    """How long a second start takes: ORT session loads, and TensorRT's cached plan found and deserialised."""
    perception = folder / PERCEPTION_ENGINE
    result: dict[str, Any] = {
        "onnxruntime_cpu": guarded(lambda: _load_twice(lambda: load_backend(perception, device="cpu")))
    }
    if cuda.unavailable:
        result["onnxruntime_cuda"] = skipped(cuda.unavailable)
    else:
        result["onnxruntime_cuda"] = guarded(lambda: _load_twice(lambda: cuda_loader(perception)))
    plan = plans.get(("perception", "fp16"))
    if plan is None:
        why = builds.get("perception", {}).get("fp16", {})
        result["tensorrt"] = skipped(f"no perception fp16 plan: {why.get('reason') or why.get('error', 'not built')}")
        return result

    def tensorrt() -> dict[str, Any]:
        from vgsum.runtime.engines.backends import TrtBackend

        started = time.perf_counter()
        _, hit = build_plan(folder, "perception", "fp16")
        lookup = round(time.perf_counter() - started, 3)
        first_build = builds["perception"]["fp16"]
        return {
            "first_start_build_s": first_build.get("seconds"),
            "first_start_from_cache": first_build.get("from_cache"),
            "second_start_lookup_s": lookup,
            "second_start_hit": hit,
            **_load_twice(lambda: TrtBackend(plan.file, plan.sidecar)),
        }

    result["tensorrt"] = guarded(tensorrt)
    return result
