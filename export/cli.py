"""`vgsum export`: build the perception, text, refiner engines (ONNX, optionally TensorRT) and the ImageNet head.

Each engine's exporter lives in its own module and checks parity against torch
itself; this command only runs them, reports progress, and prints one summary line
per engine: file, size, time, parity. The exporters import torch, so they are
imported only when their engine is asked for.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import logging
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vgsum.export.sidecar import ExportedEngine, read_sidecar
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.paths import engine_dir

ENGINES = ("perception", "text", "refiner", "imagenet")
# Engines the edge applies with numpy (no ONNX graph): no TensorRT plan is built for them.
NUMPY_ENGINES = ("imagenet",)
# engine -> (module, function)
EXPORTERS: dict[str, tuple[str, str]] = {
    "perception": ("vgsum.export.perception.build", "export_perception"),
    "text": ("vgsum.export.text.build", "export_text"),
    "refiner": ("vgsum.export.refiner.engine", "export_refiner_engine"),
    "imagenet": ("vgsum.export.imagenet.build", "export_imagenet"),
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one UserError line instead of usage + exit."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{message} (see `vgsum export --help`)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vgsum export", description="Build engines into the engine directory.")
    parser.add_argument("engine", choices=[*ENGINES, "all"], help="which engine to build")
    parser.add_argument("--format", choices=("onnx", "trt"), default="onnx", help="onnx (default) or TensorRT plan")
    parser.add_argument(
        "--precision", choices=("fp32", "fp16", "int8"), default="fp32", help="fp16 and int8 apply to --format trt"
    )
    parser.add_argument("--out", type=Path, default=None, help=f"engine directory (default {engine_dir()})")
    parser.add_argument(
        "--checkpoint", type=Path, default=None, help="refiner checkpoint (default: the shipped weights)"
    )
    parser.add_argument(
        "--untrained", action="store_true", help="export a randomly initialised refiner (for wiring tests only)"
    )
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="DIM=MIN,OPT,MAX",
        help="TensorRT profile range for a dynamic dimension, e.g. batch=1,4,16 (repeatable)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines, only the summaries")
    return parser


def parse_profiles(items: list[str]) -> dict[str, tuple[int, int, int]]:
    """`["batch=1,4,16"]` -> `{"batch": (1, 4, 16)}`; a malformed item is a UserError."""
    ranges: dict[str, tuple[int, int, int]] = {}
    for item in items:
        name, _, values = item.partition("=")
        try:
            low, opt, high = (int(v) for v in values.split(","))
        except ValueError:
            raise UserError(f"--profile {item!r} is not DIM=MIN,OPT,MAX with three integers") from None
        ranges[name.strip()] = (low, opt, high)
    return ranges


def _exporter(engine: str) -> Callable[..., Any]:
    """An engine's export function, imported now so that a missing dependency fails before any slow work."""
    module_name, function = EXPORTERS[engine]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        raise UserError(f"the {engine} exporter needs the package {err.name!r}; install vgsum[train]") from None
    return getattr(module, function)


def _call(function: Callable[..., Any], out: Path, options: dict[str, Any]) -> Any:
    """Call an exporter with the options its signature accepts (the exporters differ a little)."""
    accepted = inspect.signature(function).parameters
    return function(out, **{k: v for k, v in options.items() if k in accepted and v is not None})


def _sidecars(result: Any, out: Path) -> list[Path]:
    """The ONNX sidecars an exporter produced, whatever it returned."""
    if isinstance(result, ExportedEngine):
        return [Path(result.sidecar_path)]
    if isinstance(result, dict):
        paths = [Path(p) for p in result.values() if isinstance(p, (str, Path))]
        found = [p for p in paths if p.suffix == ".json" and not p.name.endswith(".trt.json")]
        found += [p.with_suffix(".json") for p in paths if p.suffix == ".onnx" and p.with_suffix(".json") not in found]
        return [p for p in dict.fromkeys(found) if p.is_file()]
    raise TypeError(f"unexpected exporter result {type(result).__name__}")


def _badness(check: dict[str, Any]) -> float:
    """How much of its tolerance a parity check uses (0 = exact, > 1 = failed); cosines count from 1."""
    value, tolerance = float(check["value"]), float(check["tolerance"])
    if "cosine" in check["metric"]:
        value, tolerance = 1.0 - value, 1.0 - tolerance
    return value / tolerance if tolerance > 0 else (0.0 if value <= 0 else float("inf"))


