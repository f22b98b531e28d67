"""A recorded camera-day: the site's streams run through `vgsum run` into a real history store, with truth in wall time.

`vgsum recap` picks from a camera's stored history, so it is measured on a store that the
real pipeline wrote (highlights, clips, thumbnails, score timelines), not on a simulation
of one. `record_day` builds the cameras of `models/data/camera_day.py`, runs each, one
after another (the machine has few cores), exactly as a user would:
`VGSUM_DATA=<folder> vgsum run VIDEO --no-png --quiet --threads N --out REPORT`. With the
store on, `vgsum run` writes every highlight's clip into the store's `clips/` (passing
`--clips` would put them in the report folder instead, outside VGSUM_DATA).

A file run faster than real time is anchored by the store writer: wall time = anchor + stream
time, the anchor taken from the run's first message. So each stream's anchor is read back
from its stored rows (`wall_start - start` of a highlight, else `wall_time - t` of a score)
and the truth, in stream seconds, is mapped onto the store's wall clock with it.

The recording is cached: a stamp beside the store names the videos (sha256), the engines
(sha256 of every file) and the options; when they match and the store exists, nothing is
recorded again. A mismatch records the day afresh into an emptied folder (a store only
appends, and a second run of a stream would add a second set of highlights).

`python -m vgsum.models.eval.recap_day [--cache-dir D] [--quiet-s S | --quiet-scale X] [--camera NAME ...]`
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, ValidationError

from vgsum.runtime.common.digest import sha256_of

if TYPE_CHECKING:
    from vgsum.models.data.event_streams import BuiltStream, StreamRecipe
    from vgsum.models.data.events import ClipTruth

# Changes whenever a recording made before would differ from one made now (options, layout).
RECORDER_VERSION = 1
# What `vgsum run` is given besides the video, the report folder and the thread count.
RUN_OPTIONS = ("--no-png", "--quiet")
STAMP_NAME = "recorded.json"
ANCHOR_TOLERANCE_S = 1e-3  # every stored row of an anchored stream gives the same anchor


@dataclass(frozen=True)
class DayEvent:
    """One event occurrence: stream seconds and the store's wall seconds, its kind and distinct source event."""

    start: float
    end: float
    wall_start: float
    wall_end: float
    kind: str
    distinct_id: str  # "<source clip>#<event index>": a repeat shares it with the earlier play
    text: str


@dataclass(frozen=True)
class DayStream:
    """One recorded camera: its stream id in the store, its video and truth on the store's wall clock."""

    stream_id: str
    video: Path
    duration_s: float
    anchor_wall: float  # unix seconds at stream time 0 in the store
    events: list[DayEvent]
    quiet: list[tuple[float, float]]  # wall seconds
    cuts: list[float]  # stream seconds where the built stream jumps to another scene (not events)
    highlights: int  # rows stored for this stream


@dataclass(frozen=True)
class RecordedDay:
    """The recorded site: the store and its data folder, the streams, and what building and recording took."""

    store: Path  # history.db
    data_dir: Path  # VGSUM_DATA of the recording (store, clips/, thumbnails/)
    streams: list[DayStream]
    recorded_s: float  # sum of the streams' durations
    build_s: float  # wall seconds building (or finding) the videos in this call
    record_s: float  # wall seconds the recording took (when it was made, if reused)
    reused: bool  # the store was recorded by an earlier call


class RecordStamp(BaseModel):
    """What a recording was made from; a stored one that equals the wanted one lets the store be reused."""

    model_config = ConfigDict(extra="forbid")

    version: int
    videos: dict[str, str]  # stream id -> sha256 of the video
    engines: dict[str, str]  # engine file -> sha256
    options: list[str]
    record_s: dict[str, float] = {}  # stream id -> wall seconds of its run (not compared)

    def same_inputs(self, other: RecordStamp) -> bool:
        return (self.version, self.videos, self.engines, self.options) == (
            other.version,
            other.videos,
            other.engines,
            other.options,
        )


def default_recap_dir() -> Path:
    """`recap-day` beside the event-stream cache (`~/.cache/vgsum/recap-day` by default)."""
    from vgsum.models.data.event_streams import default_cache_dir

    return default_cache_dir().parent / "recap-day"


def _label(cameras: Sequence[str] | None, quiet_s: float | None, quiet_scale: float | None) -> str:
    """The recording's folder name: a tiny or partial day never lands on (and wipes) the full one."""
    from vgsum.models.data.camera_day import DAYS

    named = next((name for name, names in DAYS.items() if cameras is not None and list(cameras) == names), None)
    label = named or "day"
    if named is not None:
        cameras = None
    if quiet_s is not None:
        label += f"-q{quiet_s:g}s"
    if quiet_scale is not None:
        label += f"-x{quiet_scale:g}"
    if cameras is not None:
        label += "-" + "+".join(cameras)
    return label


