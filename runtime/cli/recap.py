"""`vgsum recap`: one short video of what a camera's history holds, chosen within a time budget.

It reads the store file directly (no daemon needed) and writes `OUT.mp4` (parts in
time order, chapters and a caption track), `OUT.vtt` (the captions for a browser)
and `OUT.json` (each part's highlight, span, and why it was chosen). Parts are
valued by score, query match and novelty and chosen by the knapsack
(runtime/recap/). Nothing to recap is one line and exit 0, with no file.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

from vgsum.runtime.cli.highlights import join_times, meaning_search, parse_when
from vgsum.runtime.common.errors import UserError

PROG = "vgsum recap"
DAY_S = 86_400.0


def _streams(values: list[str] | None) -> tuple[str, ...] | None:
    names = [n.strip() for v in values or [] for n in v.split(",") if n.strip()]
    return tuple(dict.fromkeys(names)) or None


def load_perceive(engines: Path | None, threads: int | None = None) -> Any:
    """The perception engine as a function of frames, or None (novelty off, said once) when it cannot load."""
    from vgsum.runtime.engines.config import EngineConfig
    from vgsum.runtime.engines.perception import PerceptionEngine

    logging.getLogger("vgsum.runtime.engines").setLevel(logging.WARNING)
    try:
        return PerceptionEngine.load(EngineConfig(dir=engines).folder, device="cpu", threads=threads)
    except UserError as err:
        print(f"{PROG}: note: {err}; parts are chosen without novelty", file=sys.stderr)
        return None


def main(argv: list[str]) -> int:
    from tqdm import tqdm

    from vgsum.runtime.cli.dbarg import add_db_options, db_target
    from vgsum.runtime.recap.budget import parse_budget
    from vgsum.runtime.recap.build import RecapRequest, build_recap, default_name, length_text, nothing_line
    from vgsum.runtime.store.reader import StoreReader

    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--stream", action="append", help="a stream id (repeat or comma-separate; default: all)")
    parser.add_argument("--since", help="from this time (default: 24 h before --until; e.g. -1d, 2026-12-04T06:00)")
    parser.add_argument("--until", help="up to this time (default: now)")
    parser.add_argument(
        "--budget", default="3m", help="the recap's length: 3m, 90s, 1h, or 5%% of the range (default 3m)"
    )
    parser.add_argument("--query", help='only highlights whose objects answer this text ("a red car")')
    parser.add_argument("--object", dest="label", metavar="LABEL", help="only highlights where LABEL was seen")
    parser.add_argument("--out", type=Path, help="the MP4 to write (default: ./recap-STREAM-DATE.mp4)")
    add_db_options(parser)
    parser.add_argument("--engines", type=Path, help="engine folder (default: the engine cache)")
    parser.add_argument("--no-novelty", dest="diverse", action="store_false",
                        help="value parts by score and query only (repeats may fill the recap)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(join_times(argv))

    now = time.time()
    until = now if args.until is None else parse_when(args.until, "--until", now)
    since = until - DAY_S if args.since is None else parse_when(args.since, "--since", now)
    if until <= since:
        raise UserError("--until must be after --since")
    budget = parse_budget(args.budget)
    streams = _streams(args.stream)
    path = db_target(args)
    out = (args.out if args.out is not None else Path(default_name(list(streams or []), until))).expanduser()
    if out.suffix.lower() != ".mp4":
        raise UserError(f"--out {out}: the recap is an MP4; name it .mp4")
    if not out.parent.is_dir():
        raise UserError(f"--out {out}: folder {out.parent} does not exist")

    search = meaning_search(args.query, args.engines, PROG) if args.query else None
    matches = None
    if args.query:
        text = args.query.strip().lower()
        matches = search.matches if search is not None else (lambda row: bool(row.query and text in row.query.lower()))
    perceive = load_perceive(args.engines) if args.diverse else None
    bars: dict[str, Any] = {}

    def progress(stage: str, n: int) -> None:
        if stage not in bars:
            for bar in bars.values():
                bar.close()
            bars[stage] = tqdm(desc=stage, unit="part", disable=args.quiet or None, file=sys.stderr, leave=False)
        bars[stage].update(n)

    request = RecapRequest(since, until, budget, streams, args.query, args.label, args.diverse)
    with StoreReader(path) as reader:
        try:
            result = build_recap(reader, request, out, perceive=perceive, matches=matches, progress=progress)
        finally:
            for bar in bars.values():
                bar.close()
    plan = result.plan
    for skipped in plan.skipped:
        if skipped["reason"].startswith("clip unusable"):
            print(f"{PROG}: warning: highlight {skipped['id']} skipped: {skipped['reason']}", file=sys.stderr)
    if result.written is None:
        print(f"{PROG}: {nothing_line(result)}; no file written")
        return 0
    written = result.written
    names = sorted({p.part.stream_id for p in plan.parts})
    print(
        f"{PROG}: {len(plan.parts)} parts of {plan.candidates} highlights, {length_text(written.duration)} of "
        f"{length_text(until - since)} ({', '.join(names)}); {written.reason}"
    )
    print(f"{PROG}: wrote {written.path} (+ {written.path.with_suffix('.vtt').name}, "
          f"{result.json_path.name}) in {result.build_s:.1f} s")
    return 0