def summary_line(engine: str, sidecar_file: Path, seconds: float) -> str:
    """`text: text.onnx onnx fp32 90.8 MB, 12.3 s, parity 2/2 within tolerance, worst ... -> DIR`."""
    sidecar = read_sidecar(sidecar_file)
    engine_file = sidecar_file.parent / sidecar["file"]
    size = engine_file.stat().st_size / 1e6
    checks = sidecar.get("parity", [])
    if checks:
        worst = max(checks, key=_badness)
        passed = sum(_badness(c) <= 1 for c in checks)
        digits = 6 if "cosine" in worst["metric"] else 3  # 0.9985 must not print as a passing 0.999
        parity = (
            f"parity {passed}/{len(checks)} within tolerance, worst {worst['metric']} {worst['value']:.{digits}g} "
            f"(tol {worst['tolerance']:g})"
        )
    else:
        parity = "parity not recorded"
    return (
        f"{engine}: {sidecar['file']} {sidecar['format']} {sidecar['precision']} {size:.1f} MB, {seconds:.1f} s, "
        f"{parity} -> {sidecar_file.parent}"
    )


def _quiet_torch() -> None:
    """Silence "torchvision is not installed" (irrelevant here); torch resets its loggers when imported."""
    import torch  # noqa: F401  (every exporter loads it anyway)

    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)


def export_one(
    engine: str, function: Callable[..., Any], out: Path, args: argparse.Namespace, say: Callable[[str], None]
) -> list[str]:
    """Build one engine with its exporter `function` (and its TensorRT plan when asked); return its summary lines."""
    _quiet_torch()
    started = time.perf_counter()
    say(f"{engine}: exporting {'numpy arrays' if engine in NUMPY_ENGINES else 'ONNX'} into {out}")
    result = _call(
        function,
        out,
        {"precision": "fp32", "progress": say, "checkpoint": args.checkpoint, "untrained": args.untrained},
    )
    sidecars = _sidecars(result, out)
    if not sidecars:
        raise RuntimeError(f"the {engine} exporter wrote no sidecar into {out}")
    seconds = time.perf_counter() - started
    lines = [summary_line(engine, path, seconds) for path in sidecars]
    if args.format == "trt" and engine not in NUMPY_ENGINES:
        from vgsum.export.trt import build_engine

        for path in sidecars:
            started = time.perf_counter()
            plan_sidecar = build_engine(
                path, args.precision, profile_overrides=parse_profiles(args.profile), progress=say
            )
            lines.append(summary_line(engine, plan_sidecar, time.perf_counter() - started))
    return lines


def main(argv: list[str]) -> int:
    """Parse arguments, export each asked engine, print one summary line per engine file."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as done:  # --help
        return int(done.code or 0)
    if args.format == "onnx" and args.precision != "fp32":
        raise UserError(
            f"--precision {args.precision} applies to --format trt; ONNX engines are exported in fp32 "
            "(ONNX Runtime on CPU gains nothing from fp16)"
        )
    parse_profiles(args.profile)  # fail on a malformed range before any slow work
    if args.format == "trt" and args.precision == "int8":  # likewise an engine with no calibration inputs
        from vgsum.export.trt import require_int8_calibration

        for engine in ENGINES if args.engine == "all" else (args.engine,):
            if engine not in NUMPY_ENGINES:
                require_int8_calibration(engine)
    # The exporters' libraries narrate every graph pass at INFO; our progress lines say what matters.
    for noisy in ("onnx_ir", "onnxscript"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=FutureWarning)  # torch.export's pytree deprecation chatter
    warnings.filterwarnings("ignore", message="# The axis name")  # inputs that share a dynamic dim
    if args.format == "trt":
        from vgsum.export.trt import require_tensorrt

        require_tensorrt()
    say = (lambda _message: None) if args.quiet else (lambda message: print(f"  {message}", file=sys.stderr))
    engines = ENGINES if args.engine == "all" else (args.engine,)
    exporters = {engine: _exporter(engine) for engine in engines}  # a missing one fails before any slow work
    out = (args.out or engine_dir()).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    for engine, function in exporters.items():
        for line in export_one(engine, function, out, args, say):
            print(line, flush=True)
    return 0
