"""Run an exported engine: one interface over ONNX Runtime and TensorRT.

Every engine is a file plus a JSON sidecar (written by `vgsum export`). The
runtime never trusts a file the sidecar does not vouch for: the sidecar must exist
and its sha256 must match the engine bytes, otherwise the user gets one line naming
the file and the export command that rebuilds it. Heavy libraries (onnxruntime,
tensorrt, cuda) are imported only when a backend of that kind is loaded, and torch
never is.
"""

from __future__ import annotations

import json
import logging
import re
import statistics
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from vgsum.runtime.common.digest import sha256_of
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.manifest import sidecar_name

log = logging.getLogger(__name__)

KINDS = ("onnxruntime", "tensorrt")
DEVICES = ("auto", "cpu", "cuda")
# A call whose inputs exceed ATYPICAL_FACTOR x the median of the last RECENT_CALLS calls
# (once there are MIN_CALLS_FOR_MEDIAN) shrinks ONNX Runtime's CPU arena after it.
RECENT_CALLS = 64
MIN_CALLS_FOR_MEDIAN = 8
ATYPICAL_FACTOR = 2.0


@dataclass(frozen=True)
class IOSpec:
    """One named input or output as the sidecar declares it (symbolic dims are strings)."""

    name: str
    shape: tuple[int | str, ...]
    dtype: np.dtype


def export_command(engine: str, out_dir: Path, kind: str = "onnxruntime") -> str:
    """The command line that (re)builds `engine` into `out_dir`."""
    fmt = " --format trt" if kind == "tensorrt" else ""
    return f"vgsum export {engine}{fmt} --out {out_dir}"


def _engine_name(sidecar: dict[str, Any] | None, path: Path) -> str:
    if sidecar and sidecar.get("engine"):
        return str(sidecar["engine"])
    return re.split(r"[._]", path.name)[0] or "all"  # refiner_frame.json -> refiner


def sidecar_for(path: Path | str, kind: str = "onnxruntime") -> Path:
    """The sidecar to load for `path` on backend `kind`.

    ONNX engines: `text.onnx` or `text.json` -> `text.json`. TensorRT plans have their
    own sidecar beside the ONNX one, so `text.json` -> `text.trt.json` for `tensorrt`.
    """
    path = Path(path).expanduser()
    return path.with_name(sidecar_name(path.name, kind))


