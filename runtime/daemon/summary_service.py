"""The whole product in one process: ingest -> engines -> summaries -> ZeroMQ, plus control and metrics.

`vgsum serve` runs it on a config's streams until a signal; `vgsum run` runs it on one
source until the source ends. Streams are isolated: a stream that fails only changes
its own status, and the pipeline keeps serving the others. The pipeline itself is
shared, so when it fails (a bug) every stream is marked failed at once (status,
metrics, /healthz) and the service is done, with the reason in `failure`.

It is also the control socket's handler: queries live in the pipeline's
`StreamQueries`, status comes from the ingest workers and the pipeline counters,
and history (highlights, replay by seq) from the store.

With `store.enabled` every published message also goes to the `StoreWriter`
(`Publisher.observers`: a put into a bounded queue, never a wait on SQLite), and
the publisher's seq of `highlight` and `event` continues after the store's last
one, so a seq names one message across restarts and catch-up by seq range is
well defined.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.runtime.daemon.ingest_service import IngestService
from vgsum.runtime.daemon.pipeline import Pipeline, StreamSinks
from vgsum.runtime.daemon.publisher import build_publisher
from vgsum.runtime.engines.loader import Engines
from vgsum.runtime.summary.summarizer import HighlightEvent, ScoreEvent
from vgsum.stream.ingest import SampledFrame, StreamStats
from vgsum.stream.messages import EventMessage, HighlightMessage, ScoreMessage
from vgsum.stream.state import StreamState

log = logging.getLogger(__name__)


@dataclass
class Collected:
    """Everything one stream produced, for reports and tests (scores as (t, score, final))."""

    scores: list[tuple[float, float, bool]] = field(default_factory=list)
    frames: list[tuple[float, list[str]]] = field(default_factory=list)  # (t, labels the detector saw)
    highlights: list[dict[str, Any]] = field(default_factory=list)  # finished ones, with id and alert time
    alerts: dict[str, float] = field(default_factory=dict)  # highlight id -> stream time of its first message


PIPELINE_STOP_S = 1.0  # the engine call in progress is interrupted: the thread returns within milliseconds
ENGINE_CALL_MAX_S = 30.0
INGEST_STOP_S = 0.5  # readers and consumers only check flags by now
STOP_STEPS = ("pipeline", "flush", "ingest", "publisher", "store")
STORE_STOP_S = 0.5  # the writer commits what is queued; what does not fit is counted as dropped
PUBLISH_LINGER_S = 0.3  # the flushed final scores and highlight ends still have to leave the socket

HighlightPrinter = Callable[[str, HighlightEvent], None]


def _pipeline_failed(reason: str) -> str:
    """The one line that names a pipeline failure in status messages, the API and the exit message."""
    return f"pipeline failed: {reason}"


class SummaryService:
    """Ingest, pipeline, publisher, control socket and metrics of one daemon."""

    def __init__(
        self,
        cfg: EdgeConfig,
        engines: Engines,
        *,
        collect: bool = False,
        on_highlight: HighlightPrinter | None = None,
    ) -> None:
        self.cfg = cfg
        self.collect = collect
        self.collected: dict[str, Collected] = {s.stream_id: Collected() for s in cfg.streams}
        self._clips_dirs = {
            s.stream_id: str(Path(s.clips_dir).expanduser().resolve()) for s in cfg.streams if s.clips_dir is not None
        }
        self.store = None
        if cfg.store.enabled:  # before any socket: a file that is not a usable store refuses the start
            from vgsum.runtime.store.writer import StoreWriter

            self.store = StoreWriter(
                cfg.store.db_path,
                thumbnails_dir=cfg.store.thumbnails_dir,
                queue_size=cfg.store.queue_size,
                batch=cfg.store.batch,
                flush_s=cfg.store.flush_s,
            ).open()
            for stream in cfg.streams:
                if not (stream.is_live or stream.realtime):
                    self.store.anchor(stream.stream_id)
        self._print_highlight = on_highlight
        self.control = None
        if cfg.control.enabled:  # before any socket exists: its binding policy may refuse the config
            from vgsum.runtime.daemon.control import ControlServer

            self.control = ControlServer(self, cfg.control.endpoint, curve=cfg.control.curve_keys())
        self.metrics = None
        self.metrics_server = None
        if cfg.metrics.enabled:
            from vgsum.runtime.daemon.metrics import MetricsServer, PipelineMetrics

            self.metrics = PipelineMetrics([s.stream_id for s in cfg.streams])
            self.metrics_server = MetricsServer(self.metrics, host=cfg.metrics.host, port=cfg.metrics.port)
        self.web = None
        if cfg.web.enabled and cfg.store.enabled:  # before any socket exists: off loopback it needs a token
            from vgsum.runtime.web.server import WebServer

            self.web = WebServer(cfg.web, cfg.store.db_path, live_states=self.stream_states)
        self.pipeline = Pipeline(
            engines,
            cfg.summary,
            StreamSinks(
                on_score=self._on_score,
                on_highlight=self._on_highlight,
                on_latency=self._on_latency,
                on_frame=self._on_frame,
                on_failure=self._on_pipeline_failure,
            ),
            max_batch=cfg.engines.max_batch,
            thumbnails=collect or self.store is not None,
        )
        for stream in cfg.streams:
            self.pipeline.add_stream(stream.stream_id, stream.sample_fps, stream.queries)
        self._latency_sums: dict[tuple[str, str], list[float]] = {}  # (stream, stage) -> [seconds, count]
        self._latency_lock = threading.Lock()
        self.publisher = build_publisher(cfg.publish)
        if self.store is not None:
            self.publisher.resume(self.store.max_seqs())
            self.publisher.observers.append(self.store.record)
        self.ingest = IngestService(
            cfg,
            self.publisher,
            frame_sink=self._submit,
            on_drained=self.pipeline.end_stream,
            status_extra=self._status_latency,
        )
        self._thread = threading.Thread(target=self.pipeline.run, name="pipeline", daemon=True)
        self._watch = threading.Thread(target=self._watch_streams, name="metrics-watch", daemon=True)
        self._retention = threading.Thread(target=self._retain, name="store-retention", daemon=True)
        self._stop = threading.Event()
        self._failed_streams_marked = threading.Event()

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Bind everything (errors are UserErrors), then start the threads."""
        if self.metrics_server is not None:
            self.metrics_server.start()
        if self.web is not None:
            self.web.start()
        if self.control is not None:
            self.control.start()
        if self.store is not None:
            self._apply_retention(orphans=True)  # before any clip is cut: a file with no row yet is not an orphan
            self.store.start()
            self._retention.start()
        self._thread.start()
        self._watch.start()
        self.ingest.start()

    def wait(self, timeout_s: float | None = None) -> bool:
        """True once every stream is final and its summary flushed, or the pipeline failed (see `failure`).

        False on timeout or after `request_stop`.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self._stop.is_set():
            if self._done():
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            self._stop.wait(0.05)
        return False

    def _done(self) -> bool:
        if self.pipeline.failure is not None:
            return self._failed_streams_marked.is_set()
        return self.ingest.drained() and all(self.pipeline.finished(sid) for sid in self.collected)

    @property
    def failure(self) -> str | None:
        """Why nothing is scored any more (the pipeline failed; one line), or None."""
        reason = self.pipeline.failure
        return None if reason is None else _pipeline_failed(reason)

    def stream_states(self) -> dict[str, StreamState]:
        """Each stream's ingest state, in config order."""
        return self.ingest.stream_states()

    def request_stop(self) -> None:
        """Signal-safe."""
        self._stop.set()
        self.ingest.request_stop()

    def stop(self) -> None:
        """Stop everything within about 2 s (also after a `start` that failed half way), flushing every summary.

        Order matters. The readers stop first and the pipeline right after (its engine
        call interrupted), so no consumer waits on a full pipeline queue. The pipeline
        thread is joined before anything else: it is the only thread inside the
        engines, and one still there when the interpreter exits aborts the process.
        Then every stream is flushed (its last scores final, its open highlight ended)
        while the publisher is still open, and the publisher lingers on close so those
        last messages leave the process.
        """
        marks = [time.monotonic()]
        self._stop.set()
        self.ingest.stop_reading()
        self.pipeline.stop()
        if self._thread.ident is not None:  # started
            self._thread.join(PIPELINE_STOP_S)
            if self._thread.is_alive():  # a backend that cannot interrupt: late beats an abort at exit
                log.warning("pipeline thread still inside an engine after %.1f s; waiting for it", PIPELINE_STOP_S)
                self._thread.join(ENGINE_CALL_MAX_S)
        marks.append(time.monotonic())
        if not self._thread.is_alive():
            self.pipeline.flush()  # nothing else touches the summaries now
        marks.append(time.monotonic())
        self.ingest.stop(timeout_s=INGEST_STOP_S, close_publisher=False)
        if self._watch.ident is not None:
            self._watch.join(0.5)
        marks.append(time.monotonic())
        self.publisher.close(linger_s=PUBLISH_LINGER_S)
        marks.append(time.monotonic())
        if self.store is not None:  # after the publisher: the flushed messages reach the writer through it
            self.store.stop(timeout_s=STORE_STOP_S)
        marks.append(time.monotonic())
        steps = (f"{name} {b - a:.2f} s" for name, a, b in zip(STOP_STEPS, marks[:-1], marks[1:], strict=True))
        log.info("stop: %s", ", ".join(steps))
        if self.control is not None:
            self.control.stop(timeout=0.5)
        if self.metrics_server is not None:
            self.metrics_server.stop(timeout=0.5)
        if self.web is not None:
            self.web.stop(timeout=0.5)

    # -- ControlHandler (called from the control thread) ----------------------------
    def stream_ids(self) -> list[str]:
        """Configured stream ids."""
        return self.pipeline.queries.stream_ids()

    def get_queries(self, stream_id: str) -> list[str]:
        """The stream's queries."""
        return self.pipeline.queries.get(stream_id)

    def set_queries(self, stream_id: str, queries: list[str]) -> None:
        """Replace the stream's queries; they apply from the next frame the pipeline takes."""
        self.pipeline.queries.set(stream_id, queries)

    def stream_status(self, stream_id: str) -> Mapping[str, Any]:
        """State and counters of one stream."""
        stats = self.ingest.workers[stream_id].stats()
        return {
            "state": stats.state.value,
            "frames_sampled": stats.frames_sampled,
            "frames_dropped": stats.frames_dropped,
            "reconnects": stats.reconnects,
            "stalls": stats.stalls,
            "epoch": stats.epoch,
            "frames_scored": self.pipeline.frames_done(stream_id),
            "gaps": self.pipeline.gaps(stream_id),
            "queries": self.pipeline.queries.get(stream_id),
            "last_error": stats.last_error,
            "store_dropped": None if self.store is None else self.store.dropped[stream_id],
            "store_error": None if self.store is None else self.store.failure,
        }

    def store_path(self) -> Path | None:
        """The history database, or None when the store is off (control ops that read history say so)."""
        return None if self.store is None else self.store.path

    # -- sinks -----------------------------------------------------------------------
    def _on_pipeline_failure(self, reason: str) -> None:
        """Every stream depends on the pipeline: mark them all failed (status messages, metrics, /healthz)."""
        self.ingest.fail(_pipeline_failed(reason))
        if self.metrics is not None:
            for stream_id in self.collected:
                self.metrics.set_state(stream_id, StreamState.FAILED)
        self._failed_streams_marked.set()

    def _submit(self, frame: SampledFrame) -> None:
        self.pipeline.submit(frame)

    def _on_latency(self, stream_id: str, stage: str, seconds: float) -> None:
        if self.metrics is not None:
            self.metrics.observe(stream_id, stage, seconds)
        with self._latency_lock:
            total = self._latency_sums.setdefault((stream_id, stage), [0.0, 0])
            total[0] += seconds
            total[1] += 1

    def _status_latency(self, stream_id: str) -> dict:
        """Mean latency per stage since the stream's last status message, in ms (for `status`)."""
        with self._latency_lock:
            means = {
                stage: round(1000.0 * total / count, 2)
                for (sid, stage), (total, count) in self._latency_sums.items()
                if sid == stream_id and count
            }
            for key in [k for k in self._latency_sums if k[0] == stream_id]:
                del self._latency_sums[key]
        return {"latency_ms": means}

    def _on_frame(self, stream_id: str, t: float, labels: list[str]) -> None:
        if self.collect:
            self.collected[stream_id].frames.append((t, list(labels)))

    def _on_score(self, stream_id: str, event: ScoreEvent) -> None:
        started = time.perf_counter()
        try:
            self.publisher.publish(
                ScoreMessage, stream_id, media_time=event.t, t=event.t, score=event.score, final=event.final
            )
        except RuntimeError:  # publisher closed during shutdown
            return
        if self.collect:
            self.collected[stream_id].scores.append((event.t, event.score, event.final))
        self._on_latency(stream_id, "publish", time.perf_counter() - started)

    def _on_highlight(self, stream_id: str, event: HighlightEvent) -> None:
        """Every phase goes out as an `event`; the end also as a `highlight` (with its clip) for older subscribers."""
        clip = None
        if event.phase == "end":
            clips_dir = self._clips_dirs.get(stream_id)
            if clips_dir is not None:
                clip = self.ingest.workers[stream_id].write_clip(event.start, event.end, event.epoch, clips_dir)
        fields = dict(start=event.start, end=event.end, score=event.score, objects=event.objects, query=event.query)
        try:
            self.publisher.publish(
                EventMessage, stream_id, media_time=event.emitted_at, id=event.id, phase=event.phase, clip=clip,
                **fields,
            )
            if event.phase == "end":
                self.publisher.publish(HighlightMessage, stream_id, media_time=event.end, clip=clip, **fields)
        except RuntimeError:  # publisher closed during shutdown
            return
        if self.store is not None and event.thumbnail is not None and event.phase != "update":
            self.store.thumbnail(stream_id, event.id, event.thumbnail)  # after the event: its row exists
        if self.collect:
            collected = self.collected[stream_id]
            collected.alerts.setdefault(event.id, event.emitted_at)
            if event.phase == "end":
                collected.highlights.append(
                    {"id": event.id, **fields, "clip": clip, "thumbnail": event.thumbnail,
                     "alerted_at": collected.alerts[event.id], "ended_at": event.emitted_at}
                )
        if self._print_highlight is not None:
            self._print_highlight(stream_id, event)

    def _apply_retention(self, orphans: bool = False) -> None:
        """One retention pass; a failure is logged, and scoring goes on."""
        from vgsum.runtime.common.errors import UserError
        from vgsum.runtime.store.retention import apply_retention

        clips = {sid: Path(folder) for sid, folder in self._clips_dirs.items()}
        try:
            apply_retention(self.cfg.store, clips, orphans=orphans)
        except (UserError, OSError, sqlite3.Error) as err:
            log.warning("store: retention failed: %s", err)

    def _retain(self) -> None:
        """Retention every `retention_interval_s` while the daemon runs."""
        while not self._stop.wait(self.cfg.store.retention_interval_s):
            self._apply_retention()

    def _watch_streams(self) -> None:
        """Keep the per-stream series (state, fps in and out, drops, reconnects, stalls, queue depth) current.

        Once a second: counters move by what the worker counted since the last look.
        """
        if self.metrics is None:
            return
        seen: dict[str, StreamStats] = {}
        last: dict[str, tuple[float, int]] = {}  # stream -> (when, scored)
        store_dropped: dict[str, int] = {}
        while not self._stop.wait(1.0):
            now = time.monotonic()
            if self.store is not None:
                for stream_id in self.collected:
                    count = self.store.dropped[stream_id]
                    self.metrics.add_store_drops(stream_id, count - store_dropped.get(stream_id, 0))
                    store_dropped[stream_id] = count
            for stream_id, worker in self.ingest.workers.items():
                stats = worker.stats()
                scored = self.pipeline.frames_done(stream_id)
                before = seen.get(stream_id, StreamStats(state=stats.state, frames_decoded=stats.frames_decoded))
                then, done = last.get(stream_id, (now, scored))
                self.metrics.set_state(stream_id, stats.state.value)
                self.metrics.set_queue_depth(stream_id, len(worker.queue))
                self.metrics.add_drops(stream_id, stats.frames_dropped - before.frames_dropped)
                self.metrics.add_reconnects(stream_id, stats.reconnects - before.reconnects)
                self.metrics.add_stalls(stream_id, stats.stalls - before.stalls)
                if now > then:
                    self.metrics.set_fps(
                        stream_id,
                        (stats.frames_decoded - before.frames_decoded) / (now - then),
                        (scored - done) / (now - then),
                    )
                seen[stream_id] = stats
                last[stream_id] = (now, scored)
