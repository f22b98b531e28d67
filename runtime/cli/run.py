"""`vgsum run SOURCE`: summarize one file or live URL, print highlights as they come, write a report.

A file is processed as fast as the engines go (or paced with `--realtime`); a live
URL runs until Ctrl-C. The report folder gets `scores.json`, `highlights.json` and
`timeline.png`. Unless `--no-store`, the run is also kept in the history database
(`$VGSUM_DATA/history.db`, the daemon's default), under a stream named after the
source, with its clips in `$VGSUM_DATA/clips/`: `vgsum highlights` and the daemon's
page show it like a camera's.

Exit status: 0 when a report was written, also when it covers only part of the
source (a file that ended early, a source that broke after some frames): the part
read is summarized correctly, so it is a result, not a failure; one `warning:` line
on stderr and the report's `warnings` say what is missing. 2 when nothing could be
read (a user error), 1 when the pipeline failed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from vgsum.runtime.common.errors import UserError
from vgsum.stream.sampler import DEFAULT_SAMPLE_FPS

if TYPE_CHECKING:
    from vgsum.runtime.daemon.config import EdgeConfig
    from vgsum.runtime.engines.loader import Engines
    from vgsum.runtime.summary.summarizer import HighlightEvent
    from vgsum.stream.state import StreamState

log = logging.getLogger(__name__)

STREAM_ID = "main"  # when the source's name makes no stream id
# The config keys `vgsum run` fills from its options, named as the user typed them in error lines.
OPTION_NAMES = {
    "streams.0.url": "SOURCE",
    "streams.0.queries": "--query",
    "streams.0.sample_fps": "--sample-fps",
    "streams.0.clips_dir": "--clips",
    "publish.endpoints": "--publish",
    "engines.dir": "--engines",
    "engines.threads": "--threads",
    "streams": "--query",  # the checks across streams (the queries' rules) report at the list's level
}


def build_parser() -> argparse.ArgumentParser:
    """The options of `vgsum run`."""
    parser = argparse.ArgumentParser(prog="vgsum run", description=__doc__.splitlines()[0])
    parser.add_argument("source", help="video file, rtsp://... URL, or /dev/videoN")
    parser.add_argument(
        "--query",
        action="append",
        default=[],
        metavar="TEXT",
        help="free text that raises matching moments (repeatable)",
    )
    parser.add_argument("--out", type=Path, default=None, help="report folder (default: ./vgsum-report/<source name>)")
    parser.add_argument(
        "--publish",
        action="append",
        default=[],
        metavar="ENDPOINT",
        help="also publish on ZeroMQ, e.g. pub+bind:tcp://127.0.0.1:5556 (repeatable)",
    )
    parser.add_argument("--realtime", action="store_true", help="pace a file at its native speed, like a camera")
    parser.add_argument("--engines", type=Path, default=None, help="engine folder (default: the engine cache)")
    parser.add_argument(
        "--sample-fps", type=float, default=DEFAULT_SAMPLE_FPS, help="frames scored per second of video"
    )
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads per engine")
    parser.add_argument("--clips", action="store_true", help="also write each highlight as an MP4 into OUT/clips")
    parser.add_argument("--no-png", action="store_true", help="skip the timeline picture")
    parser.add_argument(
        "--no-store", action="store_true", help="do not keep the run in the history database ($VGSUM_DATA)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--verbose", "-v", action="store_true", help="log what every part does")
    return parser


def report_dir(source: str, out: Path | None) -> Path:
    """The report folder: `out`, else ./vgsum-report/<source name>."""
    if out is not None:
        return out
    name = Path(source.rstrip("/")).stem or "stream"
    return Path("vgsum-report") / "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def stream_id_for(source: str) -> str:
    """The stream id a run is stored under: the source's name made a valid id (`bikes.mp4` -> `bikes`)."""
    name = Path(source.rstrip("/")).stem
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).lstrip("-_")[:64]
    return cleaned or STREAM_ID


