"""The per-stream worker: connect, decode, sample, convert, queue; reconnect on faults.

One reader thread per stream, so a stuck camera blocks only itself. Everything a
subscriber should see (state changes, counters, the last error) is kept here and
read by the service through `stats()`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from vgsum.stream.config import StreamConfig
from vgsum.stream.decoder_cpu import DecoderThreads
from vgsum.stream.frame_queue import FrameQueue, QueueClosed
from vgsum.stream.sampler import PtsSampler
from vgsum.stream.source import SourceError, VideoSource, describe_error
from vgsum.stream.stage_cpu import STAGE_CPU
from vgsum.stream.state import Backoff, StateMachine, StreamState, Watchdog

log = logging.getLogger(__name__)

# The log record of a state change carries the new state under this attribute name.
STATE_LOG_FIELD = "stream_state"


@dataclass(frozen=True)
class SampledFrame:
    """One sampled frame, ready for perception.

    `epoch` grows after every reconnect or loop: frames of different epochs are not
    contiguous in time, and the pipeline must not mix them in one window.
    """

    stream_id: str
    seq: int  # per stream, from 0, counts sampled frames (dropped ones included)
    epoch: int
    pts: float  # seconds in the source's own clock (restarts with each epoch)
    media_time: float  # seconds of stream time, monotonic across epochs
    wall_time: float  # unix seconds at decode
    rgb: np.ndarray  # [H, W, 3] uint8

    @property
    def width(self) -> int:
        """RGB width in pixels."""
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        """RGB height in pixels."""
        return int(self.rgb.shape[0])


@dataclass(frozen=True)
class StreamStats:
    """A consistent snapshot of one worker's counters."""

    state: StreamState
    frames_decoded: int = 0
    frames_sampled: int = 0
    frames_dropped: int = 0
    reconnects: int = 0
    stalls: int = 0
    epoch: int = -1
    last_error: str | None = None
    last_media_time: float | None = None
    media_end: float | None = None  # media time just past the last decoded frame (its time + its duration)
    queue_lag_s: float = 0.0


StateCallback = Callable[["StreamWorker", StreamState, "str | None"], None]


