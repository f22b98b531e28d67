"""`vgsum highlights`: what the history database holds, filtered by stream, time, query text and object.

It reads the store file directly (no daemon needed; WAL lets it read while a daemon
writes). Times are read by `runtime/common/times.py`: ISO (`2026-11-29T18:00`, local
unless it says its zone), unix seconds, `now`, or relative to now (`-2h`, `-30m`, `-1d`, `-1w`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.times import parse_time

if TYPE_CHECKING:
    from vgsum.runtime.store.search import MeaningSearch


def parse_when(text: str, option: str, now: float | None = None) -> float:
    """Unix seconds of a time given on the command line; UserError naming `option` when it is none."""
    try:
        return parse_time(text, now)
    except ValueError as err:
        raise UserError(f"{option} {text!r}: {err}") from None


def meaning_search(query: str, engines: Path | None, prog: str = "vgsum highlights") -> MeaningSearch | None:
    """The query compiled for a search by meaning; None (a substring search, said once) without a text engine."""
    from vgsum.runtime.engines.config import EngineConfig
    from vgsum.runtime.engines.text import load_text_encoder
    from vgsum.runtime.store.search import MeaningSearch

    logging.getLogger("vgsum.runtime.engines").setLevel(logging.WARNING)  # which engine loaded is not the answer
    folder = EngineConfig(dir=engines).folder
    try:
        search = MeaningSearch(load_text_encoder(folder, kind="onnxruntime", device="cpu", threads=1), query)
    except UserError as err:
        print(f"{prog}: note: {err}; --query matches the stored query text only", file=sys.stderr)
        return None
    if search.notice:
        print(f"{prog}: note: {search.notice}", file=sys.stderr)
    return search


def join_times(argv: list[str]) -> list[str]:
    """`--since -2h` as `--since=-2h`: argparse would read `-2h` as an option."""
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg in ("--since", "--until"):
            value = next(args, None)
            out.append(arg if value is None else f"{arg}={value}")
        else:
            out.append(arg)
    return out


def _clock(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S")


def main(argv: list[str]) -> int:
    """List matching highlights, newest first; exit 0 (also when none match)."""
    from vgsum.runtime.cli.dbarg import add_db_options, db_target
    from vgsum.runtime.store.reader import MAX_LIMIT, StoreReader

    parser = argparse.ArgumentParser(prog="vgsum highlights", description=__doc__.splitlines()[0])
    parser.add_argument("--stream", help="only this stream id")
    parser.add_argument("--since", help="from this time (e.g. -2h, 2026-11-29T18:00)")
    parser.add_argument("--until", help="up to this time")
    parser.add_argument(
        "--query", help='only highlights whose objects answer this text ("a red car"), or whose query contains it'
    )
    parser.add_argument("--object", dest="label", metavar="LABEL", help="only highlights where LABEL was seen")
    parser.add_argument("--zone", help="only highlights in this zone of their camera")
    parser.add_argument("--limit", type=int, default=200, help=f"at most this many (1..{MAX_LIMIT}, default 200)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    add_db_options(parser)
    parser.add_argument("--engines", type=Path, help="engine folder whose text engine reads --query (default: cache)")
    args = parser.parse_args(join_times(argv))

    now = time.time()
    since = None if args.since is None else parse_when(args.since, "--since", now)
    until = None if args.until is None else parse_when(args.until, "--until", now)
    if since is not None and until is not None and until <= since:
        raise UserError("--until must be after --since")
    if not 1 <= args.limit <= MAX_LIMIT:
        raise UserError(f"--limit must be between 1 and {MAX_LIMIT}")
    path = db_target(args)
    from vgsum.runtime.store.search import search_highlights

    search = meaning_search(args.query, args.engines) if args.query else None
    with StoreReader(path) as reader:
        filters = dict(stream_id=args.stream, since=since, until=until, label=args.label, zone=args.zone)
        if search is not None:
            rows, _ = search_highlights(reader, search, limit=args.limit, **filters)
        else:
            rows = reader.highlights(query=args.query, limit=args.limit, **filters)
    for row in rows:
        if args.json:
            print(json.dumps(row.as_dict(), ensure_ascii=False), flush=False)
            continue
        objects = ", ".join(f"{label} x{count}" for label, count in row.objects.items()) or "no objects"
        query = f"  query: {row.query}" if row.query else ""
        query += f"  zones: {', '.join(row.zones)}" if row.zones else ""
        state = "" if row.closed else "  (open)"
        clip = f"  clip: {row.clip}" if row.clip else ""
        print(
            f"{_clock(row.wall_start)}  {row.stream_id:<12} {row.wall_end - row.wall_start:5.1f} s  "
            f"score {row.score:.2f}  {objects}{query}{state}{clip}"
        )
    if not args.json:
        print(f"{len(rows)} highlights" + (" (--limit reached)" if len(rows) == args.limit else ""))
    return 0
