"""The report on disk: DIR/report.json with every figure, and DIR/summary.txt, the same on one page.

Both are rewritten after every stage, so that a run cut off from outside (a hard
wall-clock cap, a lost machine) still leaves what finished, readable by people.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from vgsum.runtime.bench.gpu.candidates import ENGINE_ONNX
from vgsum.runtime.bench.gpu.environment import ABSENT
from vgsum.runtime.bench.gpu.live import SAMPLE_FPS

REPORT_VERSION = 1


def _status_line(entry: dict[str, Any]) -> str:
    if not entry:
        return "not reached (the run ended before it)"
    if entry.get("status") == "skipped":
        return f"skipped: {entry.get('reason')}"
    if entry.get("status") == "failed":
        return f"FAILED: {entry.get('error')}"
    return "ok"


def _entry_lines(section: dict[str, Any], line: Callable[[str, dict[str, Any]], str], ran: str = "ok") -> list[str]:
    """One indented line per named entry of a stage: `line` for those that ran, the status line for the rest.

    `ran` is "ok" where every entry carries its status, "no status" where an entry that
    ran carries none (a candidate's parity checks).
    """
    lines = []
    for name, entry in section.items():
        if not isinstance(entry, dict):
            continue
        status = entry.get("status", "ok" if ran == "no status" else None)
        lines.append(f"  {line(name, entry)}" if status == "ok" else f"  {name}: {_status_line(entry)}")
    return lines


def _environment_lines(env: dict[str, Any]) -> list[str]:
    if env.get("status") != "ok":
        return [f"environment: {_status_line(env)}"]
    memory = "" if env["gpu"] == ABSENT else f" ({env['gpu_memory']})"
    return [
        f"environment: GPU {env['gpu']}{memory}, driver {env['driver']}, CUDA driver "
        f"{env['cuda_driver']} runtime {env['cuda_runtime']}, TensorRT {env['tensorrt']}, onnxruntime "
        f"{env['onnxruntime']}, onnxruntime-gpu {env['onnxruntime_gpu']}, cuda-python {env['cuda_python']}; "
        f"providers {env['onnxruntime_providers']}; {env['cores']} cores ({env['cpu']})"
    ]


def _plan_lines(calibration: dict[str, Any], plans: dict[str, Any]) -> list[str]:
    lines = []
    if calibration.get("status") == "ok":
        parts = []
        for engine, entry in calibration.items():
            if isinstance(entry, dict) and "status" in entry:
                shape = entry.get("first_batch")
                parts.append(f"{engine} {shape if entry['status'] == 'ok' else _status_line(entry)}")
        lines.append("INT8 calibration inputs: " + "; ".join(parts))
    if plans.get("status") != "ok":
        return [*lines, f"TensorRT plans: {_status_line(plans)}"]
    lines.append("TensorRT plans:")
    for engine, by_precision in plans.get("builds", {}).items():
        cells = []
        for precision, entry in by_precision.items():
            if entry.get("status") == "ok":
                cached = ", from cache" if entry.get("from_cache") else ""
                cells.append(f"{precision} built in {entry['seconds']:.1f} s ({entry['bytes'] / 1e6:.1f} MB{cached})")
            else:
                cells.append(f"{precision} {_status_line(entry)}")
        lines.append(f"  {engine}: " + "; ".join(cells))
    return lines


def _parity_cell(engine: str, entry: dict[str, Any]) -> str:
    if entry.get("status") != "ok":
        return f"{engine} {_status_line(entry)}"
    verdict = "PASS" if entry["pass"] else "MISS"
    if engine == "perception":
        return (
            f"perception {verdict} ({entry['detections_matched']}/"
            f"{entry['detections_reference']} matched, {entry['detections_missing']} missing, "
            f"{entry['detections_extra']} extra, {entry['detections_borderline']} borderline, "
            f"|score| {entry['max_score_diff']:.4f}, cos {entry['min_frame_feature_cosine']:.5f}/"
            f"{entry['min_object_feature_cosine']:.5f})"
        )
    return f"{engine} {verdict} ({entry.get('min_cosine', entry.get('max_abs_diff'))})"


def _parity_lines(parity: dict[str, Any], tol: dict[str, Any]) -> list[str]:
    lines = [
        f"parity vs ONNX Runtime CPU (same detections at IoU >= {tol['iou_min']}, |score| <= {tol['score_abs']}, "
        f"feature/text/node cosine >= {tol['feature_cosine_min']}, |window score| <= {tol['window_score_abs']}):"
    ]
    if parity.get("status") != "ok":
        lines.append(f"  {_status_line(parity)}")

    def line(name: str, checks: dict[str, Any]) -> str:
        cells = [_parity_cell(e, checks[e]) for e in ENGINE_ONNX if isinstance(checks.get(e), dict)]
        return f"{name}: " + "; ".join(cells)

    return lines + _entry_lines(parity, line, ran="no status")


def _throughput_lines(throughput: dict[str, Any]) -> list[str]:
    lines = ["perception throughput (frames/s at the median call; p50/p95 ms per call; copies included):"]
    if throughput.get("status") != "ok":
        lines.append(f"  {_status_line(throughput)}")

    def line(name: str, entry: dict[str, Any]) -> str:
        cells = []
        for batch, cell in entry.get("batches", {}).items():
            if cell.get("status") == "ok":
                cells.append(
                    f"b{batch} {cell['frames_per_s']:.1f}/s ({cell['latency_p50_ms']:.1f}/{cell['latency_p95_ms']:.1f})"
                )
            else:
                cells.append(f"b{batch} {_status_line(cell)}")
        return f"{name}: " + ", ".join(cells)

    return lines + _entry_lines(throughput, line)


def _cache_lines(cache: dict[str, Any]) -> list[str]:
    def line(name: str, entry: dict[str, Any]) -> str:
        if name == "tensorrt":
            return (
                f"tensorrt: first start built in {entry['first_start_build_s']} s; second start found the plan in "
                f"{entry['second_start_lookup_s']} s (hit: {entry['second_start_hit']}), deserialised in "
                f"{entry['first_load_s']} s then {entry['second_load_s']} s"
            )
        return f"{name}: session load {entry['first_load_s']} s, again {entry['second_load_s']} s"

    head = "second start:" if cache.get("status") == "ok" else f"second start: {_status_line(cache)}"
    return [head, *_entry_lines(cache, line)]


def _streams_lines(streams: dict[str, Any]) -> list[str]:
    if streams.get("status") != "ok" or not streams.get("steps"):
        return [f"live streams: {_status_line(streams)}"]
    lines = [
        f"live streams ({streams['backend']}: {streams['why_this_backend']}; looped sample at {SAMPLE_FPS:g} fps, "
        f"decode {streams['decode_cpu_s_per_stream_s'] * 1000:.0f} ms CPU per stream-second):"
    ]
    for step in streams["steps"]:
        ms = step["ms_per_frame"]
        lines.append(
            f"  N={step['streams']}: {'keeps up' if step['keeps_up'] else 'FALLS BEHIND'}, "
            f"{step['frames_scored']}/{step['frames_expected']:.0f} frames scored, "
            f"{step['frames_dropped']} dropped, "
            f"decode->score p50/p95 {step['latency_p50_ms']}/{step['latency_p95_ms']} ms; per frame perception "
            f"{ms['perception']:.1f}, refiner {ms['refiner']:.1f}, Python {ms['Python']:.1f} ms; pipeline thread "
            f"{step['pipeline_thread_busy']:.0%} busy, cores {step['cpu_busy']:.0%}"
        )
    if streams.get("stopped"):
        lines.append(f"  {streams['stopped']}")
    if streams.get("limit"):
        lines.append(f"  limit: {streams['limit']} at N={streams['at_streams']} ({streams['why']})")
    else:
        lines.append(
            f"  limit: {streams['why']}; projected: {streams['projected_limit']} at about "
            f"{streams['projected_streams']} streams"
        )
    lines.append(f"  each alone allows (streams): {streams['streams_each_alone_allows']}")
    lines.append(f"  next step: {streams['next_step']}")
    return lines


def summarize(report: dict[str, Any]) -> str:
    """The report on one page, for people."""
    stages = report["stages"]
    lines = [
        f"vgsum bench gpu ({'--cpu dry run' if report['mode'] == 'cpu' else 'GPU run'}), {report['started']}, "
        f"{report.get('wall_s', '?')} s of a {report['time_limit_s']:g} s limit"
        + ("" if report.get("complete") else " (INCOMPLETE: the run ended early)"),
        f"engines: {report['engines']}; frames: {report.get('sample', {}).get('file')} "
        f"{report.get('sample', {}).get('frame_size')}",
        *_environment_lines(stages.get("environment", {})),
        *_plan_lines(stages.get("calibration", {}), stages.get("plans", {})),
        *_parity_lines(stages.get("parity", {}), report["tolerances"]),
        *_throughput_lines(stages.get("throughput", {})),
        *_cache_lines(stages.get("cache", {})),
        *_streams_lines(stages.get("streams", {})),
    ]
    return "\n".join(lines) + "\n"


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def write_report(out: Path, report: dict[str, Any]) -> None:
    """DIR/report.json and DIR/summary.txt as the report stands now."""
    text = json.dumps(report, indent=2, default=_json_default) + "\n"
    (out / "report.json").write_text(text, encoding="utf-8")
    (out / "summary.txt").write_text(summarize(report), encoding="utf-8")
