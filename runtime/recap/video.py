"""The recap's MP4: parts joined in order, with chapter atoms and a caption track, and WebVTT captions beside it.

Parts whose clips share one format (codec, size, pixel format and codec
parameters, as clips of one camera do) are joined by copying their packets: no
decoding, so a day's recap is written in seconds. Clips that differ (cameras of
several sizes or codecs) are decoded, letterboxed onto the largest part's size
(at most 1280x720) and re-encoded with libx264; `Written.mode` says which.

Captions go into the file as a `mov_text` subtitle track (players show them; PyAV
and ffprobe read them) and beside it as WebVTT (`<track>` in a browser, which does
not read MP4 text tracks). Each part is also a chapter: `container.chapters()` in
PyAV, the chapter list of VLC or mpv.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import numpy as np

from vgsum.runtime.recap.clips import ClipFormat

MAX_REENCODE = (1280, 720)
SUBTITLE_TB = Fraction(1, 1000)
ENCODE_TB = Fraction(1, 90_000)
# The caption track's style (ASS header the mov_text encoder asks for): white text at the bottom.
_ASS_HEADER = (
    b"[Script Info]\r\nScriptType: v4.00+\r\nPlayResX: 384\r\nPlayResY: 288\r\n\r\n[V4+ Styles]\r\n"
    b"Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
    b"Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
    b"MarginR, MarginV, Encoding\r\n"
    b"Style: Default,Sans,14,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0\r\n\r\n"
    b"[Events]\r\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\r\n"
)


@dataclass(frozen=True)
class Segment:
    """`clip` from `clip_from` (a keyframe) to `clip_to`, in clip seconds, with its caption."""

    clip: Path
    clip_from: float
    clip_to: float
    caption: str


@dataclass(frozen=True)
class Written:
    """The file written, how, and where each segment landed in it (seconds)."""

    path: Path
    mode: Literal["copy", "reencode"]
    reason: str
    spans: list[tuple[float, float]]

    @property
    def duration(self) -> float:
        return self.spans[-1][1] if self.spans else 0.0


def join_mode(formats: Sequence[ClipFormat]) -> tuple[Literal["copy", "reencode"], str]:
    """Copy when every clip has the same format; else re-encode, saying what differs."""
    first = formats[0]
    for other in formats[1:]:
        if other != first:
            what = (
                f"{first.describe()} and {other.describe()}" if other.describe() != first.describe()
                else f"codec parameters differ between {first.describe()} clips"
            )
            return "reencode", f"re-encoded: the clips differ ({what})"
    return "copy", f"stream copy: every clip is {first.describe()}"


def write_recap(
    segments: Sequence[Segment],
    formats: Sequence[ClipFormat],
    out: Path,
    *,
    progress: Callable[[int], None] | None = None,
) -> Written:
    """Write `segments` in order into `out` (atomically: `NAME.part`, then renamed), and `out`.vtt beside it."""
    import av

    mode, reason = join_mode(formats)
    partial = out.with_name(out.name + ".part")
    try:
        with av.open(str(partial), "w", format="mp4") as output:
            if mode == "copy":
                with av.open(str(segments[0].clip)) as first:
                    video = output.add_stream_from_template(template=first.streams.video[0])
            else:
                video = _encoder(output, formats)
            track = _caption_track(output)  # before the first packet: the file's header is written then
            if mode == "copy":
                spans = _copy(output, video, segments, progress)
            else:
                spans = _reencode(output, video, segments, progress)
            _captions(track, output, segments, spans)
            output.set_chapters([
                {"id": i + 1, "start": round(a / SUBTITLE_TB), "end": round(b / SUBTITLE_TB),
                 "time_base": SUBTITLE_TB, "metadata": {"title": s.caption}}
                for i, (s, (a, b)) in enumerate(zip(segments, spans, strict=True))
            ])
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    write_webvtt(out.with_suffix(".vtt"), [s.caption for s in segments], spans)
    return Written(out, mode, reason, spans)


def _copy(output, out_stream, segments: Sequence[Segment], progress) -> list[tuple[float, float]]:  # noqa: ANN001
    import av

    offset = 0.0
    last_dts = -1.0  # seconds: decode times must keep rising across parts
    spans = []
    for segment in segments:
        start = end = offset
        with av.open(str(segment.clip)) as source:
            stream = source.streams.video[0]
            tb = stream.time_base
            origin = None  # the clip's first pts: clip time 0
            shift = None  # added to this part's timestamps: its keyframe lands at `offset`
            for packet in source.demux(stream):
                if packet.pts is None:
                    continue
                origin = packet.pts if origin is None else origin
                t = float((packet.pts - origin) * tb)
                if shift is None and (t < segment.clip_from - 1e-3 or not packet.is_keyframe):
                    continue
                if t >= segment.clip_to - 1e-3:
                    break
                dts = packet.dts if packet.dts is not None else packet.pts
                if shift is None:
                    shift = round(offset / tb) - packet.pts
                    if float((dts + shift) * tb) <= last_dts:  # reordered frames: leave a frame's gap, not a clash
                        shift = int(np.ceil(last_dts / tb)) + 1 - dts
                    start = float((packet.pts + shift) * tb)
                packet.pts += shift
                packet.dts = dts + shift
                packet.stream = out_stream
                last_dts = float(packet.dts * tb)
                end = max(end, float((packet.pts + (packet.duration or 0)) * tb))
                output.mux(packet)
        spans.append((start, max(end, start)))
        offset = max(end, offset)
        if progress is not None:
            progress(1)
    return spans


def _target_size(formats: Sequence[ClipFormat]) -> tuple[int, int]:
    """The largest part's size, shrunk to fit MAX_REENCODE, even on both sides."""
    width, height = max(((f.width, f.height) for f in formats), key=lambda wh: wh[0] * wh[1])
    scale = min(1.0, MAX_REENCODE[0] / width, MAX_REENCODE[1] / height)
    return int(width * scale) // 2 * 2, int(height * scale) // 2 * 2


