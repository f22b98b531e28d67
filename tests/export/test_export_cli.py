"""`vgsum export` as a user runs it: one summary line per engine, one line per mistake."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from text_engine_fixture import TextBuild, build_text_engine, vgsum


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> TextBuild:
    return build_text_engine(tmp_path_factory)


def test_text_export_prints_one_summary_line(build: TextBuild) -> None:
    lines = build.stdout.strip().splitlines()
    assert len(lines) == 1
    match = re.fullmatch(
        r"text: text\.onnx onnx fp32 (\d+\.\d) MB, (\d+\.\d) s, parity 2/2 within tolerance, "
        r"worst (min_cosine|max_abs_diff) ([\d.e+-]+) \(tol [\d.]+\) -> (.+)",
        lines[0],
    )
    assert match, lines[0]
    size, seconds, metric, value, folder = match.groups()
    assert abs(float(size) - (build.folder / "text.onnx").stat().st_size / 1e6) < 0.1
    assert float(seconds) > 0
    assert Path(folder) == build.folder
    sidecar = json.loads((build.folder / "text.json").read_text())
    recorded = {p["metric"]: p["value"] for p in sidecar["parity"]}
    assert recorded["min_cosine"] >= 0.999 and recorded["max_abs_diff"] < 1e-4
    assert float(value) == pytest.approx(recorded[metric], rel=1e-2)


def test_progress_goes_to_stderr(build: TextBuild) -> None:
    for step in ("exporting to ONNX", "checking parity against torch", "embedding the COCO labels"):
        assert step in build.stderr
    assert "Traceback" not in build.stderr


def test_help_exits_zero() -> None:
    result = vgsum("export", "--help")
    assert result.returncode == 0 and "--precision" in result.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["bogus"], "invalid choice: 'bogus'"),
        (["text", "--format", "tflite"], "invalid choice: 'tflite'"),
        (["text", "--precision", "fp16"], "applies to --format trt"),
        (["text", "--format", "trt", "--profile", "batch=1,4"], "DIM=MIN,OPT,MAX"),
        ([], "required"),
    ],
)
def test_bad_arguments_give_one_line(args: list[str], says: str, tmp_path: Path) -> None:
    result = vgsum("export", *args, "--out", str(tmp_path), timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.stderr
    assert lines[0].startswith("vgsum export: ")
    assert list(tmp_path.iterdir()) == []  # nothing half-built


@pytest.mark.skipif(importlib.util.find_spec("tensorrt") is not None, reason="tensorrt is installed here")
def test_trt_format_without_tensorrt_is_one_line(tmp_path: Path) -> None:
    result = vgsum("export", "text", "--format", "trt", "--precision", "fp16", "--out", str(tmp_path), timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "vgsum export: TensorRT is not installed here (`pip install 'vgsum[trt]'` on a machine with an NVIDIA GPU); "
        "use --format onnx"
    ]


def test_summary_names_the_check_closest_to_failing(tmp_path: Path) -> None:
    from vgsum.export.cli import summary_line

    (tmp_path / "x.onnx").write_bytes(b"\0" * 2_500_000)
    parity = [
        {"metric": "min_cosine", "value": 0.9985, "tolerance": 0.999, "inputs": "a"},  # failed: uses 150 % of its slack
        {"metric": "max_abs_diff", "value": 5e-4, "tolerance": 1e-3, "inputs": "b"},  # 50 %
    ]
    sidecar = {"engine": "x", "file": "x.onnx", "format": "onnx", "precision": "fp32", "parity": parity}
    (tmp_path / "x.json").write_text(json.dumps(sidecar))
    line = summary_line("x", tmp_path / "x.json", 1.25)
    expected = "x: x.onnx onnx fp32 2.5 MB, 1.2 s, parity 1/2 within tolerance, worst min_cosine 0.9985 (tol 0.999)"
    assert line == f"{expected} -> {tmp_path}"


def test_refiner_export_says_it_is_untrained_and_loads_on_the_edge(tmp_path: Path) -> None:
    result = vgsum("export", "refiner", "--untrained", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["refiner", "refiner"]
    assert "refiner_frame.onnx" in lines[0] and "refiner_window.onnx" in lines[1]
    assert all("parity 1/1 within tolerance" in line for line in lines)
    for graph in ("frame", "window"):
        sidecar = json.loads((tmp_path / f"refiner_{graph}.json").read_text())
        assert sidecar["engine"] == "refiner" and sidecar["extra"]["trained"] is False
        assert "randomly initialised" in sidecar["extra"]["weights"] and sidecar["sources"] == []
    from vgsum.runtime.engines.refiner import RefinerEngines

    engines = RefinerEngines.load(tmp_path, device="cpu")
    assert engines.trained is False and engines.provider == "CPUExecutionProvider"


def test_missing_refiner_checkpoint_is_one_line(tmp_path: Path) -> None:
    result = vgsum("export", "refiner", "--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path), timeout=60)
    assert result.returncode == 2
    assert [line for line in result.stderr.splitlines() if line.startswith("vgsum export:")] == [
        f"vgsum export: refiner checkpoint {tmp_path / 'none.pt'} does not exist; train one with `vgsum train`"
    ]
