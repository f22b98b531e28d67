"""Build TensorRT plans from the exported ONNX engines (TensorRT 10 Python API).

The development machines have no NVIDIA GPU, so nothing here has run against a real
TensorRT there: the code keeps to the documented TensorRT 10 API and stays small.

What it does: explicit min/opt/max optimisation profiles for every dynamic input
dimension (batch for perception, sequence for text, window length for the refiner),
FP16, INT8 with an entropy calibrator over real samples (frames of the bundled video,
or sentences) and FP16 fallback, a timing cache reused across builds, and an engine
cache whose file name carries a hash of everything that invalidates a plan: the ONNX
sha256, the TensorRT version, the GPU name and compute capability, the precision and
the profile. The plan gets its own sidecar `<engine>.trt.json` beside the ONNX one, so
`load_backend(..., kind="tensorrt")` verifies it the same way.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from vgsum.export.sidecar import read_sidecar, sha256_of
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.manifest import sidecar_name

log = logging.getLogger(__name__)

PRECISIONS = ("fp32", "fp16", "int8")
CACHE_DIR = "trt-cache"
WORKSPACE_BYTES = 4 << 30

Shape = tuple[int, ...]
Profile = dict[str, tuple[Shape, Shape, Shape]]  # input name -> (min, opt, max)

# The engines whose INT8 calibration inputs `calibration_batches` knows how to make.
CALIBRATED_ENGINES = ("perception", "text")

# (min, opt, max) per symbolic dimension name, per engine. Anything not named here must
# be given with --profile; guessing a range for an unknown dimension builds a useless plan.
DEFAULT_DIMS: dict[str, dict[str, tuple[int, int, int]]] = {
    # Frames arrive at the camera's own size (resizing is inside the graph): QVGA to 1080p, tuned for 720p.
    "perception": {"batch": (1, 4, 16), "height": (120, 720, 1088), "width": (160, 1280, 1920)},
    "text": {"batch": (1, 5, 64), "sequence": (2, 16, 256)},
    # refiner_frame: frames across streams x padded objects x queries; refiner_window: W node vectors.
    "refiner": {"batch": (1, 4, 16), "objects": (1, 16, 64), "queries": (1, 4, 32), "window": (2, 32, 512)},
}


def require_tensorrt() -> Any:
    """The `tensorrt` module, or a UserError saying it is not installed here."""
    try:
        import tensorrt
    except ImportError:
        raise UserError(
            "TensorRT is not installed here (`pip install 'vgsum[trt]'` on a machine with an NVIDIA GPU); "
            "use --format onnx"
        ) from None
    return tensorrt


def profile_for(sidecar: dict[str, Any], overrides: dict[str, tuple[int, int, int]] | None = None) -> Profile:
    """min/opt/max shapes of every input, from the sidecar's shapes and the engine's dimension ranges.

    Fixed dimensions stay fixed; a symbolic dimension takes its range from `overrides`
    (by dimension name) or DEFAULT_DIMS; one with no known range is a UserError.
    """
    ranges = {**DEFAULT_DIMS.get(sidecar["engine"], {}), **(overrides or {})}
    profile: Profile = {}
    for spec in sidecar["inputs"]:
        lows, opts, highs = [], [], []
        for dim in spec["shape"]:
            if isinstance(dim, int) and dim > 0:
                low = opt = high = dim
            elif isinstance(dim, str) and dim in ranges:
                low, opt, high = ranges[dim]
            else:
                raise UserError(
                    f"{sidecar['engine']} input {spec['name']!r} has dimension {dim!r} with no profile range; "
                    f"pass --profile {dim}=MIN,OPT,MAX"
                )
            if not 0 < low <= opt <= high:
                raise UserError(f"profile range for {dim!r} must satisfy 0 < min <= opt <= max, got {low},{opt},{high}")
            lows.append(low)
            opts.append(opt)
            highs.append(high)
        profile[spec["name"]] = (tuple(lows), tuple(opts), tuple(highs))
    return profile


def profile_as_lists(profile: Profile) -> dict[str, list[list[int]]]:
    """The profile as JSON holds it: input name -> [min, opt, max] shapes as lists."""
    return {name: [list(s) for s in shapes] for name, shapes in profile.items()}


def require_int8_calibration(engine: str) -> None:
    """UserError unless INT8 calibration inputs exist for `engine`.

    Checked before a build starts: inside the build, TensorRT calls the calibrator from
    its own code, where an exception would surface as a failed build, not as this line.
    """
    if engine not in CALIBRATED_ENGINES:
        raise UserError(
            f"int8 calibration is defined for the {' and '.join(CALIBRATED_ENGINES)} engines, not {engine!r}; use fp16"
        )


def cache_key(
    onnx_sha256: str, trt_version: str, gpu_name: str, compute_capability: str, precision: str, profile: Profile
) -> str:
    """A short hash of everything that makes a built plan invalid when it changes."""
    fields = {
        "onnx_sha256": onnx_sha256,
        "tensorrt": trt_version,
        "gpu": gpu_name,
        "compute_capability": compute_capability,
        "precision": precision,
        "profile": profile_as_lists(profile),  # sort_keys orders the inputs
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def gpu_identity() -> tuple[str, str]:
    """(name, compute capability "major.minor") of CUDA device 0."""
    from vgsum.runtime.engines.backends import _cudart, cuda_check

    props = cuda_check(_cudart().cudaGetDeviceProperties(0))
    name = props.name.decode() if isinstance(props.name, bytes) else str(props.name)
    return name.strip("\x00 "), f"{props.major}.{props.minor}"


def calibration_batches(
    sidecar: dict[str, Any], profile: Profile, folder: Path, count: int = 32
) -> Iterator[dict[str, np.ndarray]]:
    """Real inputs at each input's `opt` shape: frames of the bundled video, or sentences for text."""
    engine = sidecar["engine"]
    require_int8_calibration(engine)
    if engine == "text":
        from vgsum.export.text.build import PARITY_BATCHES
        from vgsum.runtime.engines.manifest import TOKENIZER_FILE
        from vgsum.runtime.engines.text import make_tokenizer, tokenize

        sentences = [s for batch in PARITY_BATCHES for s in batch] + list(sidecar.get("class_names", []))
        batch, seq = profile["input_ids"][1]
        tokenizer = make_tokenizer(folder / sidecar.get("extra", {}).get("tokenizer", TOKENIZER_FILE), seq)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]", length=seq)
        for start in range(count):
            yield tokenize(tokenizer, [sentences[(start * batch + row) % len(sentences)] for row in range(batch)])
        return
    if engine == "perception":
        import av

        from vgsum.runtime.common.sample import bundled_sample

        (name,) = list(profile)
        batch, height, width, _ = profile[name][1]
        frames: list[np.ndarray] = []
        with av.open(str(bundled_sample())) as container:
            for frame in container.decode(video=0):
                frames.append(frame.to_ndarray(format="rgb24", width=width, height=height))
                if len(frames) == batch:
                    yield {name: np.stack(frames)}
                    frames = []
                    count -= 1
                    if count == 0:
                        return
        return