def engine_hashes(folder: Path | None = None) -> dict[str, str]:
    """sha256 of every file in the engine folder `vgsum run` uses (the engine cache by default)."""
    from vgsum.runtime.common.paths import engine_dir

    folder = folder if folder is not None else engine_dir()
    if not folder.is_dir():
        raise FileNotFoundError(f"engine folder {folder} is missing; build the engines first")
    return {p.name: sha256_of(p) for p in sorted(folder.iterdir()) if p.is_file()}


def _vgsum() -> list[str]:
    """The `vgsum` console script of this environment, as a user runs it."""
    script = Path(sys.executable).with_name("vgsum")
    if script.is_file():
        return [str(script)]
    found = shutil.which("vgsum")
    return [found] if found else [sys.executable, "-m", "vgsum.runtime.cli"]


def _read_stamp(path: Path) -> RecordStamp | None:
    try:
        return RecordStamp.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None


def _run_stream(video: Path, data_dir: Path, report: Path, log: Path, threads: int) -> float:
    """One `vgsum run` into the store; its output goes to `log`. Wall seconds it took."""
    env = dict(os.environ, VGSUM_DATA=str(data_dir))
    command = [*_vgsum(), "run", str(video), *RUN_OPTIONS, "--threads", str(threads), "--out", str(report)]
    began = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        out.write(" ".join(command) + "\n")
        out.flush()
        rc = subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    took = time.monotonic() - began
    if rc != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RuntimeError(f"vgsum run {video.name} failed (exit {rc}); log {log}:\n{tail}")
    return took


def _anchor(conn: sqlite3.Connection, stream_id: str) -> float:
    """Wall seconds at stream time 0, from the stored highlights (else the scores); they must all agree."""
    rows = conn.execute("SELECT wall_start - start FROM highlights WHERE stream_id = ?", (stream_id,)).fetchall()
    if not rows:
        rows = conn.execute("SELECT wall_time - t FROM scores WHERE stream_id = ?", (stream_id,)).fetchall()
    if not rows:
        raise RuntimeError(f"stream {stream_id!r} has no highlights and no scores in the store")
    anchors = [r[0] for r in rows]
    if max(anchors) - min(anchors) > ANCHOR_TOLERANCE_S:
        raise RuntimeError(
            f"stream {stream_id!r} is not anchored: stored rows give anchors {min(anchors):.3f}-{max(anchors):.3f}"
        )
    return anchors[0]


def stored_highlights(store: Path, stream_id: str) -> list[tuple[float, float, str | None]]:
    """A stream's stored highlights: (start, end) in stream seconds and the clip path, in time order."""
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            'SELECT start, "end", clip FROM highlights WHERE stream_id = ? ORDER BY start', (stream_id,)
        ).fetchall()
    finally:
        conn.close()
    return [(float(s), float(e), c) for s, e, c in rows]


def _day_stream(
    store: sqlite3.Connection, recipe: StreamRecipe, built: BuiltStream, sources: dict[str, ClipTruth]
) -> DayStream:
    """One stream's truth on the store's wall clock."""
    from vgsum.models.data.camera_day import camera_events, read_truth
    from vgsum.runtime.cli.run import stream_id_for

    stream_id = stream_id_for(str(built.path))
    truth = read_truth(built)
    anchor = _anchor(store, stream_id)
    events = [
        DayEvent(e.start, e.end, anchor + e.start, anchor + e.end, e.kind, e.distinct_id, e.text)
        for e in camera_events(truth, recipe, sources)
    ]
    count = store.execute("SELECT COUNT(*) FROM highlights WHERE stream_id = ?", (stream_id,)).fetchone()[0]
    return DayStream(
        stream_id=stream_id,
        video=built.path,
        duration_s=truth.duration_s,
        anchor_wall=anchor,
        events=events,
        quiet=[(anchor + s, anchor + e) for s, e in truth.quiet],
        cuts=list(truth.cuts),
        highlights=int(count),
    )


