"""`vgsum run SOURCE`: summarize one file or live URL, print highlights as they come, write a report.

A file is processed as fast as the engines go (or paced with `--realtime`); a live
URL runs until Ctrl-C. The report folder gets `scores.json`, `highlights.json` and
`timeline.png`.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from vgsum.runtime.common.errors import UserError

log = logging.getLogger(__name__)


def build_parser(prog: str = "vgsum run") -> argparse.ArgumentParser:
    """Options shared by `run` and `demo`."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
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
    parser.add_argument("--sample-fps", type=float, default=2.0, help="frames scored per second of video")
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads per engine")
    parser.add_argument("--clips", action="store_true", help="also write each highlight as an MP4 into OUT/clips")
    parser.add_argument("--no-png", action="store_true", help="skip the timeline picture")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--verbose", "-v", action="store_true", help="log what every part does")
    return parser


def _report_dir(source: str, out: Path | None) -> Path:
    if out is not None:
        return out
    name = Path(source.rstrip("/")).stem or "stream"
    return Path("vgsum-report") / "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _duration(source: str) -> float | None:
    """Length of a file in seconds (None for live sources or when unknown); a quick header read."""
    if "://" in source or source.startswith("/dev/"):
        return None
    import av

    try:
        with av.open(source) as container:
            if container.duration:
                return container.duration / 1_000_000
    except (av.FFmpegError, OSError):
        return None
    return None


def _format_highlight(stream_id: str, event) -> str:
    objects = ", ".join(f"{label} x{count}" for label, count in event.objects.items()) or "no objects"
    query = f"  query: {event.query}" if event.query else ""
    return f"highlight {_clock(event.start)}-{_clock(event.end)}  score {event.score:.2f}  {objects}{query}"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{secs:04.1f}"


def run_source(args: argparse.Namespace, *, label: str = "run") -> int:
    """The body of `vgsum run` (and `vgsum demo`): returns the exit code."""
    from vgsum.runtime.common.configfile import parse_config
    from vgsum.runtime.daemon.config import EdgeConfig, EngineConfig, MetricsConfig, PublishConfig
    from vgsum.runtime.daemon.pipeline import Engines
    from vgsum.runtime.daemon.summary_service import SummaryService
    from vgsum.runtime.report.timeline import write_report
    from vgsum.stream.redact import redact_url

    logging.getLogger().setLevel(logging.INFO if args.verbose else logging.WARNING)
    source = str(args.source)
    is_file = "://" not in source and not source.startswith("/dev/")
    if is_file and not Path(source).is_file():
        raise UserError(f"source {source} not found (give a video file, an rtsp:// URL or /dev/videoN)")
    out_dir = _report_dir(source, args.out)
    cfg = parse_config(
        {
            "streams": [
                {
                    "stream_id": "main",
                    "url": source,
                    "realtime": bool(args.realtime),
                    "sample_fps": args.sample_fps,
                    "queries": list(args.query),
                    "max_retries": 0 if is_file else 5,
                    "clips_dir": str(out_dir / "clips") if getattr(args, "clips", False) else None,
                }
            ],
            "publish": PublishConfig(endpoints=list(args.publish), frame_messages=False).model_dump(),
            "engines": EngineConfig(dir=args.engines, threads=args.threads).model_dump(),
            "control": {"enabled": False},
            "metrics": MetricsConfig(enabled=False).model_dump(),
        },
        EdgeConfig,
        where=f"vgsum {label}",
    )
    engines = Engines.load(cfg.engines)
    if not engines.refiner.trained:
        print(
            f"vgsum {label}: warning: the refiner in {cfg.engines.folder} is untrained (random weights)",
            file=sys.stderr,
        )
    safe = redact_url(source)
    print(
        f"{label}: {safe} -> perception + VideoGraph on {engines.perception.provider}"
        + (f", queries {args.query}" if args.query else ""),
        flush=True,
    )

    def printer(stream_id: str, event) -> None:
        print(_format_highlight(stream_id, event), flush=True)

    service = SummaryService(cfg, engines, collect=True, on_highlight=printer)
    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()
        service.request_stop()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    duration = _duration(source) if is_file else None
    progress = None
    if not args.quiet and duration and sys.stderr.isatty():
        from tqdm import tqdm

        progress = tqdm(total=round(duration, 1), unit="s", desc="video", leave=False)
    started = time.monotonic()
    try:
        service.start()
        while not stop.is_set():
            if service.wait(timeout_s=0.25):
                break
            if progress is not None:
                done = max((t for t, _, _ in service.collected["main"].scores), default=0.0)
                progress.n = round(min(done, duration or done), 1)
                progress.refresh()
    finally:
        if progress is not None:
            progress.close()
        service.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    took = time.monotonic() - started
    worker = service.ingest.workers["main"]
    stats = worker.stats()
    collected = service.collected["main"]
    if stats.state.value == "failed" and not collected.scores:
        raise UserError(f"cannot read {safe}: {stats.last_error or 'the source failed'}")
    files = write_report(
        out_dir,
        collected.scores,
        collected.highlights,
        source=safe,
        queries=list(args.query),
        duration=duration,
        png=not args.no_png,
    )
    frames = service.pipeline.frames_done("main")
    media = max((t for t, _, _ in collected.scores), default=0.0) + 1.0 / args.sample_fps if frames else 0.0
    speed = f", {media / took:.1f}x real time" if took > 0 and media > 0 else ""
    print(
        f"{label}: {frames} frames scored in {took:.1f} s{speed}; {len(collected.highlights)} highlights; "
        f"report in {files.scores_json.parent}"
        + (f" (timeline {files.timeline_png.name})" if files.timeline_png else ""),
        flush=True,
    )
    return 0


def main(argv: list[str]) -> int:
    """Parse and run."""
    return run_source(build_parser().parse_args(argv))