def _make_calibrator(trt: Any, batches: Iterator[dict[str, np.ndarray]], cache_path: Path) -> Any:
    """An IInt8EntropyCalibrator2 that feeds `batches` from device memory and keeps its cache on disk."""
    from vgsum.runtime.engines.backends import _cudart, cuda_check

    cudart = _cudart()

    class Calibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self) -> None:
            trt.IInt8EntropyCalibrator2.__init__(self)
            self.buffers: dict[str, int] = {}

        def get_batch_size(self) -> int:
            return 1  # explicit-batch networks: the batch is part of each input's shape

        def get_batch(self, names: list[str]) -> list[int] | None:
            feeds = next(batches, None)
            if feeds is None:
                return None
            pointers = []
            for name in names:
                array = np.ascontiguousarray(feeds[name])
                if name not in self.buffers:
                    self.buffers[name] = cuda_check(cudart.cudaMalloc(array.nbytes))
                kind = cudart.cudaMemcpyKind.cudaMemcpyHostToDevice
                cuda_check(cudart.cudaMemcpy(self.buffers[name], array.ctypes.data, array.nbytes, kind))
                pointers.append(self.buffers[name])
            return pointers

        def read_calibration_cache(self) -> bytes | None:
            return cache_path.read_bytes() if cache_path.is_file() else None

        def write_calibration_cache(self, cache: Any) -> None:
            cache_path.write_bytes(bytes(cache))

    return Calibrator()


