"""Open a video source with PyAV and yield its decoded frames: files, RTSP cameras, V4L2 devices.

Only this module touches containers. It turns every FFmpeg failure into a
`SourceError` whose text is already redacted and which says whether retrying can
help (`permanent`). Note three FFmpeg facts the worker relies on:
- `timeout=(open, read)` is what bounds blocking calls (the RTSP `stimeout`
  option has no effect through PyAV);
- over TCP a dropped RTSP server often just ends the packet loop without an
  exception, so for a live source a clean end is a disconnect, not the end;
- a timeout shows up as whatever FFmpeg's demuxer makes of the interrupt
  (`ExitError`, and "Invalid data found" from an RTSP handshake cut short), so a
  call that failed after waiting out its timeout is reported as a timeout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from vgsum.stream.config import StreamConfig, local_path
from vgsum.stream.redact import redact_text, url_secrets
from vgsum.stream.state import Watchdog

SKIP_FROM_RATIO = 10  # source frames per sample from which unreferenced frames are skipped

if TYPE_CHECKING:  # PyAV is imported lazily: `vgsum --help` and schema tools need not load FFmpeg.
    import av
    import av.container
    import av.video

log = logging.getLogger(__name__)


class SourceError(Exception):
    """Opening or reading failed. The message is redacted; `permanent` means retrying will not help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def _permanent(err: BaseException, kind: str) -> bool:
    """Errors that a retry cannot fix.

    For files: wrong path, not a video. For network sources only answers that prove
    the server was reached and said no (404, 401, 403, unknown protocol): an
    unreachable host surfaces in FFmpeg as anything from ECONNREFUSED to
    "Invalid data", and a camera that is down must be retried, not given up on.
    """
    import av.error as averr

    if kind in ("rtsp", "network"):
        return isinstance(err, averr.HTTPClientError | averr.ProtocolNotFoundError | averr.DemuxerNotFoundError)
    return isinstance(
        err,
        averr.HTTPClientError
        | averr.FileNotFoundError
        | averr.InvalidDataError
        | averr.DemuxerNotFoundError
        | averr.ProtocolNotFoundError
        | averr.PermissionError
        | averr.IsADirectoryError
        | averr.DecoderNotFoundError
        | FileNotFoundError
        | IsADirectoryError,
    )


def _timed_out(err: BaseException, waited: float | None, limit: float | None) -> bool:
    """True when a call failed because it waited out its timeout, whatever FFmpeg named the failure.

    The interrupt that enforces the timeout surfaces as `ExitError`, or as "Invalid
    data" when it cuts an RTSP handshake short; only the time waited tells the two
    "Invalid data" apart. 5 % of slack covers the interrupt's polling.
    """
    import av.error as averr

    if isinstance(err, averr.ExitError):
        return True
    if waited is None or limit is None or waited < 0.95 * limit:
        return False
    return isinstance(err, averr.InvalidDataError | averr.TimeoutError | TimeoutError)


def describe_error(err: BaseException, url: str, waited: float | None = None, limit: float | None = None) -> str:
    """One redacted line for an FFmpeg/OS error: the reason without the (secret-bearing) URL.

    With `waited` (seconds the failed call took) and its timeout `limit`, a failure
    that came from the timeout says so instead of repeating FFmpeg's misleading name.
    """
    import av.error as averr

    if _timed_out(err, waited, limit):
        if waited is not None:
            return f"timed out: no answer in {waited:.1f} s"
        return "timed out (no data)"
    if isinstance(err, averr.ExitError):
        reason = "timed out (no data)"
    elif isinstance(err, averr.FFmpegError | OSError) and getattr(err, "strerror", None):
        reason = str(err.strerror)
    else:
        reason = str(err) or type(err).__name__
    return redact_text(f"{reason} ({type(err).__name__})", url_secrets(url))


