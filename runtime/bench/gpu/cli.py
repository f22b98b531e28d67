"""`vgsum bench gpu`: the GPU path (TensorRT plans, onnxruntime-gpu) measured in one bounded run.

This module parses the arguments and runs the stages in order of what the targets
need most; each stage is its own module of this package (see its docstring).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vgsum.runtime.bench.gpu.budget import TIME_LIMIT, Budget, Mode
from vgsum.runtime.bench.gpu.candidates import Plan, gpu_candidates, ort_cpu, ort_cpu_variant
from vgsum.runtime.bench.gpu.environment import environment
from vgsum.runtime.bench.gpu.live import live_streams, streams_engines
from vgsum.runtime.bench.gpu.outcome import failures, guarded, say, skipped
from vgsum.runtime.bench.gpu.parity import TOLERANCES, Reference, parity_of, reference_outputs
from vgsum.runtime.bench.gpu.plans import PROFILE_OVERRIDES, build_plans, calibration_check, restore_fp16_sidecars
from vgsum.runtime.bench.gpu.report import REPORT_VERSION, summarize, write_report
from vgsum.runtime.bench.gpu.startup import cache_on_second_start
from vgsum.runtime.bench.gpu.throughput import PARITY_EVERY, sample_frames_for_bench, time_batches
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.paths import engine_dir
from vgsum.runtime.engines.manifest import PERCEPTION_ENGINE


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one UserError line instead of usage + exit."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{message} (see `vgsum bench gpu --help`)")


def _parse(argv: list[str]) -> argparse.Namespace:
    from vgsum.runtime.common.sample import bundled_sample

    parser = _Parser(prog="vgsum bench gpu", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for report.json and summary.txt")
    parser.add_argument("--cpu", action="store_true", help="the CPU dry run: ONNX Runtime CPU only, short")
    parser.add_argument("--time-limit-s", type=float, default=480.0, help="the whole run's limit (default 480)")
    parser.add_argument("--streams-max", type=int, default=64, help="most live streams tried (default 64)")
    parser.add_argument("--engines", type=Path, default=None, help=f"engine folder (default {engine_dir()})")
    args = parser.parse_args(argv)
    args.argv = list(argv)
    if not args.time_limit_s > 0:
        raise UserError(f"--time-limit-s must be > 0, got {args.time_limit_s:g}")
    if args.streams_max < 1:
        raise UserError(f"--streams-max must be >= 1, got {args.streams_max}")
    if args.out.exists() and not args.out.is_dir():
        raise UserError(f"--out {args.out} exists and is not a folder")
    args.sample = bundled_sample()  # UserError, naming the pip line, when it is not installed
    args.engines = (args.engines or engine_dir()).expanduser()
    if not (args.engines / PERCEPTION_ENGINE).is_file():
        raise UserError(f"no engines in {args.engines}; build them with `vgsum export all --out {args.engines}`")
    return args


def run(args: argparse.Namespace, save: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Every stage in order of what the targets need most, saving the report after each; returns it.

    Saving as it goes keeps what finished when something outside the script (a hard
    wall-clock cap, a lost machine) ends the run half way: `complete` says which it is.
    """
    mode = Mode.of(args.cpu, args.streams_max)
    budget = Budget(args.time_limit_s)
    folder: Path = args.engines
    report: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "mode": "cpu" if mode.cpu else "gpu",
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["vgsum bench gpu", *args.argv]),
        "engines": str(folder),
        "time_limit_s": args.time_limit_s,
        "tolerances": TOLERANCES,
        "complete": False,
        "stages": {},
    }
    stages = report["stages"]

    def stage(name: str, need_s: float, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if not budget.allows(need_s):
            stages[name] = skipped(TIME_LIMIT)
        else:
            say(f"{name} ({budget.left():.0f} s left)")
            stages[name] = guarded(fn)
        report["wall_s"] = round(budget.elapsed(), 1)
        save(report)
        return stages[name]

    stage("environment", 5, environment)
    sample: Path = args.sample
    frames = sample_frames_for_bench()
    parity_frames = frames[::PARITY_EVERY]
    report["sample"] = {"file": sample.name, "frames_timed": int(len(frames)), "parity_frames": int(len(parity_frames)),
                        "frame_size": f"{frames.shape[2]}x{frames.shape[1]}"}  # fmt: skip

    calibration = stage("calibration", 20, lambda: calibration_check(folder))
    plans: dict[tuple[str, str], Plan] = {}

    def plans_stage() -> dict[str, Any]:
        builds, built = build_plans(folder, mode, budget, calibration)
        plans.update(built)
        overrides = {engine: {d: list(r) for d, r in dims.items()} for engine, dims in PROFILE_OVERRIDES.items()}
        result: dict[str, Any] = {"builds": builds, "profile_overrides": overrides}
        reasons = {entry.get("reason") for by_precision in builds.values() for entry in by_precision.values()}
        if not built and len(reasons) == 1 and None not in reasons:  # nothing could be built, for one reason
            result.update(skipped(reasons.pop()))
        return result

    stage("plans", 10, plans_stage)
    builds = stages["plans"].get("builds", {})
    reference = ort_cpu(folder)
    on_gpu = gpu_candidates(mode, folder, plans, builds)
    cuda = on_gpu[0]
    candidates = [ort_cpu_variant(folder)] if mode.cpu else []
    candidates += on_gpu

    def parity_stage() -> dict[str, Any]:
        ref: Reference = reference_outputs(reference, parity_frames)
        out: dict[str, Any] = {"reference": reference.what}
        for candidate in candidates:
            if candidate.unavailable:
                out[candidate.name] = skipped(candidate.unavailable)
            elif not budget.allows(20):
                out[candidate.name] = skipped(TIME_LIMIT)
            else:
                out[candidate.name] = {"what": candidate.what, **parity_of(candidate, ref, reference)}
        return out

    parity = stage("parity", 30, parity_stage)

    def throughput_stage() -> dict[str, Any]:
        out: dict[str, Any] = {}
        for candidate in [reference, *candidates]:
            if candidate.unavailable:
                out[candidate.name] = skipped(candidate.unavailable)
                continue
            out[candidate.name] = {
                "what": candidate.what,
                **guarded(lambda c=candidate: time_batches(c.backend("perception"), frames, mode, budget)),
            }
        return out

    stage("throughput", 15, throughput_stage)
    stage("cache", 15, lambda: cache_on_second_start(folder, plans, builds, cuda))
    if plans:
        restore_fp16_sidecars(folder, plans)

    def streams_stage() -> dict[str, Any]:
        chosen = streams_engines(mode, folder, candidates, parity if parity.get("status") == "ok" else {})
        return live_streams(folder, mode, budget, chosen, sample)

    stage("streams", mode.stream_warmup_s + mode.stream_measure_s + 20, streams_stage)
    report["wall_s"] = round(budget.elapsed(), 1)
    report["complete"] = True
    save(report)
    return report


def main(argv: list[str]) -> int:
    """Run, write DIR/report.json and DIR/summary.txt, print the summary; 1 when a stage broke."""
    args = _parse(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    report = run(args, lambda report: write_report(args.out, report))
    print(summarize(report), end="")
    broken = failures(report["stages"])
    if broken:
        print(f"vgsum bench gpu: broke: {', '.join(broken)} (see {args.out / 'report.json'})", file=sys.stderr)
    return 1 if broken else 0