def resolve_engine(path: Path | str, kind: str = "onnxruntime") -> tuple[Path, dict[str, Any]]:
    """Engine file and verified sidecar for `path` (either the engine file or its `.json` sidecar).

    Raises UserError (one line: which file, and the export command) when the sidecar or
    the engine is missing, unreadable, or the engine's sha256 differs from the sidecar's.
    """
    sidecar_file = sidecar_for(path, kind)
    out_dir = sidecar_file.parent
    name = _engine_name(None, sidecar_file)
    if not sidecar_file.is_file():
        command = export_command(name, out_dir, kind)
        raise UserError(f"engine sidecar {sidecar_file} is missing; build it with `{command}`")
    try:
        sidecar = json.loads(sidecar_file.read_text(encoding="utf-8"))
        engine_file = out_dir / sidecar["file"]
        expected = str(sidecar["sha256"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UserError(
            f"engine sidecar {sidecar_file} is unreadable ({type(err).__name__}); "
            f"rebuild it with `{export_command(name, out_dir, kind)}`"
        ) from None
    name = _engine_name(sidecar, sidecar_file)
    command = export_command(name, out_dir, kind)
    if not engine_file.is_file():
        raise UserError(f"engine file {engine_file} is missing; build it with `{command}`")
    if sha256_of(engine_file) != expected:
        raise UserError(
            f"engine file {engine_file} does not match its sidecar (sha256 differs); rebuild it with `{command}`"
        )
    return engine_file, sidecar


def _specs(entries: list[dict[str, Any]]) -> list[IOSpec]:
    return [IOSpec(e["name"], tuple(e["shape"]), np.dtype(e["dtype"])) for e in entries]


class Backend(ABC):
    """A loaded engine: named numpy arrays in, named numpy arrays out."""

    #: the execution provider that really runs it, e.g. "CPUExecutionProvider" or "TensorRT"
    provider: str
    #: the engine's verified sidecar
    sidecar: dict[str, Any]
    #: the engine file
    path: Path

    @cached_property
    def inputs(self) -> list[IOSpec]:
        """What the engine takes, from the sidecar (checked against the engine at load)."""
        return _specs(self.sidecar["inputs"])

    @cached_property
    def outputs(self) -> list[IOSpec]:
        """What the engine gives, from the sidecar."""
        return _specs(self.sidecar["outputs"])

    @abstractmethod
    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run once; `feeds` maps every input name to an array of the declared dtype."""

    def interrupt(self) -> None:  # noqa: B027 - optional: a backend that cannot interrupt does nothing
        """Make the call in progress, and every later one until `resume()`, raise at once (for a prompt stop).

        A backend that cannot cut a call short lets it finish.
        """

    def resume(self) -> None:  # noqa: B027 - optional, as `interrupt`
        """Undo `interrupt()`: calls run again."""

    def _prepare(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        # A missing or unexpected name is a caller bug (the runtime builds feeds), so it raises.
        names = {spec.name for spec in self.inputs}
        if set(feeds) != names:
            raise KeyError(f"{self.path.name} takes inputs {sorted(names)}, got {sorted(feeds)}")
        return {spec.name: np.ascontiguousarray(feeds[spec.name], dtype=spec.dtype) for spec in self.inputs}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path.name}, provider={self.provider})"


class OrtBackend(Backend):
    """ONNX Runtime: the CUDA provider when asked for (or `auto` and present), else CPU."""

    def __init__(self, engine_file: Path, sidecar: dict[str, Any], device: str = "auto", threads: int | None = None):
        import onnxruntime as ort

        available = ort.get_available_providers()
        has_cuda = "CUDAExecutionProvider" in available
        if device == "cuda" and not has_cuda:
            raise UserError(
                f"device 'cuda' asked for {engine_file.name}, but onnxruntime has no CUDA provider "
                f"(available: {', '.join(available)}); install onnxruntime-gpu or use device 'cpu'"
            )
        providers = ["CPUExecutionProvider"]
        if device in ("cuda", "auto") and has_cuda:
            providers.insert(0, "CUDAExecutionProvider")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = int(threads)
        options.log_severity_level = 3  # warnings about unused initializers etc. are noise for users
        self.session = ort.InferenceSession(str(engine_file), sess_options=options, providers=providers)
        self.path = engine_file
        self.sidecar = sidecar
        self.provider = self.session.get_providers()[0]
        real = {i.name for i in self.session.get_inputs()}
        declared = {spec.name for spec in self.inputs}
        if real != declared:
            raise UserError(
                f"engine file {engine_file} takes inputs {sorted(real)} but its sidecar says {sorted(declared)}; "
                f"rebuild it with `{export_command(_engine_name(sidecar, engine_file), engine_file.parent)}`"
            )
        self._output_names = [o.name for o in self.session.get_outputs()]
        self._run_options  # noqa: B018 - made now, before any thread can race to make it
        self._shrink_options  # noqa: B018
        self._recent_sizes  # noqa: B018
        log.info(
            "engine %s on onnxruntime %s (device=%s, threads=%s)",
            *(engine_file.name, self.provider, device, threads or "default"),
        )

    @cached_property
    def _run_options(self) -> Any:
        """The options of every call; their `terminate` flag cuts a running call short (also for subclasses)."""
        import onnxruntime as ort

        return ort.RunOptions()

    @cached_property
    def _shrink_options(self) -> Any:
        """The options of an unusually large call: the CPU arena gives back what the call grew it by.

        ONNX Runtime's CPU arena keeps every chunk it ever grew to. One batch of 8 (the
        frames that queue up while a camera reconnects, where 1-3 is usual) added 35 MiB to
        a daemon's RSS for good. Without the arena each call pays malloc and page faults
        for its buffers (2.3x the pipeline's CPU under the daemon's malloc settings), so the
        arena stays and only atypical calls shrink it, as ONNX Runtime suggests.
        """
        import onnxruntime as ort

        options = ort.RunOptions()
        options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        return options

    @cached_property
    def _recent_sizes(self) -> deque[int]:
        """Input bytes of the last calls (a property, so subclasses with their own __init__ have it too)."""
        return deque(maxlen=RECENT_CALLS)

    def _options_for(self, feeds: dict[str, np.ndarray]) -> Any:
        """The shrinking options when the inputs are over twice the median size of the recent calls."""
        size = sum(array.nbytes for array in feeds.values())
        recent = self._recent_sizes
        atypical = len(recent) >= MIN_CALLS_FOR_MEDIAN and size > ATYPICAL_FACTOR * statistics.median(recent)
        recent.append(size)
        return self._shrink_options if atypical else self._run_options

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        prepared = self._prepare(feeds)
        results = self.session.run(self._output_names, prepared, self._options_for(prepared))
        return dict(zip(self._output_names, results, strict=True))

    def interrupt(self) -> None:
        """ONNX Runtime checks the flag between kernels: a running call raises within milliseconds."""
        self._run_options.terminate = True
        self._shrink_options.terminate = True

    def resume(self) -> None:
        """Calls run again."""
        self._run_options.terminate = False
        self._shrink_options.terminate = False


def _cudart() -> Any:
    """The CUDA runtime bindings of `cuda-python` (module path differs across its versions)."""
    try:
        from cuda.bindings import runtime as cudart  # cuda-python >= 12.6
    except ImportError:
        from cuda import cudart  # older cuda-python
    return cudart


def cuda_check(result: tuple[Any, ...]) -> Any:
    """Unwrap a cuda-python `(err, value...)` tuple, raising on a CUDA error."""
    err, *values = result
    if int(err) != 0:
        raise RuntimeError(f"CUDA call failed: {err}")
    return values[0] if len(values) == 1 else tuple(values)


class TrtBackend(Backend):
    """TensorRT 10: deserialise a plan built by `vgsum.export.trt`, run with `execute_async_v3`.

    Unverified until it has run on a GPU: written to the documented TensorRT Python API.
    """

    provider = "TensorRT"

    def __init__(self, engine_file: Path, sidecar: dict[str, Any], device: str = "auto"):
        try:
            import tensorrt as trt
        except ImportError:
            raise UserError(
                f"backend 'tensorrt' asked for {engine_file.name}, but the tensorrt package is not installed "
                "(pip install 'vgsum[trt]'); use backend 'onnxruntime' instead"
            ) from None
        if device == "cpu":
            raise UserError("backend 'tensorrt' needs a GPU; use backend 'onnxruntime' with device 'cpu'")
        self._trt = trt
        self._cudart = _cudart()
        self.path = engine_file
        self.sidecar = sidecar
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        self.engine = self._runtime.deserialize_cuda_engine(engine_file.read_bytes())
        if self.engine is None:
            raise UserError(
                f"engine file {engine_file} does not load in this TensorRT/GPU; rebuild it with "
                f"`{export_command(_engine_name(sidecar, engine_file), engine_file.parent, 'tensorrt')}`"
            )
        self.context = self.engine.create_execution_context()
        self.stream = cuda_check(self._cudart.cudaStreamCreate())
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        self._input_names = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        self._output_names = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]
        self._buffers: dict[str, tuple[int, int]] = {}  # name -> (device pointer, bytes)
        log.info("engine %s on TensorRT %s", engine_file.name, trt.__version__)

    def _device_buffer(self, name: str, nbytes: int) -> int:
        pointer, size = self._buffers.get(name, (0, 0))
        if size < nbytes:
            if pointer:
                cuda_check(self._cudart.cudaFree(pointer))
            pointer = cuda_check(self._cudart.cudaMalloc(max(nbytes, 1)))
            self._buffers[name] = (pointer, nbytes)
        return pointer

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        cudart = self._cudart
        h2d, d2h = cudart.cudaMemcpyKind.cudaMemcpyHostToDevice, cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost
        feeds = self._prepare(feeds)
        for name in self._input_names:
            # The ONNX parser may narrow int64 inputs to int32; feed what the plan really takes.
            array = np.ascontiguousarray(feeds[name], dtype=self._trt.nptype(self.engine.get_tensor_dtype(name)))
            self.context.set_input_shape(name, array.shape)
            pointer = self._device_buffer(name, array.nbytes)
            cuda_check(cudart.cudaMemcpyAsync(pointer, array.ctypes.data, array.nbytes, h2d, self.stream))
            self.context.set_tensor_address(name, pointer)
        results: dict[str, np.ndarray] = {}
        for name in self._output_names:
            shape = tuple(self.context.get_tensor_shape(name))
            dtype = np.dtype(self._trt.nptype(self.engine.get_tensor_dtype(name)))
            results[name] = np.empty(shape, dtype=dtype)
            self.context.set_tensor_address(name, self._device_buffer(name, results[name].nbytes))
        if not self.context.execute_async_v3(self.stream):
            raise RuntimeError(f"TensorRT execution of {self.path.name} failed")
        for name, array in results.items():
            pointer = self._buffers[name][0]
            cuda_check(cudart.cudaMemcpyAsync(array.ctypes.data, pointer, array.nbytes, d2h, self.stream))
        cuda_check(cudart.cudaStreamSynchronize(self.stream))
        return results

    def __del__(self) -> None:
        for pointer, _ in getattr(self, "_buffers", {}).values():
            self._cudart.cudaFree(pointer)


def load_backend(
    path: Path | str, kind: str = "onnxruntime", device: str = "auto", threads: int | None = None
) -> Backend:
    """Load the engine at `path` (engine file or its sidecar) on the chosen backend and device.

    `kind` and `device` come from config; `threads` sets ONNX Runtime's intra-op threads
    (None keeps its default). Problems a user can fix raise UserError with one line.
    """
    if kind not in KINDS:
        raise UserError(f"unknown backend {kind!r}; one of: {', '.join(KINDS)}")
    if device not in DEVICES:
        raise UserError(f"unknown device {device!r}; one of: {', '.join(DEVICES)}")
    engine_file, sidecar = resolve_engine(path, kind)
    if kind == "tensorrt":
        return TrtBackend(engine_file, sidecar, device)
    return OrtBackend(engine_file, sidecar, device, threads)