class VideoSource:
    """One open container of one source; iterate `frames()` once, then `close()`.

    A new VideoSource per connection attempt keeps reconnects simple: no state
    survives a broken FFmpeg context.
    """

    def __init__(self, cfg: StreamConfig) -> None:
        self.cfg = cfg
        self.container: av.container.InputContainer | None = None
        self.stream: av.video.VideoStream | None = None
        self.read_timeout_s: float | None = None  # bound of one blocking read; None for files
        self.skips_unreferenced = False  # the decoder drops frames no other frame references

    def open(self) -> None:
        """Open the container and its first video stream; raise SourceError (redacted) on failure."""
        import av

        cfg = self.cfg
        kind = cfg.kind
        url = cfg.ffmpeg_url()  # the credentials percent-encoded: see StreamConfig.ffmpeg_url
        options: dict[str, str] = {}
        fmt: str | None = None
        timeout: tuple[float, float] | None = None
        # FFmpeg's RTSP demuxer answers the first interrupt of a silent connection with a
        # queued packet and only fails on the second: half the stall bound per read keeps
        # stall detection within the bound.
        read_timeout = min(cfg.read_timeout_s, cfg.stall_after_s / 2)
        if kind == "rtsp":
            options["rtsp_transport"] = cfg.transport
            timeout = (cfg.open_timeout_s, read_timeout)
        elif kind == "device":
            fmt = "v4l2"
            url = url.removeprefix("v4l2://")
            timeout = (cfg.open_timeout_s, read_timeout)
        elif kind == "network":
            timeout = (cfg.open_timeout_s, read_timeout)
        else:
            url = str(local_path(url))
        started = time.monotonic()
        try:
            container = av.open(url, mode="r", format=fmt, options=options, timeout=timeout)
        except Exception as err:  # noqa: BLE001 - every open failure becomes a classified SourceError
            waited = time.monotonic() - started
            limit = timeout[0] if timeout is not None else None
            timed_out = _timed_out(err, waited, limit)
            raise SourceError(
                f"cannot open: {describe_error(err, cfg.url, waited, limit)}",
                permanent=not timed_out and _permanent(err, kind),
            ) from None
        if not container.streams.video:
            container.close()
            raise SourceError("no video stream in source", permanent=True)
        stream = container.streams.video[0]
        # Frame threading for throughput; FFmpeg picks the thread count when 0.
        stream.thread_type = "AUTO"
        if cfg.decode_threads:
            stream.codec_context.thread_count = cfg.decode_threads
        self.skips_unreferenced = cfg.skip_unreferenced and _sparse_sampling(stream, cfg.sample_fps)
        if self.skips_unreferenced:
            stream.codec_context.skip_frame = "NONREF"
        self.container, self.stream = container, stream
        self.read_timeout_s = timeout[1] if timeout is not None else None

    @property
    def size(self) -> tuple[int, int]:
        """Coded width and height of the video stream."""
        assert self.stream is not None, "open() first"
        return self.stream.codec_context.width, self.stream.codec_context.height

    def frames(
        self, watchdog: Watchdog | None = None, on_packet: Callable[[av.Packet], object] | None = None
    ) -> Iterator[av.VideoFrame]:
        """Decoded frames until the source ends (returns) or breaks (SourceError, redacted).

        With a `watchdog`, packets that keep coming without a decodable frame count as
        a stall too (the read timeout only catches silence). `on_packet` sees every
        demuxed packet before it is decoded (the highlight-clip buffer keeps them).
        """
        assert self.container is not None and self.stream is not None, "open() first"
        limit = self.read_timeout_s
        packets = self.container.demux(self.stream)
        # The last packet that came without the read timeout firing. FFmpeg's RTSP demuxer
        # answers the first timeout of a silent connection with a packet it had queued, so
        # a packet that took the whole timeout to come is no sign of life.
        heard = asked = time.monotonic()
        try:
            while True:
                asked = time.monotonic()
                packet = next(packets, None)
                if packet is None:
                    return
                now = time.monotonic()
                if limit is None or now - asked < limit:
                    heard = now
                if watchdog is not None and watchdog.stalled():
                    raise SourceError(
                        f"stalled: no frame for {watchdog.silent_for():.1f} s "
                        f"(stall_after_s {watchdog.stall_after_s:g})",
                        permanent=False,
                    )
                if on_packet is not None:
                    on_packet(packet)
                # demux yields a final empty packet that flushes the decoder.
                yield from packet.decode()
        except (GeneratorExit, SourceError):
            raise
        except Exception as err:  # noqa: BLE001 - read failures are classified, not propagated raw
            import av.error as averr

            if isinstance(err, averr.EOFError):
                return
            now = time.monotonic()
            if limit is not None and _timed_out(err, now - asked, limit):
                raise SourceError(
                    f"stalled: no data for {now - heard:.1f} s (stall_after_s {self.cfg.stall_after_s:g})",
                    permanent=False,
                ) from None
            raise SourceError(f"read failed: {describe_error(err, self.cfg.url)}", permanent=False) from None

    @property
    def declared_end(self) -> float | None:
        """Where the container's header says the video ends (seconds, on the frames' clock), or None.

        The video stream's own duration, not the container's: an audio track that runs
        longer must not make a complete video look cut short. A container that gives
        no per-stream duration is used only when the video is its one stream.
        """
        container, stream = self.container, self.stream
        if container is None or stream is None:
            return None
        if stream.duration and stream.time_base:
            start = stream.start_time if stream.start_time is not None else 0
            return float((start + stream.duration) * stream.time_base)
        if container.duration and len(container.streams) == 1:
            start = container.start_time if container.start_time is not None else 0
            return (start + container.duration) / 1_000_000
        return None

    def close(self) -> None:
        """Close the container (idempotent); errors while closing a broken source are logged, not raised."""
        container, self.container, self.stream = self.container, None, None
        if container is not None:
            try:
                container.close()
            except Exception as err:  # noqa: BLE001
                log.debug("closing %s: %s", self.cfg.stream_id, describe_error(err, self.cfg.url))


def _sparse_sampling(stream: av.video.VideoStream, sample_fps: float) -> bool:
    """True when the sampler keeps at most a tenth of the source's frames (its rate is known).

    Then the frames nobody references (most B-frames of H.264/HEVC files: half of a
    30-fps 720p clip's frames and a third of its decode time) need not be decoded: a
    sample lands a frame or two later than it would, at most about a tenth of a second
    at 2 fps from 20 fps and up. Sparser sources are cheap to decode whole, and there a
    two-frame shift moves what the detector sees (a 10-fps room clip at 2 fps agreed
    less with its hand-made person intervals: 0.946 against 0.968 of frames).
    """
    rate = stream.average_rate or stream.guessed_rate
    return rate is not None and float(rate) >= SKIP_FROM_RATIO * sample_fps
