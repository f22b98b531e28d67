"""`vgsum demo`: the summarizer on the bundled camera sample, engines built if missing.

The sample (OpenCV's tree.avi, runtime/assets/samples) is a fixed camera on a tree whose
leaves sway all the time, with a hand coming in at 23 s: the live rule should stay silent
through the leaves and give one highlight on the hand. It is `vgsum run` on the sample
with a query, so what it prints and writes is what `run` prints and writes on any video:
highlights as they are found, then a report folder with scores.json, highlights.json and
timeline.png.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.manifest import ENGINE_FILES

DEMO_QUERY = "a person"


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
    """Check the options, build the engines if needed, then summarize the sample."""
    from vgsum.runtime.cli.run import run_config, summarize
    from vgsum.runtime.common.sample import demo_sample
    from vgsum.runtime.engines.loader import Engines

    parser = argparse.ArgumentParser(prog="vgsum demo", description=__doc__.splitlines()[0])
    parser.add_argument("--engines", type=Path, default=None, help="engine folder (default: the engine cache)")
    parser.add_argument("--out", type=Path, default=Path("vgsum-report") / "demo", help="report folder")
    parser.add_argument(
        "--query", action="append", default=None, metavar="TEXT", help=f"query (default: {DEMO_QUERY!r})"
    )
    parser.add_argument("--realtime", action="store_true", help="play the sample at its native speed, like a camera")
    parser.add_argument("--verbose", "-v", action="store_true", help="log what every part does")
    args = parser.parse_args(argv)
    logging.getLogger().setLevel(logging.INFO if args.verbose else logging.WARNING)
    cfg = run_config(
        str(demo_sample()),
        args.out,
        queries=args.query or [DEMO_QUERY],
        realtime=args.realtime,
        engines=args.engines,
    )
    ensure_engines(cfg.engines.folder)
    code = summarize(cfg, Engines.load(cfg.engines), args.out, quiet=True, label="demo")
    print(f"demo: open {args.out / 'timeline.png'} to see the summary", file=sys.stdout)
    return code