def run_config(
    source: str,
    out_dir: Path,
    *,
    queries: Sequence[str] = (),
    publish: Sequence[str] = (),
    realtime: bool = False,
    engines: Path | None = None,
    sample_fps: float = DEFAULT_SAMPLE_FPS,
    threads: int | None = None,
    clips: bool = False,
    store: bool = True,
) -> EdgeConfig:
    """The daemon config of one `vgsum run`: one stream, no control socket, no metrics.

    With `store`, the history database keeps the run, and its clips go to the store's
    clip folder (unless `clips` puts them in the report), so every stored highlight
    has its clip. Validated once, here; a bad option is a UserError of one line naming the option.
    """
    from vgsum.runtime.common.configfile import parse_config
    from vgsum.runtime.daemon.config import EdgeConfig
    from vgsum.runtime.store.config import StoreConfig
    from vgsum.stream.config import local_path
    from vgsum.stream.redact import redact_url

    path = local_path(source)
    shown = redact_url(source)
    if path is not None and path.is_dir():
        raise UserError(f"source {shown} is a directory (give a video file, an rtsp:// URL or /dev/videoN)")
    if path is not None and not path.is_file():
        raise UserError(f"source {shown} not found (give a video file, an rtsp:// URL or /dev/videoN)")
    clips_dir = str(out_dir / "clips") if clips else (str(StoreConfig().clips_dir) if store else None)
    data = {
        "streams": [
            {
                "stream_id": stream_id_for(source),
                "url": source,
                "realtime": realtime,
                "sample_fps": sample_fps,
                "queries": list(queries),
                "clips_dir": clips_dir,
            }
        ],
        "store": {"enabled": store},
        "publish": {"endpoints": list(publish), "frame_messages": False},
        "engines": {"dir": engines, "threads": threads},
        "control": {"enabled": False},
        "metrics": {"enabled": False},
        "web": {"enabled": False},
    }
    return parse_config(data, EdgeConfig, where=None, key_names=OPTION_NAMES)


def _duration(path: Path) -> float | None:
    """Length of a file in seconds (None when unknown); a quick header read."""
    import av

    try:
        with av.open(str(path)) as container:
            if container.duration:
                return container.duration / 1_000_000
    except (av.FFmpegError, OSError):
        return None
    return None


def _format_highlight(event: HighlightEvent) -> str | None:
    """One line when a highlight starts and one when it ends (its final span); updates are for subscribers."""
    objects = ", ".join(f"{label} x{count}" for label, count in event.objects.items()) or "no objects"
    query = f"  query: {event.query}" if event.query else ""
    if event.phase == "start":
        return f"highlight {event.id[:6]} started at {_clock(event.start)}  {objects}{query}"
    if event.phase == "end":
        return (f"highlight {event.id[:6]} {_clock(event.start)}-{_clock(event.end)}  score {event.score:.2f}  "
                f"{objects}{query}")
    return None


def _print_highlight(_stream_id: str, event: HighlightEvent) -> None:
    line = _format_highlight(event)
    if line is not None:
        print(line, flush=True)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{secs:04.1f}"


