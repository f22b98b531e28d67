"""`vgsum bench gpu --cpu`, the dry run of the GPU benchmark, as CI runs it: real engines, real frames, real streams.

The GPU stages cannot run here; the dry run must still take every code path it can
(calibration inputs, parity, throughput, session loads, live streams) and say of each
GPU stage that it was skipped, and why.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vgsum.runtime.bench.gpu.parity import TOLERANCES, compare_detections
from vgsum.runtime.bench.gpu.throughput import sample_frames_for_bench
from vgsum.runtime.common.paths import engine_dir
from vgsum.runtime.engines.backends import load_backend
from vgsum.runtime.engines.manifest import ENGINE_FILES

GPU_CANDIDATES = ("ort-cuda", "trt-fp16", "trt-int8")
ENGINES = ("perception", "text", "refiner_frame", "refiner_window")


@pytest.fixture(scope="module")
def engines(request: pytest.FixtureRequest) -> Path:
    """The engine cache when it is complete, else the session's freshly built engines."""
    cache = engine_dir()
    if all((cache / name).is_file() for name in ENGINE_FILES):
        return cache
    return request.getfixturevalue("engine_folder")


def _vgsum(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vgsum.runtime.cli", *args], capture_output=True, text=True, timeout=timeout
    )


def _skipped_with_reason(entry: dict) -> bool:
    return entry.get("status") == "skipped" and len(entry.get("reason", "")) > 10


@pytest.fixture(scope="module")
def dry_run(engines: Path, bikes_mp4: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, str]:
    out = tmp_path_factory.mktemp("gpu-bench") / "out"
    result = _vgsum("bench", "gpu", "--cpu", "--out", str(out), "--engines", str(engines))
    assert result.returncode == 0, result.stderr[-3000:]
    summary = (out / "summary.txt").read_text(encoding="utf-8")
    assert summary in result.stdout  # the summary printed is the one written
    return json.loads((out / "report.json").read_text(encoding="utf-8")), summary, result.stderr


@pytest.mark.slow
def test_the_dry_run_reports_every_stage_with_real_figures(dry_run: tuple[dict, str, str]) -> None:
    from importlib.metadata import version

    report, summary, _ = dry_run
    stages = report["stages"]
    assert report["mode"] == "cpu"
    assert list(stages) == ["environment", "calibration", "plans", "parity", "throughput", "cache", "streams"]
    assert report["wall_s"] < report["time_limit_s"]
    assert report["tolerances"]["score_abs"] == 0.02 and report["tolerances"]["feature_cosine_min"] == 0.999

    env = stages["environment"]
    assert env["status"] == "ok"
    assert env["onnxruntime_module"] == version("onnxruntime")
    assert "CPUExecutionProvider" in env["onnxruntime_providers"]
    for key in ("gpu", "driver", "cuda_driver", "cuda_runtime", "tensorrt", "onnxruntime_gpu", "cuda_python"):
        assert isinstance(env[key], str) and env[key], key

    # INT8 calibration inputs come from export/trt.py's own code, on real frames and sentences.
    calibration = stages["calibration"]
    assert calibration["perception"]["status"] == "ok"
    assert calibration["perception"]["first_batch"]["frames"] == [32, 720, 1280, 3]
    assert calibration["text"]["status"] == "ok"
    assert _skipped_with_reason(calibration["refiner_frame"]) and "int8" in calibration["refiner_frame"]["reason"]

    # GPU sections: skipped, with the reason.
    assert _skipped_with_reason(stages["plans"])
    for engine in ENGINES:
        for precision in ("fp16", "int8"):
            assert _skipped_with_reason(stages["plans"]["builds"][engine][precision])
    for name in GPU_CANDIDATES:
        assert _skipped_with_reason(stages["parity"][name]), name
        assert _skipped_with_reason(stages["throughput"][name]), name
    assert _skipped_with_reason(stages["cache"]["onnxruntime_cuda"])
    assert _skipped_with_reason(stages["cache"]["tensorrt"])

    # Parity ran for real: ORT CPU against itself at 1 thread and basic graph optimisation.
    variant = stages["parity"]["ort-cpu-1t-basic"]
    perception = variant["perception"]
    assert perception["status"] == "ok" and perception["pass"] is True
    assert perception["frames"] == 8 and perception["detections_reference"] > 0
    assert perception["detections_matched"] == perception["detections_reference"]
    assert perception["min_frame_feature_cosine"] >= 0.999 and perception["min_object_feature_cosine"] >= 0.999
    assert variant["text"]["pass"] and variant["text"]["sentences"] > 0
    assert variant["refiner_frame"]["pass"] and variant["refiner_frame"]["frames"] == 8
    assert variant["refiner_window"]["pass"] and variant["refiner_window"]["window"] == 8

    for name in ("ort-cpu", "ort-cpu-1t-basic"):
        timing = stages["throughput"][name]
        assert timing["status"] == "ok" and timing["frame_size"] == "640x272"
        for batch in ("1", "8"):
            cell = timing["batches"][batch]
            assert cell["runs"] >= 2 and cell["frames_per_s"] > 0 and cell["latency_p50_ms"] > 0, (name, batch)

    loads = stages["cache"]["onnxruntime_cpu"]
    assert loads["first_load_s"] > 0 and loads["second_load_s"] > 0

    streams = stages["streams"]
    assert streams["status"] == "ok" and streams["backend"] == "ort-cpu"
    assert [step["streams"] for step in streams["steps"]] == [1, 2]
    for step in streams["steps"]:
        assert step["frames_scored"] > 0 and step["ms_per_frame"]["perception"] > 0
        assert step["latency_p50_ms"] is not None and step["latency_p50_ms"] > 0
    named = streams.get("limit") or streams.get("projected_limit")
    assert named in ("decode on CPU", "perception", "refiner", "Python")
    assert streams["next_step"]
    assert streams["decode_cpu_s_per_stream_s"] > 0

    assert "--cpu dry run" in summary and "N=2" in summary


