"""Run every configured stream in one process and publish what happens on ZeroMQ.

Per stream: a reader thread (StreamWorker) and a consumer thread that drains its
queue; one service thread sends periodic status and the heartbeat. A stream that
fails changes nothing for the others. `stop()` ends everything within about 2 s:
readers blocked inside FFmpeg are daemon threads and are left behind at exit.

On its own (`mode: ingest`) it is a whole daemon; `SummaryApp` runs one inside
and hands its frames to the pipeline. Both have the life cycle of `Service`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.stream.frame_queue import QueueClosed
from vgsum.stream.ingest import SampledFrame, StreamStats, StreamWorker
from vgsum.stream.messages import DAEMON_STREAM_ID, FrameMessage, HeartbeatMessage, StatusMessage
from vgsum.stream.publish import Publisher
from vgsum.stream.stage_cpu import STAGE_CPU
from vgsum.stream.state import StreamState

log = logging.getLogger(__name__)

FrameSink = Callable[[SampledFrame], None]
DrainedCallback = Callable[[str], None]  # stream id: its last frame went to the sink
StatusExtra = Callable[[str], dict]  # stream id -> more `status` fields (latencies of later stages)


class _Rates:
    """fps in/out over the interval since the last status of one stream."""

    def __init__(self) -> None:
        self.at = time.monotonic()
        self.decoded = 0
        self.sampled = 0

    def update(self, stats: StreamStats) -> tuple[float, float]:
        now = time.monotonic()
        dt = now - self.at
        if dt < 0.2:  # on-change statuses come in bursts: keep the previous window
            return 0.0, 0.0
        fps_in = (stats.frames_decoded - self.decoded) / dt
        fps_out = (stats.frames_sampled - self.sampled) / dt
        self.at, self.decoded, self.sampled = now, stats.frames_decoded, stats.frames_sampled
        return max(0.0, fps_in), max(0.0, fps_out)


class IngestService:
    """All streams of an EdgeConfig, published through one Publisher."""

    def __init__(
        self,
        cfg: EdgeConfig,
        publisher: Publisher,
        frame_sink: FrameSink | None = None,
        on_drained: DrainedCallback | None = None,
        status_extra: StatusExtra | None = None,
    ) -> None:
        self.cfg = cfg
        self.publisher = publisher
        self.frame_sink = frame_sink
        self.on_drained = on_drained
        self.status_extra = status_extra
        self.started_at = time.monotonic()
        self._stop = threading.Event()
        self._rates: dict[str, _Rates] = {}
        self._last_fps: dict[str, tuple[float, float]] = {}
        self._status_lock = threading.Lock()
        self.workers = {s.stream_id: StreamWorker(s, on_state=self._on_state) for s in cfg.streams}
        self._threads: list[threading.Thread] = []

    # -- lifecycle --------------------------------------------------------------
    def start(self) -> None:
        """Start every stream and the status/heartbeat thread."""
        for stream_id, worker in self.workers.items():
            self._rates[stream_id] = _Rates()
            self.publish_status(worker)
            worker.start()
            consumer = threading.Thread(target=self._consume, args=(worker,), name=f"publish-{stream_id}", daemon=True)
            consumer.start()
            self._threads.append(consumer)
        ticker = threading.Thread(target=self._tick, name="status", daemon=True)
        ticker.start()
        self._threads.append(ticker)

    def stop(self, timeout_s: float = 1.0, close_publisher: bool = True) -> None:
        """Stop all streams, wait up to `timeout_s` in all, send a last status each, close the publisher.

        `close_publisher=False` leaves it open for an owner that still has messages to flush.
        """
        self.stop_reading()
        deadline = time.monotonic() + timeout_s
        for worker in self.workers.values():
            if not worker.join(max(0.0, deadline - time.monotonic())):
                log.warning("stream %s: reader still blocked in its source; leaving it to exit", worker.cfg.stream_id)
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        for worker in self.workers.values():
            self._safe_status(worker)
        if close_publisher:
            self.publisher.close()

    def stop_reading(self) -> None:
        """Tell every reader and consumer to finish, without waiting (`stop()` waits for them)."""
        self._stop.set()
        for worker in self.workers.values():
            worker.stop()

    def wait(self, timeout_s: float | None = None) -> bool:
        """True once every stream is final (ended/failed) and its queue drained; False on timeout or stop."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self._stop.is_set():
            if self.drained():
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            self._stop.wait(0.1)
        return False

    def drained(self) -> bool:
        """Every stream is final and its queue empty: no frame will come any more."""
        workers = self.workers.values()
        return all(w.state.final for w in workers) and all(len(w.queue) == 0 for w in workers)

    @property
    def failure(self) -> str | None:
        """Always None: a broken source fails only its own stream (see `stream_states`), never the service."""
        return None

    def stream_states(self) -> dict[str, StreamState]:
        """Each stream's state, in config order."""
        return {sid: worker.state for sid, worker in self.workers.items()}

    def fail(self, reason: str) -> None:
        """Mark every stream failed with `reason` and stop reading: what consumed the frames is gone."""
        for worker in self.workers.values():
            worker.fail(reason)

    # -- publishing -------------------------------------------------------------
    def publish_status(self, worker: StreamWorker) -> None:
        """Send one status message for `worker` now."""
        stats = worker.stats()
        with self._status_lock:
            fps_in, fps_out = self._rates.setdefault(worker.cfg.stream_id, _Rates()).update(stats)
            if fps_in == fps_out == 0.0 and stats.state == StreamState.STREAMING:
                fps_in, fps_out = self._last_fps.get(worker.cfg.stream_id, (0.0, 0.0))
            else:
                self._last_fps[worker.cfg.stream_id] = (fps_in, fps_out)
            self.publisher.publish(
                StatusMessage,
                worker.cfg.stream_id,
                media_time=stats.last_media_time,
                state=stats.state,
                url=worker.cfg.safe_url,
                fps_in=round(fps_in, 3),
                fps_out=round(fps_out, 3),
                frames_decoded=stats.frames_decoded,
                frames_sampled=stats.frames_sampled,
                frames_dropped=stats.frames_dropped,
                lag_s=round(stats.queue_lag_s, 4),
                reconnects=stats.reconnects,
                stalls=stats.stalls,
                epoch=stats.epoch,
                last_error=stats.last_error,
                queue_depth=len(worker.queue),
                **(self.status_extra(worker.cfg.stream_id) if self.status_extra is not None else {}),
            )

    def _safe_status(self, worker: StreamWorker) -> None:
        try:
            self.publish_status(worker)
        except Exception as err:  # a closed socket at shutdown must not hide other streams' status
            log.debug("status for %s not sent: %s", worker.cfg.stream_id, err)

    def _on_state(self, worker: StreamWorker, state: StreamState, reason: str | None) -> None:
        self._safe_status(worker)

    def _consume(self, worker: StreamWorker) -> None:
        """Drain one stream's queue: hand frames to the sink and announce them."""
        send_frames = self.cfg.publish.frame_messages
        while True:
            try:
                frame = worker.queue.get(timeout=0.25)
            except QueueClosed:
                if self.on_drained is not None and not self._stop.is_set():
                    self.on_drained(worker.cfg.stream_id)
                return
            if frame is None:
                continue
            try:
                if self.frame_sink is not None:
                    self.frame_sink(frame)
                if send_frames:
                    with STAGE_CPU.timer("publish"):  # the per-frame message's thread CPU (stream/stage_cpu.py)
                        self.publisher.publish(
                            FrameMessage,
                            frame.stream_id,
                            media_time=frame.media_time,
                            pts=frame.pts,
                            width=frame.width,
                            height=frame.height,
                            epoch=frame.epoch,
                            frame_seq=frame.seq,
                        )
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("stream %s: handling a frame failed", worker.cfg.stream_id)

    def heartbeat(self) -> None:
        """Send one heartbeat now."""
        states = {sid: w.state for sid, w in self.workers.items()}
        self.publisher.publish(
            HeartbeatMessage,
            DAEMON_STREAM_ID,
            uptime_s=round(time.monotonic() - self.started_at, 3),
            streams_live=sum(1 for s in states.values() if s == StreamState.STREAMING),
            streams=states,
        )

    def _tick(self) -> None:
        pub = self.cfg.publish
        next_status = time.monotonic() + pub.status_interval_s
        next_beat = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            try:
                if now >= next_beat:
                    self.heartbeat()
                    next_beat = now + pub.heartbeat_interval_s
                if now >= next_status:
                    for worker in self.workers.values():
                        if not worker.state.final:
                            self.publish_status(worker)
                    next_status = now + pub.status_interval_s
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("periodic status failed")
            self._stop.wait(max(0.01, min(next_beat, next_status) - time.monotonic()))