def record_day(
    cache_dir: Path | str | None = None,
    quiet_scale: float | None = None,
    progress: bool = True,
    *,
    quiet_s: float | None = None,
    cameras: Sequence[str] | None = None,
    threads: int = 1,
) -> RecordedDay:
    """Build the site's streams and record them through `vgsum run` into one history store (cached).

    `cache_dir`: videos go to `<cache_dir>/streams`, the recording to `<cache_dir>/<label>`;
    by default the event-stream cache and `default_recap_dir()`. `quiet_scale` scales every
    camera's added quiet (or `quiet_s` sets it per camera), for a day that builds and records
    in seconds; `cameras` picks some of `DAY_RECIPES`. `threads`: ONNX Runtime threads per engine.
    """
    from vgsum.models.data.camera_day import build_day, source_truths
    from vgsum.models.data.event_streams import default_cache_dir
    from vgsum.runtime.cli.run import stream_id_for

    def say(line: str) -> None:
        if progress:
            print(line, file=sys.stderr, flush=True)

    base = Path(cache_dir).expanduser() if cache_dir is not None else None
    streams_dir = base / "streams" if base is not None else default_cache_dir()
    folder = (base if base is not None else default_recap_dir()) / _label(cameras, quiet_s, quiet_scale)
    data_dir = folder / "data"
    store_path = data_dir / "history.db"
    stamp_path = folder / STAMP_NAME

    began = time.monotonic()
    say(f"building {len(cameras) if cameras is not None else 'all'} camera streams into {streams_dir}")
    built = build_day(streams_dir, cameras=cameras, quiet_s=quiet_s, quiet_scale=quiet_scale)
    build_s = time.monotonic() - began
    say(f"built in {build_s:.1f} s")

    wanted = RecordStamp(
        version=RECORDER_VERSION,
        videos={stream_id_for(str(b.path)): sha256_of(b.path) for _, b in built},
        engines=engine_hashes(),
        options=list(RUN_OPTIONS),
    )
    stamp = _read_stamp(stamp_path)
    reused = stamp is not None and stamp.same_inputs(wanted) and store_path.is_file()
    if reused:
        assert stamp is not None
        wanted = stamp
        say(f"reusing the recording in {data_dir}")
    else:
        stamp_path.unlink(missing_ok=True)
        for stale in (data_dir, folder / "reports", folder / "logs"):
            if stale.exists():
                shutil.rmtree(stale)
        (folder / "logs").mkdir(parents=True)
        for _, b in built:
            stream_id = stream_id_for(str(b.path))
            say(f"recording {stream_id} ...")
            took = _run_stream(
                b.path, data_dir, folder / "reports" / stream_id, folder / "logs" / f"{stream_id}.log", threads
            )
            wanted.record_s[stream_id] = round(took, 2)
            say(f"recorded {stream_id} in {took:.1f} s")
        stamp_path.write_text(wanted.model_dump_json(indent=1) + "\n", encoding="utf-8")

    sources = source_truths()
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        streams = [_day_stream(conn, recipe, b, sources) for recipe, b in built]
    finally:
        conn.close()
    return RecordedDay(
        store=store_path,
        data_dir=data_dir,
        streams=streams,
        recorded_s=sum(s.duration_s for s in streams),
        build_s=build_s,
        record_s=sum(wanted.record_s.values()),
        reused=reused,
    )


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def summary(day: RecordedDay) -> str:
    """A few lines on the recorded day: per stream, then the site; events that no stored highlight touches."""
    lines = []
    for s in day.streams:
        spans = [(h[0], h[1]) for h in stored_highlights(day.store, s.stream_id)]
        missed = [e for e in s.events if not any(_overlaps((e.start, e.end), h) for h in spans)]
        false = [h for h in spans if not any(_overlaps(h, (e.start, e.end)) for e in s.events)]
        kinds = ",".join(f"{k} x{n}" for k, n in sorted(Counter(e.kind for e in s.events).items()))
        lines.append(
            f"{s.stream_id}: {s.duration_s / 60:.1f} min, {len(s.events)} events "
            f"({len({e.distinct_id for e in s.events})} distinct; {kinds}), {s.highlights} highlights stored "
            f"({len(false)} on no event), {len(missed)} events without a highlight"
            + "".join(f"\n  no highlight: {e.start:.1f}-{e.end:.1f} s {e.kind} {e.distinct_id}" for e in missed)
        )
    events = [e for s in day.streams for e in s.events]
    distinct = Counter(e.distinct_id for e in events)
    lines.append(
        f"site: {len(day.streams)} streams, {day.recorded_s / 3600:.2f} recorded hours, {len(events)} events, "
        f"{len(distinct)} distinct ({sum(n > 1 for n in distinct.values())} repeated), "
        f"kinds {dict(sorted(Counter(e.kind for e in events).items()))}, "
        f"{sum(s.highlights for s in day.streams)} highlights stored"
    )
    lines.append(
        f"build {day.build_s:.1f} s, record {day.record_s:.1f} s"
        + (" (an earlier recording, reused)" if day.reused else "")
    )
    lines.append(f"store {day.store}  (VGSUM_DATA={day.data_dir})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vgsum.models.eval.recap_day", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="videos and recording under here (default: caches)"
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quiet-s", type=float, default=None, help="each camera's added quiet in seconds (tiny days)")
    group.add_argument("--quiet-scale", type=float, default=None, help="scale each camera's added quiet")
    parser.add_argument("--camera", action="append", default=None, help="record only these cameras (repeatable)")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads per engine (default 1)")
    args = parser.parse_args(argv)
    for name, value in (("--quiet-s", args.quiet_s), ("--quiet-scale", args.quiet_scale)):
        if value is not None and value < 0:
            print(f"error: {name} must be >= 0", file=sys.stderr)
            return 2
    from vgsum.runtime.common.errors import UserError

    began = time.monotonic()
    try:
        day = record_day(
            args.cache_dir, args.quiet_scale, quiet_s=args.quiet_s, cameras=args.camera, threads=args.threads
        )
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(summary(day))
    print(f"wall time of this call: {time.monotonic() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