def test_a_bad_argument_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = _vgsum("bench", "gpu", "--out", str(tmp_path / "r"), "--time-limit-s", "0", timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["vgsum bench: --time-limit-s must be > 0, got 0"]
    missing = _vgsum("bench", "gpu", "--out", str(tmp_path / "r"), "--engines", str(tmp_path / "none"), timeout=60)
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        f"vgsum bench: no engines in {tmp_path / 'none'}; build them with `vgsum export all --out {tmp_path / 'none'}`"
    ]
    assert not (tmp_path / "r").exists()


def test_the_parity_check_catches_a_lost_detection_a_swapped_class_and_a_score_shift(engines: Path) -> None:
    backend = load_backend(engines / "perception.onnx", device="cpu", threads=1)
    config = backend.sidecar["extra"]["config"]
    frames = sample_frames_for_bench()[::16]
    ref = backend.run({"frames": frames})
    assert compare_detections(ref, {k: v.copy() for k, v in ref.items()}, config)["pass"] is True

    # the frame's strongest detection (well above the threshold, so never borderline)
    row = int(np.argmax(ref["scores"][:, 0]))
    assert ref["scores"][row, 0] > config["score_threshold"] + 2 * TOLERANCES["score_abs"]

    lost = {k: v.copy() for k, v in ref.items()}
    count = int(lost["object_count"][row])
    for key in ("boxes", "classes", "scores", "object_features"):
        lost[key][row, : count - 1] = lost[key][row, 1:count]
    lost["object_count"][row] = count - 1
    verdict = compare_detections(ref, lost, config)
    assert verdict["pass"] is False and verdict["detections_missing"] == 1

    swapped = {k: v.copy() for k, v in ref.items()}
    swapped["classes"][row, 0] = (swapped["classes"][row, 0] + 1) % 80
    verdict = compare_detections(ref, swapped, config)
    assert verdict["pass"] is False and verdict["detections_missing"] == 1 and verdict["detections_extra"] == 1

    shifted = {k: v.copy() for k, v in ref.items()}
    shifted["scores"] = shifted["scores"] + 0.05
    verdict = compare_detections(ref, shifted, config)
    assert verdict["pass"] is False and verdict["max_score_diff"] == pytest.approx(0.05, abs=1e-5)
