"""`vgsum bench decode`: what decoding costs per stream-second when the decoder skips frames, and what skipping
would cost in alert latency.

A quiet camera's perception is gated, so decoding becomes a large part of what it costs. A decoder told to skip
non-reference frames (what ingest does above 20 fps) or everything but keyframes decodes less; but an event that
starts between two keyframes is seen only at the next one, so keyframe-only decoding while quiet delays the first
alert by up to one keyframe interval. Cameras encode without B-frames, so skipping non-reference frames saves
nothing on their streams. Modes are run one after another on the same file, each on the same stretch of video.
"""

from __future__ import annotations

import argparse
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import av

from vgsum.runtime.bench.ingest import cpu_model, default_videos
from vgsum.runtime.common.errors import UserError

MODES = ("DEFAULT", "NONREF", "NONKEY")  # FFmpeg's AVDiscard levels, as PyAV names them
CAMERA_STREAMS = ("cam-sub-quiet4h-clean.mp4", "cam-main-sparse-room.mp4")  # built by `vgsum eval events`


@dataclass(frozen=True)
class DecodeRun:
    """One mode on one file: decoded frames, seconds of video covered, CPU seconds, longest keyframe gap."""

    video: str
    mode: str
    frames: int
    video_s: float
    cpu_s: float
    max_key_gap_s: float

    @property
    def cpu_per_stream_s(self) -> float:
        return self.cpu_s / self.video_s if self.video_s > 0 else float("nan")


def decode(path: Path, mode: str, seconds: float) -> DecodeRun:
    """Decode the first `seconds` of `path` with frame threading, skipping frames as `mode` says."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.skip_frame = mode
        frames, t, last_key, max_gap = 0, 0.0, None, 0.0
        start = time.process_time()  # the whole process: FFmpeg's decoder threads too
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            t = float(frame.pts * stream.time_base)
            frames += 1
            if frame.key_frame:
                if last_key is not None:
                    max_gap = max(max_gap, t - last_key)
                last_key = t
            if t >= seconds:
                break
        used = time.process_time() - start
    return DecodeRun(path.name, mode, frames, t, used, max_gap)


def camera_videos() -> list[Path]:
    """The built camera-profile streams, where they exist (they are built into the cache, never committed)."""
    from vgsum.models.data.event_streams import default_cache_dir  # the builder's folder; it imports no torch

    folder = default_cache_dir()
    return [folder / name for name in CAMERA_STREAMS if (folder / name).is_file()]


def table(runs: list[DecodeRun]) -> str:
    rows = [
        "| video | mode | frames decoded | video s | CPU s per stream-second | of all frames' cost"
        " | longest keyframe gap |",
        "|---|---|---|---|---|---|---|",
    ]
    full = {r.video: r.cpu_per_stream_s for r in runs if r.mode == "DEFAULT"}
    for r in runs:
        share = r.cpu_per_stream_s / full[r.video] if full.get(r.video) else float("nan")
        rows.append(
            f"| {r.video} | {r.mode} | {r.frames} | {r.video_s:.1f} | {r.cpu_per_stream_s:.4f} | {share:.2f} |"
            f" {r.max_key_gap_s:.2f} s |"
        )
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="vgsum bench decode", description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, action="append", help="files to decode (repeatable; default: the "
                        "built camera streams where built, and the bundled and footage clips)")
    parser.add_argument("--seconds", type=float, default=120.0, help="stretch of each file decoded per mode")
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode; the median by CPU time is shown")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.repeat < 1:
        raise UserError("--seconds must be > 0 and --repeat >= 1")
    videos = args.video or [*camera_videos(), *default_videos()]
    for path in videos:
        if not path.is_file():
            raise UserError(f"no such video: {path}")
    print(f"vgsum bench decode: {platform.machine()} {cpu_model()}, {args.seconds:g} s per mode, median of "
          f"{args.repeat}")
    runs = []
    for path in videos:
        for mode in MODES:
            tries = sorted((decode(path, mode, args.seconds) for _ in range(args.repeat)), key=lambda r: r.cpu_s)
            runs.append(tries[len(tries) // 2])
    print(table(runs))
    return 0
