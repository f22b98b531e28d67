"""TensorRT plans of every engine at FP16 and INT8, built by `vgsum.export.trt` into the engine folder's cache.

The builds go through the exporter's own code (profiles, calibration, engine cache), so
what this measures is what `vgsum export --format trt` gives a user. FP16 of every graph
comes first because the targets need it; INT8 follows where a calibration is defined.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vgsum.runtime.bench.gpu.budget import CPU_ONLY, TIME_LIMIT, Budget, Mode
from vgsum.runtime.bench.gpu.candidates import ENGINE_ONNX, Plan
from vgsum.runtime.bench.gpu.outcome import guarded, say, skipped
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.manifest import sidecar_name

PRECISIONS = ("fp16", "int8")
# Batch ranges past export/trt.py's defaults (max 16): the perception plan must take batch 64, the largest
# batch timed and the pipeline's max_batch on a GPU, and refiner.frame the same batches; TensorRT runs best at `opt`.
PROFILE_OVERRIDES: dict[str, dict[str, tuple[int, int, int]]] = {
    "perception": {"batch": (1, 32, 64)},
    "refiner_frame": {"batch": (1, 16, 64)},
}
# Rough build seconds of each plan on a data-centre GPU, to decide whether one still fits the time left.
BUILD_ESTIMATE_S = {"perception": 120.0, "text": 90.0, "refiner_frame": 45.0, "refiner_window": 30.0}


def calibration_check(folder: Path) -> dict[str, Any]:
    """The first INT8 calibration batch of each engine, from `vgsum.export.trt`'s own code (runs without a GPU)."""
    from vgsum.export.sidecar import read_sidecar
    from vgsum.export.trt import calibration_batches, profile_as_lists, profile_for

    checks: dict[str, Any] = {}
    for engine, onnx_file in ENGINE_ONNX.items():

        def first_batch(onnx_file: str = onnx_file, engine: str = engine) -> dict[str, Any]:
            sidecar = read_sidecar(folder / sidecar_name(onnx_file))
            profile = profile_for(sidecar, PROFILE_OVERRIDES.get(engine))
            batch = next(calibration_batches(sidecar, profile, folder, count=1), None)
            if batch is None:
                raise UserError(f"{engine}: the calibration source gave no batch at the profile's opt shape")
            return {
                "first_batch": {name: list(array.shape) for name, array in batch.items()},
                "profile": profile_as_lists(profile),
            }

        checks[engine] = guarded(first_batch)
    return checks


def build_plan(folder: Path, engine: str, precision: str) -> tuple[dict[str, Any], bool]:
    """Build or find one plan with this run's profile; its sidecar, and whether the engine cache held it."""
    from vgsum.export.sidecar import read_sidecar
    from vgsum.export.trt import build_engine

    messages: list[str] = []
    sidecar_path = build_engine(
        folder / sidecar_name(ENGINE_ONNX[engine]),
        precision,
        profile_overrides=PROFILE_OVERRIDES.get(engine),
        progress=messages.append,
    )
    return read_sidecar(sidecar_path), any("cached" in m for m in messages)


def build_plans(folder: Path, mode: Mode, budget: Budget, calibration: dict[str, Any]) -> tuple[dict, dict]:
    """FP16 plans of every engine first (the ones the targets need), then INT8 where calibration is defined."""
    builds: dict[str, Any] = {engine: {} for engine in ENGINE_ONNX}
    plans: dict[tuple[str, str], Plan] = {}
    if mode.cpu:
        for engine in ENGINE_ONNX:
            builds[engine] = {p: skipped(CPU_ONLY) for p in PRECISIONS}
        return builds, plans

    def preflight() -> dict[str, Any]:
        from vgsum.export.trt import gpu_identity, require_tensorrt

        trt = require_tensorrt()
        name, capability = gpu_identity()
        return {"gpu": name, "compute_capability": capability, "tensorrt": str(trt.__version__)}

    ready = guarded(preflight)
    if ready["status"] != "ok":
        reason = ready.get("reason") or ready.get("error", "")
        for engine in ENGINE_ONNX:
            builds[engine] = {p: skipped(reason) for p in PRECISIONS}
        return builds, plans

    # Parity, throughput, the cache and the streams need about this much of the run after the builds.
    reserve = min(0.45 * budget.limit_s, 240.0)
    order = [(e, "fp16") for e in ENGINE_ONNX] + [(e, "int8") for e in ENGINE_ONNX]
    for engine, precision in order:
        if precision == "int8" and calibration.get(engine, {}).get("status") != "ok":
            why = calibration.get(engine, {})
            builds[engine][precision] = skipped(f"no INT8 calibration: {why.get('reason') or why.get('error')}")
            continue
        if not budget.allows(BUILD_ESTIMATE_S[engine] * (1.5 if precision == "int8" else 1.0) + reserve):
            builds[engine][precision] = skipped(TIME_LIMIT)
            continue
        say(f"building {engine} {precision} plan ({budget.left():.0f} s left)")
        builds[engine][precision] = guarded(lambda e=engine, p=precision: _build_one(folder, e, p, plans))
    return builds, plans


def _build_one(folder: Path, engine: str, precision: str, plans: dict[tuple[str, str], Plan]) -> dict[str, Any]:
    sidecar, from_cache = build_plan(folder, engine, precision)
    plan = Plan(engine, precision, folder / sidecar["file"], sidecar)
    plans[(engine, precision)] = plan
    return {
        "plan": sidecar["file"],
        "bytes": plan.file.stat().st_size,
        "from_cache": from_cache,
        "profile": sidecar.get("extra", {}).get("tensorrt", {}).get("profile"),
    }


def restore_fp16_sidecars(folder: Path, plans: dict[tuple[str, str], Plan]) -> None:
    """Leave each engine's `.trt.json` naming its FP16 plan (an INT8 build rewrote it): the plan the runtime loads."""
    from vgsum.export.trt import write_plan_sidecar

    for (engine, precision), plan in plans.items():
        if precision == "fp16":
            write_plan_sidecar(folder, ENGINE_ONNX[engine], plan.sidecar)
