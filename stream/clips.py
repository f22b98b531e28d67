"""Highlight clips: the buffered packets of a time span remuxed into an MP4, without re-encoding.

Why remux: decoding and re-encoding a clip would cost more CPU than the whole
summarizer spends on that stream; copying the packets costs a file write. The
clip starts at the keyframe at or before the highlight's start (so it decodes
on its own) and its timestamps are shifted so that its first frame is at 0.

The file appears atomically (written as `NAME.part`, then renamed), so a
subscriber that gets the path in a `highlight` message never reads half a file.

Usage::

    span = buffer.span(highlight.start, highlight.end)
    if span is not None:
        info = write_clip(span, clip_dir / clip_filename(stream_id, span.start))
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from vgsum.stream.packet_buffer import PacketSpan


@dataclass(frozen=True)
class ClipInfo:
    """What was written: the file, the stream times it covers (s), its length and packet count."""

    path: Path
    start: float
    end: float
    packets: int
    codec: str

    @property
    def duration(self) -> float:
        """Seconds of video in the clip."""
        return self.end - self.start


def clip_filename(stream_id: str, start: float) -> str:
    """A file name that is safe on any filesystem and sorts by time: `cam1_000123.40.mp4`."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", stream_id).strip("._") or "stream"
    return f"{safe[:64]}_{start:09.2f}.mp4"


def write_clip(span: PacketSpan, path: str | os.PathLike[str]) -> ClipInfo:
    """Remux `span`'s packets into an MP4 at `path` (parent folders are made). Raises OSError on write errors."""
    import av

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    first = span.packets[0].packet
    origin = first.pts if first.pts is not None else first.dts
    end = span.start
    try:
        with av.open(str(partial), "w", format="mp4") as output:
            out_stream = output.add_stream_from_template(template=span.template.stream)
            for item in span.packets:
                src = item.packet
                # A copy: the buffered packet stays untouched for other clips.
                copy = av.Packet(bytes(src))
                copy.time_base = src.time_base
                copy.pts = src.pts - origin if src.pts is not None else None
                copy.dts = src.dts - origin if src.dts is not None else None
                copy.duration = src.duration
                copy.is_keyframe = src.is_keyframe
                copy.stream = out_stream
                output.mux(copy)
                frame_end = item.pts + (float(src.duration * src.time_base) if src.duration else 0.0)
                end = max(end, frame_end)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return ClipInfo(target, span.start, end, len(span.packets), span.template.codec_name)
