"""The text encoder finds its tokenizer and label embeddings in the engine folder, whichever engine file it runs.

A TensorRT plan lives in the folder's `trt-cache/`, while `vgsum export text` writes
tokenizer.json and labels.npy into the folder itself. The plan layout is built here from
the real ONNX engine placed where a plan goes, run by ONNX Runtime, so the path
resolution is checked without TensorRT or a GPU.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from text_engine_fixture import build_text_engine

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.paths import engine_dir
from vgsum.runtime.engines.backends import OrtBackend, resolve_engine
from vgsum.runtime.engines.manifest import LABELS_FILE, TEXT_ENGINE, TOKENIZER_FILE, sidecar_name
from vgsum.runtime.engines.text import TextEncoder, engine_folder, load_text_encoder

TEXT_FILES = (TEXT_ENGINE, sidecar_name(TEXT_ENGINE), TOKENIZER_FILE, LABELS_FILE)
PLAN = "trt-cache/text-fp16-0123456789abcdef.plan"


@pytest.fixture(scope="module")
def text_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Reuse the engine cache's text engine when there is one, because building it takes minutes; else build one."""
    cache = engine_dir()
    if all((cache / name).is_file() for name in TEXT_FILES):
        return cache
    return build_text_engine(tmp_path_factory).folder


def _plan_layout(source: Path, folder: Path, with_tokenizer: bool = True) -> Path:
    """An engine folder laid out as `vgsum export text --format trt` leaves it, the plan being the ONNX graph."""
    (folder / "trt-cache").mkdir(parents=True)
    (folder / PLAN).symlink_to(source / TEXT_ENGINE)
    for name in (TOKENIZER_FILE, LABELS_FILE) if with_tokenizer else (LABELS_FILE,):
        (folder / name).symlink_to(source / name)
    sidecar = json.loads((source / sidecar_name(TEXT_ENGINE)).read_text(encoding="utf-8"))
    sidecar.update(file=PLAN, format="trt", precision="fp16")  # same bytes, so the same sha256
    (folder / sidecar_name(TEXT_ENGINE, "tensorrt")).write_text(json.dumps(sidecar), encoding="utf-8")
    return folder


def _plan_backend(folder: Path) -> OrtBackend:
    engine_file, sidecar = resolve_engine(folder / TEXT_ENGINE, "tensorrt")
    assert engine_file == folder / PLAN
    return OrtBackend(engine_file, sidecar, device="cpu", threads=1)


def test_a_plan_in_trt_cache_reads_the_tokenizer_and_labels_from_the_engine_folder(
    text_folder: Path, tmp_path: Path
) -> None:
    folder = _plan_layout(text_folder, tmp_path / "engines")
    backend = _plan_backend(folder)
    assert engine_folder(backend) == folder

    on_plan = TextEncoder(backend)
    reference = load_text_encoder(text_folder, device="cpu", threads=1)
    assert engine_folder(reference.engine) == text_folder
    np.testing.assert_array_equal(on_plan.label_embeddings, reference.label_embeddings)
    texts = ["a person riding a bicycle", "pizza"]
    np.testing.assert_allclose(on_plan.encode(texts), reference.encode(texts), atol=1e-6)


def test_a_missing_tokenizer_is_named_in_the_engine_folder_not_in_trt_cache(text_folder: Path, tmp_path: Path) -> None:
    folder = _plan_layout(text_folder, tmp_path / "engines", with_tokenizer=False)
    with pytest.raises(UserError) as caught:
        TextEncoder(_plan_backend(folder))
    message = str(caught.value)
    assert f"text engine file {folder / TOKENIZER_FILE} is missing" in message
    assert f"--out {folder}`" in message and "\n" not in message
