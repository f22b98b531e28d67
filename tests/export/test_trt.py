"""The TensorRT builder: profiles and cache keys everywhere; real builds only where TensorRT is installed."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from text_engine_fixture import build_text_engine, vgsum

from vgsum.export.trt import build_engine, cache_key, profile_for, require_tensorrt
from vgsum.runtime.common.errors import UserError

HAS_TENSORRT = importlib.util.find_spec("tensorrt") is not None
NO_TENSORRT = "tensorrt is not installed (it needs an NVIDIA GPU; pip install 'vgsum[trt]')"

TEXT_SIDECAR = {
    "engine": "text",
    "inputs": [
        {"name": "input_ids", "shape": ["batch", "sequence"], "dtype": "int64"},
        {"name": "attention_mask", "shape": ["batch", "sequence"], "dtype": "int64"},
    ],
}
PERCEPTION_SIDECAR = {"engine": "perception", "inputs": [{"name": "frames", "shape": ["batch", 480, 640, 3]}]}


def test_text_profile_covers_batch_and_sequence() -> None:
    profile = profile_for(TEXT_SIDECAR)
    assert profile["input_ids"] == ((1, 2), (5, 16), (64, 256))
    assert profile["attention_mask"] == profile["input_ids"]


def test_fixed_dims_stay_fixed_and_overrides_win() -> None:
    profile = profile_for(PERCEPTION_SIDECAR, {"batch": (2, 8, 32)})
    assert profile["frames"] == ((2, 480, 640, 3), (8, 480, 640, 3), (32, 480, 640, 3))


def test_unknown_dynamic_dim_asks_for_a_profile() -> None:
    sidecar = {"engine": "refiner", "inputs": [{"name": "objects", "shape": ["batch", "num_objects", 256]}]}
    with pytest.raises(UserError, match="--profile num_objects=MIN,OPT,MAX"):
        profile_for(sidecar)
    assert profile_for(sidecar, {"num_objects": (1, 16, 64)})["objects"][2] == (16, 64, 256)


def test_bad_profile_range_is_refused() -> None:
    with pytest.raises(UserError, match="min <= opt <= max"):
        profile_for(TEXT_SIDECAR, {"sequence": (16, 2, 256)})


def test_cache_key_changes_with_every_invalidating_field() -> None:
    base = dict(
        onnx_sha256="a" * 64,
        trt_version="10.7.0",
        gpu_name="NVIDIA H100",
        compute_capability="9.0",
        precision="fp16",
        profile=profile_for(TEXT_SIDECAR),
    )
    key = cache_key(**base)
    assert key == cache_key(**base)  # deterministic
    changes = dict(
        onnx_sha256="b" * 64,
        trt_version="10.8.0",
        gpu_name="NVIDIA L4",
        compute_capability="8.9",
        precision="int8",
        profile=profile_for(TEXT_SIDECAR, {"batch": (1, 5, 128)}),
    )
    for field, value in changes.items():
        assert cache_key(**{**base, field: value}) != key, field


@pytest.mark.skipif(HAS_TENSORRT, reason="tensorrt is installed here")
def test_missing_tensorrt_is_one_line() -> None:
    with pytest.raises(UserError) as caught:
        require_tensorrt()
    assert "TensorRT is not installed" in str(caught.value) and "\n" not in str(caught.value)


NO_CALIBRATION = "int8 calibration is defined for the perception and text engines, not 'refiner'; use fp16"


def test_int8_for_the_refiner_is_one_line_before_any_build(tmp_path: Path) -> None:
    # Raised before TensorRT is imported, so the same line comes with or without it installed:
    # inside the build, TensorRT would call the calibrator from its own code and fail the build instead.
    sidecar = tmp_path / "refiner_window.json"
    nodes = {"name": "nodes", "shape": ["batch", "window", 128], "dtype": "float32"}
    sidecar.write_text(json.dumps({"engine": "refiner", "file": "refiner_window.onnx", "inputs": [nodes]}))
    with pytest.raises(UserError) as caught:
        build_engine(sidecar, "int8")
    assert str(caught.value) == NO_CALIBRATION
    assert sorted(p.name for p in tmp_path.iterdir()) == ["refiner_window.json"]  # no trt-cache/, no plan sidecar


@pytest.mark.parametrize("engine", ["refiner", "all"])
def test_export_int8_with_the_refiner_is_refused_before_any_export(tmp_path: Path, engine: str) -> None:
    out = tmp_path / "engines"
    result = vgsum("export", engine, "--format", "trt", "--precision", "int8", "--out", str(out), timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and result.stderr.strip().endswith(NO_CALIBRATION)
    assert not out.exists()


@pytest.mark.skipif(not HAS_TENSORRT, reason=NO_TENSORRT)
@pytest.mark.parametrize("precision", ["fp16", "int8"])
def test_text_plan_matches_onnx(tmp_path_factory: pytest.TempPathFactory, precision: str) -> None:
    from vgsum.runtime.engines.backends import load_backend
    from vgsum.runtime.engines.text import TextEncoder, load_text_encoder

    folder: Path = build_text_engine(tmp_path_factory).folder
    plan_sidecar = build_engine(folder / "text.json", precision)
    assert plan_sidecar == folder / "text.trt.json"
    again = plan_sidecar.read_text()
    assert build_engine(folder / "text.json", precision).read_text() == again  # served from the engine cache
    onnx = load_text_encoder(folder, device="cpu")
    trt = TextEncoder(load_backend(folder / "text.json", kind="tensorrt"))
    assert trt.engine.provider == "TensorRT"
    texts = ["a person riding a bicycle", "two dogs play in the snow next to a parked car", "pizza"]
    a, b = onnx.encode(texts), trt.encode(texts)
    cosine = np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cosine.min() >= (0.999 if precision == "fp16" else 0.98)


def test_every_engine_as_exported_gets_a_profile_without_overrides() -> None:
    # Input shapes as the perception and refiner exporters write them into their sidecars.
    sidecars = [
        {"engine": "perception", "inputs": [{"name": "frames", "shape": ["batch", "height", "width", 3]}]},
        {
            "engine": "refiner",
            "inputs": [
                {"name": "frame_feature", "shape": ["batch", 1280]},
                {"name": "objects", "shape": ["batch", "objects", 256]},
                {"name": "query", "shape": ["batch", "queries", 384]},
            ],
        },
        {"engine": "refiner", "inputs": [{"name": "nodes", "shape": ["batch", "window", 128]}]},
        TEXT_SIDECAR,
    ]
    profiles = [profile_for(sidecar) for sidecar in sidecars]
    assert profiles[0]["frames"][1] == (4, 720, 1280, 3)
    assert profiles[1]["objects"] == ((1, 1, 256), (4, 16, 256), (16, 64, 256))
    assert profiles[2]["nodes"][2] == (16, 512, 128)