def build_engine(
    onnx_sidecar: Path,
    precision: str = "fp16",
    *,
    profile_overrides: dict[str, tuple[int, int, int]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Build (or reuse from the engine cache) the TensorRT plan of one ONNX engine; returns its sidecar path."""
    if precision not in PRECISIONS:
        raise UserError(f"unknown precision {precision!r}; one of: {', '.join(PRECISIONS)}")
    onnx_sidecar = Path(onnx_sidecar)
    sidecar = read_sidecar(onnx_sidecar)
    engine = sidecar["engine"]
    if precision == "int8":
        require_int8_calibration(engine)
    profile = profile_for(sidecar, profile_overrides)
    trt = require_tensorrt()
    say = progress or (lambda _message: None)
    out_dir = onnx_sidecar.parent
    onnx_path = out_dir / sidecar["file"]
    gpu_name, capability = gpu_identity()
    key = cache_key(sidecar["sha256"], trt.__version__, gpu_name, capability, precision, profile)
    cache_dir = out_dir / CACHE_DIR
    cache_dir.mkdir(exist_ok=True)
    stem = onnx_sidecar.name.removesuffix(".json")  # one plan per graph: refiner_frame, refiner_window, ...
    plan_path = cache_dir / f"{stem}-{precision}-{key}.plan"

    if plan_path.is_file():
        say(f"{engine}: TensorRT plan cached ({plan_path.name})")
    else:
        say(f"{engine}: building TensorRT {precision} plan on {gpu_name} (sm {capability})")
        logger = trt.Logger(trt.Logger.WARNING)
        builder = trt.Builder(logger)
        network = builder.create_network(0)  # explicit batch is the only mode in TensorRT 10
        parser = trt.OnnxParser(network, logger)
        if not parser.parse_from_file(str(onnx_path)):
            errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
            raise RuntimeError(f"TensorRT could not parse {onnx_path}: {errors}")
        config = builder.create_builder_config()
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE_BYTES)

        timing_path = cache_dir / f"timing-{trt.__version__}-{capability}.cache"
        timing_cache = config.create_timing_cache(timing_path.read_bytes() if timing_path.is_file() else b"")
        config.set_timing_cache(timing_cache, ignore_mismatch=False)

        optimisation = builder.create_optimization_profile()
        for name, (low, opt, high) in profile.items():
            optimisation.set_shape(name, low, opt, high)
        config.add_optimization_profile(optimisation)

        if precision in ("fp16", "int8"):
            config.set_flag(trt.BuilderFlag.FP16)  # for int8: layers without an int8 kernel fall back to fp16
        if precision == "int8":
            config.set_flag(trt.BuilderFlag.INT8)
            # Calibration runs at the first profile's opt shapes, which is what calibration_batches yields
            # (set_calibration_profile is deprecated in TensorRT 10, so it is not used).
            calib_cache = cache_dir / f"{stem}-{sidecar['sha256'][:16]}.calib"
            config.int8_calibrator = _make_calibrator(trt, calibration_batches(sidecar, profile, out_dir), calib_cache)

        serialized = builder.build_serialized_network(network, config)
        if serialized is None:
            raise RuntimeError(f"TensorRT failed to build {engine} ({precision}); see the log above")
        plan_path.write_bytes(bytes(serialized))
        timing_path.write_bytes(bytes(config.get_timing_cache().serialize()))

    trt_sidecar = dict(sidecar)
    trt_sidecar.update(
        file=f"{CACHE_DIR}/{plan_path.name}",
        format="trt",
        precision=precision,
        sha256=sha256_of(plan_path),
    )
    trt_sidecar["extra"] = {
        **sidecar.get("extra", {}),
        "tensorrt": {
            "version": trt.__version__,
            "gpu": gpu_name,
            "compute_capability": capability,
            "profile": profile_as_lists(profile),
            "onnx_sha256": sidecar["sha256"],
            "cache_key": key,
            "status": "unverified until run on a GPU",
        },
    }
    return write_plan_sidecar(out_dir, onnx_sidecar.name, trt_sidecar)


def write_plan_sidecar(folder: Path, engine_file: str, plan_sidecar: dict[str, Any]) -> Path:
    """Write the sidecar of `engine_file`'s TensorRT plan (`<stem>.trt.json`) into `folder`; returns its path.

    One plan sidecar per graph, whatever the precision: the runtime loads the plan it names.
    """
    out = Path(folder) / sidecar_name(engine_file, "tensorrt")
    out.write_text(json.dumps(plan_sidecar, indent=2) + "\n", encoding="utf-8")
    return out