def summarize(
    cfg: EdgeConfig, engines: Engines, out_dir: Path, *, png: bool = True, quiet: bool = False, label: str = "run"
) -> int:
    """Summarize the one stream of `cfg`, printing highlights, then write the report; the exit status."""
    from vgsum.runtime.daemon.app import SummaryApp
    from vgsum.runtime.daemon.service import run_until_done
    from vgsum.runtime.report.timeline import write_report
    from vgsum.stream.config import local_path
    from vgsum.stream.state import StreamState

    stream = cfg.streams[0]
    queries = list(stream.queries)
    if not engines.refiner.trained:
        print(
            f"vgsum {label}: warning: the refiner in {cfg.engines.folder} is untrained (random weights)",
            file=sys.stderr,
        )
    print(
        f"{label}: {stream.safe_url} -> perception + VideoGraph on {engines.perception.provider}"
        + (f", queries {queries}" if queries else ""),
        flush=True,
    )
    service = SummaryApp(
        cfg, engines, collect=True, on_highlight=_print_highlight
    )
    for notice in service.handler.query_notices(stream.stream_id).values():
        print(f"{label}: note: {notice}", flush=True)
    collected = service.collected[stream.stream_id]
    path = local_path(stream.url)
    duration = _duration(path) if path is not None else None
    progress = None
    if not quiet and duration and sys.stderr.isatty():
        from tqdm import tqdm

        progress = tqdm(total=round(duration, 1), unit="s", desc="video", leave=False)

    def show_progress() -> None:
        if progress is not None:
            done = max((t for t, _, _ in collected.scores), default=0.0)
            progress.n = round(min(done, duration or done), 1)
            progress.refresh()

    started = time.monotonic()
    try:
        run_until_done(service, on_tick=show_progress, tick_s=0.25)
    finally:
        if progress is not None:
            progress.close()
    took = time.monotonic() - started
    if service.failure is not None:
        print(f"vgsum {label}: {service.failure}; see the log for the traceback", file=sys.stderr)
        return 1
    stats = service.ingest.workers[stream.stream_id].stats()
    if stats.state == StreamState.FAILED and not collected.scores:
        raise UserError(f"cannot read {stream.safe_url}: {stats.last_error or 'the source failed'}")
    warnings = [stats.last_error] if stats.last_error and _partial(stats.state, stream.is_live) else []
    for warning in warnings:
        print(f"vgsum {label}: warning: {warning}; the report covers only what was read", file=sys.stderr)
    files = write_report(
        out_dir,
        collected.scores,
        collected.highlights,
        source=stream.safe_url,
        queries=queries,
        # where the frames really end: a header's duration can be short of a variable-rate file's last frame
        duration=stats.media_end if stats.media_end is not None else duration,
        warnings=warnings,
        png=png,
    )
    frames = service.pipeline.frames_done(stream.stream_id)
    media = max((t for t, _, _ in collected.scores), default=0.0) + 1.0 / stream.sample_fps if frames else 0.0
    speed = f", {media / took:.1f}x real time" if took > 0 and media > 0 else ""
    print(
        f"{label}: {frames} frames scored in {took:.1f} s{speed}; {len(collected.highlights)} highlights; "
        f"report in {files.scores_json.parent}"
        + (f" (timeline {files.timeline_png.name})" if files.timeline_png else ""),
        flush=True,
    )
    if service.store is not None:
        lost = sum(service.store.dropped.values())
        print(
            f"{label}: kept in {service.store.path} as stream {stream.stream_id!r}"
            + (f" ({lost} records lost)" if lost else "")
            + f"; list with `vgsum highlights --stream {stream.stream_id}`",
            flush=True,
        )
    return 0


def _failure_reported_by_run(record: logging.LogRecord) -> bool:
    """Drop the log line of the stream turning `failed`: `summarize` reports that as its own one line."""
    from vgsum.stream.ingest import STATE_LOG_FIELD
    from vgsum.stream.state import StreamState

    return getattr(record, STATE_LOG_FIELD, None) != StreamState.FAILED.value


def _partial(state: StreamState, live: bool) -> bool:
    """Whether the stream's last error means the report misses part of the source.

    A file's stream keeps an error only when it failed or ended early; a live
    source's error may be a fault it has since recovered from, so only a final
    `failed` counts there.
    """
    from vgsum.stream.state import StreamState

    return state == StreamState.FAILED or not live


def main(argv: list[str]) -> int:
    """Parse, build the config once, load the engines, summarize."""
    from vgsum.runtime.engines.loader import Engines

    args = build_parser().parse_args(argv)
    logging.getLogger().setLevel(logging.INFO if args.verbose else logging.WARNING)
    if not args.verbose:
        logging.getLogger("vgsum.stream.ingest").addFilter(_failure_reported_by_run)
        logging.getLogger("vgsum.runtime.live.query_match").setLevel(logging.ERROR)  # run prints its own notes
    source = str(args.source)
    out_dir = report_dir(source, args.out)
    cfg = run_config(
        source,
        out_dir,
        queries=args.query,
        publish=args.publish,
        realtime=args.realtime,
        engines=args.engines,
        sample_fps=args.sample_fps,
        threads=args.threads,
        clips=args.clips,
        store=not args.no_store,
    )
    return summarize(cfg, Engines.load(cfg.engines), out_dir, png=not args.no_png, quiet=args.quiet)