class StreamWorker:
    """Reads one source in its own thread and fills `queue` with SampledFrames."""

    def __init__(self, cfg: StreamConfig, on_state: StateCallback | None = None) -> None:
        self.cfg = cfg
        self.queue: FrameQueue[SampledFrame] = FrameQueue(cfg.queue_size, cfg.policy)
        self._on_state = on_state
        self._machine = StateMachine(self._state_changed)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._state_lock = threading.Lock()  # a final state is checked and left as one step
        self._stats = StreamStats(state=StreamState.CONNECTING)
        self._thread: threading.Thread | None = None
        self._sampler = PtsSampler(cfg.sample_fps)
        self._seq = 0
        self._out_size: tuple[int, int] | None = None
        self._packets = None  # PacketBuffer of the current connection, when clips are on
        self._clock: tuple[int, float] | None = None  # (epoch, media_time - pts) of the newest frame
        self._pass_end: float | None = None  # source time just past the last frame decoded on this connection
        self._last_step: float | None = None  # duration of that frame
        self._packet_end: float | None = None  # source time where the last demuxed packet ends (skipping decoder)
        # Counted once per decoded frame: plain fields under `_lock`, merged into `stats()` (a dataclass
        # `replace` per frame cost more than the sampling itself).
        self._frames_decoded = 0
        self._media_end: float | None = None

    # -- public -----------------------------------------------------------------
    @property
    def state(self) -> StreamState:
        """The current state."""
        return self._machine.state

    def start(self) -> None:
        """Start the reader thread (a daemon: a read blocked in FFmpeg never holds the process)."""
        self._thread = threading.Thread(target=self._run, name=f"ingest-{self.cfg.stream_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the reader to finish; it closes its container and ends the stream as `ended`."""
        self._stop.set()
        self.queue.close()

    def fail(self, reason: str) -> None:
        """End the stream as `failed` from outside: what consumes its frames broke and cannot take more.

        The reader stops as by `stop()`, and `reason` (already redacted, one line)
        becomes the stream's last error and the reason of its state change.
        """
        self._update(last_error=reason)
        self._move(StreamState.FAILED, reason)
        self.stop()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the reader thread; True when it has finished."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stats(self) -> StreamStats:
        """A snapshot of the counters, with the live queue figures."""
        with self._lock:
            stats, decoded, media_end = self._stats, self._frames_decoded, self._media_end
        return replace(
            stats,
            state=self.state,
            frames_decoded=decoded,
            media_end=media_end,
            frames_dropped=self.queue.dropped,
            queue_lag_s=self.queue.oldest_age(),
        )

    def write_clip(self, start: float, end: float, epoch: int, folder: str) -> str | None:
        """Remux the packets of media times [start, end) of `epoch` into an MP4 in `folder`; its path, or None.

        None when clips are off, the span left the buffer, or a reconnect since then
        replaced the buffer (the clock of another epoch cannot place it).
        """
        from vgsum.stream.clips import clip_filename, write_clip

        buffer, clock = self._packets, self._clock
        if buffer is None or clock is None or clock[0] != epoch:
            return None
        offset = clock[1]
        span = buffer.span(start - offset, end - offset)
        if span is None:
            return None
        path = Path(folder).expanduser() / clip_filename(self.cfg.stream_id, start)
        try:
            write_clip(span, path)
        except OSError as err:
            log.warning("stream %s: clip %s not written: %s", self.cfg.stream_id, path, err.strerror)
            return None
        return str(path)

    # -- internals --------------------------------------------------------------
    def _update(self, **changes: object) -> None:
        with self._lock:
            self._stats = replace(self._stats, **changes)

    def _bump(self, name: str, by: int = 1) -> None:
        with self._lock:
            self._stats = replace(self._stats, **{name: getattr(self._stats, name) + by})

    def _decoded(self, media_end: float) -> None:
        """Count one decoded frame and move the end of what was seen (one lock, once per frame)."""
        with self._lock:
            self._frames_decoded += 1
            self._media_end = media_end

    def _state_changed(self, old: StreamState, new: StreamState, reason: str | None) -> None:
        level = logging.WARNING if new in (StreamState.RECONNECTING, StreamState.FAILED) else logging.INFO
        if new == StreamState.FAILED:
            level = logging.ERROR
        tail = f": {reason}" if reason else ""
        log.log(
            level,
            "stream %s (%s): %s -> %s%s",
            self.cfg.stream_id,
            self.cfg.safe_url,
            old.value,
            new.value,
            tail,
            extra={STATE_LOG_FIELD: new.value},  # lets a command that reports failures itself filter this line
        )
        if self._on_state is not None:
            try:
                self._on_state(self, new, reason)
            except Exception:
                log.exception("state callback failed for stream %s", self.cfg.stream_id)

    def _move(self, new: StreamState, reason: str | None = None) -> None:
        """Change state unless the stream already ended or failed (`fail()` may come from another thread)."""
        with self._state_lock:
            if not self._machine.state.final:
                self._machine.move(new, reason)

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as err:  # a bug: keep the other streams alive, report it, end this one as failed
            log.exception("stream %s: reader crashed", self.cfg.stream_id)
            self._update(last_error=f"internal error: {type(err).__name__}")
            self._move(StreamState.FAILED, f"internal error: {type(err).__name__}")
        finally:
            self.queue.close()

    def _loop(self) -> None:
        cfg = self.cfg
        backoff = Backoff(cfg.backoff_initial_s, cfg.backoff_max_s, cfg.backoff_jitter)
        failed_opens = 0
        retrying = False  # the next attempt follows a failure: it counts as a reconnect
        media_base: float | None = None  # media time at which the current epoch starts
        last_wall: float | None = None
        while not self._stop.is_set():
            if retrying:
                self._bump("reconnects")
            source = VideoSource(cfg)
            decoders = DecoderThreads()  # before the codec opens: its threads are the ones that appear after
            try:
                source.open()
            except SourceError as err:
                failed_opens += 1
                self._update(last_error=str(err))
                give_up = not cfg.is_live or (
                    err.permanent and cfg.max_retries is not None and failed_opens > cfg.max_retries
                )
                if give_up:
                    self._move(StreamState.FAILED, str(err))
                    return
                retrying = True
                self._move(StreamState.RECONNECTING, str(err))
                delay = backoff.next_delay()
                log.warning(
                    "stream %s (%s): %s; retry %d in %.1f s", cfg.stream_id, cfg.safe_url, err, failed_opens, delay
                )
                self._stop.wait(delay)
                continue
            declared_end = source.declared_end
            epoch_before = self._stats.epoch
            self._pass_end = None
            try:
                if cfg.clips_dir is not None:
                    from vgsum.stream.packet_buffer import PacketBuffer

                    self._packets = PacketBuffer(source.stream, max_seconds=cfg.clip_buffer_s)
                outcome = self._read_epoch(source, media_base, last_wall, decoders)
            finally:
                STAGE_CPU.add("decode", decoders.release())  # before the container closes and ends them
                source.close()
            media_base, last_wall, ended_by = outcome
            got_frames = self._stats.epoch != epoch_before
            if self._stop.is_set():
                break
            if not cfg.is_live:
                early = self._ended_early(declared_end, ended_by) if got_frames else None
                if early is not None:  # everything there was has been read: the file's end, not a failure
                    self._update(last_error=early)
                    ended_by = None
                if ended_by is not None:
                    self._move(StreamState.FAILED, ended_by)
                    return
                if cfg.loop:
                    continue  # a new epoch from the start of the file
                self._move(StreamState.ENDED, early or "end of file")
                return
            # A live source that ended (TCP drop ends the loop cleanly) or broke: reconnect.
            reason = ended_by or "source closed the stream (disconnect)"
            self._update(last_error=reason)
            if reason.startswith("stalled"):
                self._bump("stalls")
            retrying = True
            self._move(StreamState.RECONNECTING, reason)
            if got_frames:
                backoff.reset()  # the last connection worked: start the delays afresh
                failed_opens = 0
            self._stop.wait(backoff.next_delay())
        self._move(StreamState.ENDED, "stopped")

    def _ended_early(self, declared_end: float | None, ended_by: str | None) -> str | None:
        """Why a file pass stopped short of the end its header declares (truncated, damaged), or None.

        Up to two frames (at least 0.5 s) of difference is rounding between the header
        and the frames' own durations, not a missing part. The reason is the stream's
        last error and the reason of its move to `ended` (logged there, once); `vgsum run`
        turns it into its warning line.
        """
        end = self._pass_end
        if declared_end is None or end is None:
            return None
        step = self._last_step or 0.0
        if declared_end - end <= max(0.5, 2 * step):
            return None
        reason = f"file ended early at {end:.1f} s of {declared_end:.1f} s (truncated or damaged"
        return reason + (f": {ended_by})" if ended_by else ")")

    def _read_epoch(
        self, source: VideoSource, media_base: float | None, last_wall: float | None,
        decoders: DecoderThreads | None = None,
    ) -> tuple[float | None, float | None, str | None]:
        """Read one connection (or one pass over a file). Returns (media base, last wall, error or None).

        Most decoded frames are not sampled, so the per-frame work before the sampler's
        verdict is kept to a few attribute reads (the `vgsum bench ingest` ratio). This
        thread's CPU in the decoder and in the conversion is charged to the `decode` and
        `convert` stages (stream/stage_cpu.py); `decoders` claims FFmpeg's decoder threads
        once the codec has opened (at the first frame).
        """
        from av.video.reformatter import VideoReformatter

        cfg = self.cfg
        # One scaler per connection: `frame.to_ndarray(width=, height=)` builds a new swscale
        # context (and, with threads left to FFmpeg, a thread pool) for every frame, about half
        # of the conversion's CPU. Reused, it gives the same pixels; one thread, because the
        # decoder's threads and the other streams already fill the cores.
        scaler = VideoReformatter()
        time_base: tuple[int, int] | None = None  # the frames' time base, read once (a Fraction per read)
        self._sampler.reset()
        watchdog = Watchdog(cfg.stall_after_s)
        t0: float | None = None
        wall0 = time.monotonic()
        pace_anchor: tuple[float, float] | None = None  # (monotonic, pts) for realtime pacing
        last_media: float | None = media_base
        prev_t: float | None = None
        epoch = self._stats.epoch
        try:
            on_packet = self._packets.add if self._packets is not None else None
            if source.skips_unreferenced:
                on_packet = self._packet_end_tracker(on_packet)
            for frame in STAGE_CPU.timed("decode", source.frames(watchdog, on_packet=on_packet)):
                if self._stop.is_set():
                    break
                watchdog.feed()
                now_wall = time.time()
                t = float(frame.time) if frame.time is not None else time.monotonic() - wall0
                if t0 is None:
                    if decoders is not None:
                        decoders.claim()
                    t0 = t
                    epoch += 1
                    if last_media is None:
                        start = t
                    elif cfg.is_live and last_wall is not None:
                        start = last_media + max(0.0, now_wall - last_wall)
                    else:
                        start = last_media + 1.0 / cfg.sample_fps
                    media_base = start
                    self._update(epoch=epoch)
                    self._move(StreamState.STREAMING)
                if cfg.realtime:
                    pace_anchor = self._pace(pace_anchor, t)
                    if self._stop.is_set():
                        break
                    watchdog.feed()
                if time_base is None:
                    tb = frame.time_base
                    time_base = (tb.numerator, tb.denominator) if tb else (0, 1)
                self._last_step = _frame_duration(frame, t - prev_t if prev_t is not None else None, time_base)
                prev_t = t
                self._pass_end = t + self._last_step
                assert media_base is not None
                self._decoded(media_base + (self._pass_end - t0))
                if not self._sampler.accept(t):
                    continue
                media_time = media_base + (t - t0)
                self._clock = (epoch, media_time - t)
                last_media, last_wall = media_time, now_wall
                if self._out_size is None:
                    self._out_size = cfg.output_size(frame.width, frame.height)
                w, h = self._out_size
                with STAGE_CPU.timer("convert"):
                    rgb = scaler.reformat(frame, format="rgb24", width=w, height=h, threads=1).to_ndarray()
                item = SampledFrame(cfg.stream_id, self._seq, epoch, t, media_time, now_wall, rgb)
                self._seq += 1
                self._update(frames_sampled=self._seq, last_media_time=media_time)
                if not self._put(item):
                    break
                # The watchdog measures the source's silence: time spent waiting for our own
                # consumer (a full queue of a file) or for pacing is not the source's.
                watchdog.feed()
            if self._packet_end is not None and t0 is not None and media_base is not None:
                self._end_pass_at(self._packet_end, media_base - t0)
        except SourceError as err:
            return last_media, last_wall, str(err)
        except Exception as err:  # noqa: BLE001 - a decoder error on one connection is a fault, not a crash
            return last_media, last_wall, f"decode failed: {describe_error(err, cfg.url)}"
        return last_media, last_wall, None

    def _packet_end_tracker(self, then: Callable[[Any], object] | None) -> Callable[[Any], object]:
        """An `on_packet` that notes where the last packet ends, then calls `then`.

        When the decoder skips unreferenced frames, the last frames of a file may never be
        decoded; its packets still say where the file ends (see `_end_pass_at`).
        """
        self._packet_end = None

        def track(packet: Any) -> object:
            if packet.pts is not None and packet.time_base is not None:
                end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                self._packet_end = end if self._packet_end is None else max(self._packet_end, end)
            return then(packet) if then is not None else None

        return track

    def _end_pass_at(self, packet_end: float, offset: float) -> None:
        """A pass read to its end ends where its last packet does, decoded or skipped (`offset`: media - source)."""
        if self._pass_end is not None and packet_end > self._pass_end and not self._stop.is_set():
            self._pass_end = packet_end
            with self._lock:
                self._media_end = offset + packet_end

    def _pace(self, anchor: tuple[float, float] | None, t: float) -> tuple[float, float]:
        """Sleep until frame time `t` is due at native speed; re-anchor after a jump or when far behind."""
        now = time.monotonic()
        if anchor is None:
            return now, t
        due = anchor[0] + (t - anchor[1])
        if due - now > 2.0 or now - due > 1.0:  # pts jump or hopelessly behind: restart the clock here
            return now, t
        if due > now:
            self._stop.wait(due - now)
        return anchor

    def _put(self, item: SampledFrame) -> bool:
        """Queue a frame by the policy; False when stopping."""
        while not self._stop.is_set():
            try:
                if self.queue.put(item, timeout=0.2):
                    return True
            except QueueClosed:
                return False
        return False


def _frame_duration(frame: object, gap: float | None, time_base: tuple[int, int] | None = None) -> float:
    """How long a frame shows: its own duration when the container gives one, else the gap since the previous.

    The last frame of a variable-rate file can last much longer than the nominal
    1/fps, so a frame count times the rate is no measure of where a video ends.
    `time_base` (numerator, denominator) spares reading the frame's own, which PyAV
    builds as a new Fraction on every read; the integer quotient is rounded once, like
    the Fraction's float, so the result is the same.
    """
    duration = getattr(frame, "duration", None)
    if time_base is None:
        tb = getattr(frame, "time_base", None)
        time_base = (tb.numerator, tb.denominator) if tb else None
    if duration and time_base and time_base[0]:
        return duration * time_base[0] / time_base[1]
    return max(0.0, gap) if gap is not None else 0.0
