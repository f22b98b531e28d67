"""The engine manifest names what `vgsum export all` really writes and what the runtime really loads."""

from __future__ import annotations

import json
from pathlib import Path

from vgsum.runtime.engines import manifest
from vgsum.runtime.engines.backends import sidecar_for


def test_a_built_engine_folder_holds_every_file_of_the_manifest(engine_folder: Path) -> None:
    present = {p.name for p in engine_folder.iterdir()}
    assert set(manifest.ENGINE_FILES) <= present, sorted(set(manifest.ENGINE_FILES) - present)
    for engine in manifest.ONNX_ENGINES:  # each sidecar vouches for the engine file of that name
        sidecar = json.loads((engine_folder / manifest.sidecar_name(engine)).read_text())
        assert sidecar["file"] == engine
    text = json.loads((engine_folder / manifest.sidecar_name(manifest.TEXT_ENGINE)).read_text())["extra"]
    assert (text["tokenizer"], text["labels_file"]) == (manifest.TOKENIZER_FILE, manifest.LABELS_FILE)


def test_sidecar_names() -> None:
    assert manifest.sidecar_name("refiner_frame.onnx") == "refiner_frame.json"
    assert manifest.sidecar_name("text.json") == "text.json"
    assert manifest.sidecar_name("text.onnx", "tensorrt") == "text.trt.json"
    assert manifest.sidecar_name("text.trt.json", "tensorrt") == "text.trt.json"
    assert sidecar_for(Path("/e/perception.onnx")) == Path("/e/perception.json")
