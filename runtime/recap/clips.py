"""What a stored clip holds, read from its packets only: keyframe times, length, and its codec's parameters.

Why packets and no decoding: a recap over a day opens dozens of clips, and the
container's index already says where each keyframe is (a part may only start on
one when it is copied) and how long the clip runs. The codec parameters decide
whether parts can be joined without re-encoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class ClipFormat:
    """What must agree between clips for their packets to be joined into one stream."""

    codec: str
    width: int
    height: int
    pix_fmt: str | None
    extradata: bytes

    def describe(self) -> str:
        return f"{self.codec} {self.width}x{self.height}"


@dataclass(frozen=True)
class ClipIndex:
    """One clip file: keyframe times (s from its first frame), its length, its format."""

    path: Path
    keyframes: np.ndarray
    duration: float
    format: ClipFormat


class UnreadableClip(OSError):
    """The clip file is missing, empty or not a video PyAV can read."""


def index_clip(path: Path) -> ClipIndex:
    """Read `path`'s packet index; UnreadableClip (with the reason) when it cannot."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise UnreadableClip(f"{path.name} has no video stream")
            stream = container.streams.video[0]
            ctx = stream.codec_context
            fmt = ClipFormat(
                codec=ctx.name, width=ctx.width, height=ctx.height,
                pix_fmt=ctx.format.name if ctx.format is not None else None,
                extradata=bytes(ctx.extradata or b""),
            )
            keyframes: list[float] = []
            first: float | None = None
            end = 0.0
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                t = float(packet.pts * packet.time_base)
                first = t if first is None else min(first, t)
                if packet.is_keyframe:
                    keyframes.append(t)
                end = max(end, t + float((packet.duration or 0) * packet.time_base))
    except FileNotFoundError:
        raise UnreadableClip(f"{path} is missing") from None
    except (av.FFmpegError, OSError) as err:
        raise UnreadableClip(f"{path} cannot be read: {err}") from None
    if first is None or not keyframes:
        raise UnreadableClip(f"{path} holds no video frames")
    return ClipIndex(path, np.asarray(sorted(k - first for k in keyframes)), end - first, fmt)


def frame_at(path: Path, t: float) -> np.ndarray | None:
    """The RGB frame shown at `t` s into the clip (the last one before it), or None when it cannot be decoded."""
    return frames_at(path, [t])[0]


def frames_at(path: Path, times: list[float]) -> list[np.ndarray | None]:
    """The RGB frames shown at each of `times` (s into the clip), the file opened once; None where one is unreadable."""
    import av

    out: list[np.ndarray | None] = [None] * len(times)
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            origin = stream.start_time or 0
            for i, t in enumerate(times):
                container.seek(origin + int(t / stream.time_base), stream=stream, backward=True)
                chosen = None
                for frame in container.decode(stream):
                    if chosen is not None and frame.time is not None and frame.time - origin * stream.time_base > t:
                        break
                    chosen = frame
                out[i] = None if chosen is None else chosen.to_ndarray(format="rgb24")
    except (av.FFmpegError, OSError, IndexError):
        pass
    return out