def _letterbox(frame, width: int, height: int) -> np.ndarray:  # noqa: ANN001 (a PyAV VideoFrame)
    """The frame scaled to fit width x height, centred on black, as RGB."""
    scale = min(width / frame.width, height / frame.height)
    w, h = max(2, int(frame.width * scale) // 2 * 2), max(2, int(frame.height * scale) // 2 * 2)
    rgb = frame.reformat(width=w, height=h, format="rgb24").to_ndarray()
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    top, left = (height - h) // 2, (width - w) // 2
    canvas[top:top + h, left:left + w] = rgb
    return canvas


def _encoder(output, formats: Sequence[ClipFormat]):  # noqa: ANN001,ANN202 (PyAV)
    """An H.264 stream at the largest part's size (within MAX_REENCODE), on a 1/90000 s clock."""
    width, height = _target_size(formats)
    video = output.add_stream("libx264", rate=15)
    video.width, video.height, video.pix_fmt = width, height, "yuv420p"
    video.time_base = ENCODE_TB
    video.codec_context.time_base = ENCODE_TB
    video.options = {"preset": "veryfast", "crf": "23", "bframes": "0"}
    return video


def _reencode(output, video, segments: Sequence[Segment], progress) -> list[tuple[float, float]]:  # noqa: ANN001
    import av

    width, height, tb = video.width, video.height, ENCODE_TB
    offset = 0.0
    last_pts = -1
    spans = []
    for segment in segments:
        end = offset
        with av.open(str(segment.clip)) as source:
            stream = source.streams.video[0]
            stream.thread_type = "AUTO"
            origin = None
            for frame in source.decode(stream):
                if frame.pts is None:
                    continue
                origin = frame.pts if origin is None else origin
                t = float((frame.pts - origin) * stream.time_base)
                if t < segment.clip_from - 1e-3:
                    continue
                if t >= segment.clip_to - 1e-3:
                    break
                picture = av.VideoFrame.from_ndarray(_letterbox(frame, width, height), format="rgb24")
                pts = max(round((offset + t - segment.clip_from) / tb), last_pts + 1)
                picture.pts, picture.time_base = pts, tb
                last_pts = pts
                for packet in video.encode(picture.reformat(format="yuv420p")):
                    output.mux(packet)
                end = max(end, offset + t - segment.clip_from + 1 / 15)
        spans.append((offset, end))
        offset = end
        if progress is not None:
            progress(1)
    for packet in video.encode(None):
        output.mux(packet)
    return spans


def _caption_track(output):  # noqa: ANN001,ANN202 (PyAV)
    """The mov_text stream; it must exist before the first packet is muxed (the header is written then)."""
    track = output.add_stream("mov_text")
    track.codec_context.subtitle_header = _ASS_HEADER
    track.codec_context.time_base = SUBTITLE_TB
    track.time_base = SUBTITLE_TB
    return track


def _captions(track, output, segments: Sequence[Segment], spans: list[tuple[float, float]]) -> None:  # noqa: ANN001
    from av.subtitles.subtitle import SubtitleSet

    for segment, (start, end) in zip(segments, spans, strict=True):
        a, b = round(start / SUBTITLE_TB), round(end / SUBTITLE_TB)
        text = segment.caption.replace("\n", " ").replace("{", "(").replace("}", ")")
        cue = SubtitleSet.create(f"0,0,Default,,0,0,0,,{text}".encode(), 0, b - a, a)
        packet = track.codec_context.encode_subtitle(cue)
        packet.stream = track
        packet.pts = packet.dts = a
        packet.duration = b - a
        packet.time_base = SUBTITLE_TB
        output.mux(packet)


def _vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def write_webvtt(path: Path, captions: Sequence[str], spans: Sequence[tuple[float, float]]) -> None:
    """WebVTT cues, one per part (a browser's `<track>`; also a chapter list for any player)."""
    lines = ["WEBVTT", ""]
    for i, (caption, (start, end)) in enumerate(zip(captions, spans, strict=True), 1):
        text = caption.replace("-->", "->").replace("\n", " ")
        lines += [str(i), f"{_vtt_time(start)} --> {_vtt_time(end)}", text, ""]
    partial = path.with_name(path.name + ".part")
    partial.write_text("\n".join(lines), encoding="utf-8")
    os.replace(partial, path)
