"""The summarizing daemon, assembled: ingest -> engines -> live streams -> outputs, plus control, metrics and the page.

This is the one place that builds a summarizing daemon from its config (`vgsum serve`
and `vgsum run` both come here, through `service.build_service` or directly) and the one
place that orders its life cycle. Every part has its own module:

- `IngestService` (ingest_service.py): the readers and their status messages;
- `Pipeline` (pipeline.py): the engines, batched across streams, feeding each stream's
  `LiveStream` (runtime/live/);
- `Outputs` (outputs.py): the fan-out every result goes through: the publisher and the
  message observers behind it (the store), thumbnails, metrics, status latencies, a
  report collector, a printer;
- `DaemonControl` (control_handler.py) behind the control socket;
- `StreamWatch` (watch.py) and `RetentionLoop` (retention.py), the two housekeeping threads;
- the HTTP servers of `/metrics` and of the history page;
- the recaps (runtime/recap/): `RecapJobs`, one worker thread that makes the page's recaps
  (the page's recap service) and the daily ones, and `DailyRecap`, whose thread queues
  each stream's recap at `recap.at` and whose written recaps go out as `recap` messages.

Streams are isolated: a stream that fails only changes its own status, and the pipeline
keeps serving the others. The pipeline itself is shared, so when it fails (a bug) every
stream is marked failed at once (status, metrics, /healthz) and the daemon is done, with
the reason in `failure`.

With `store.enabled` every published message also goes to the `StoreWriter` (a put into
a bounded queue, never a wait on SQLite), and the publisher's seq of `highlight` and
`event` continues after the store's last one, so a seq names one message across
restarts and catch-up by seq range is well defined.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.runtime.daemon.control_handler import DaemonControl
from vgsum.runtime.daemon.ingest_service import IngestService
from vgsum.runtime.daemon.outputs import (
    Collected,
    Collector,
    LooksOutput,
    MetricsOutput,
    Outputs,
    PrintOutput,
    StageLatency,
    ThumbnailOutput,
)
from vgsum.runtime.daemon.pipeline import Pipeline
from vgsum.runtime.daemon.publisher import build_publisher
from vgsum.runtime.daemon.retention import RetentionLoop
from vgsum.runtime.daemon.watch import StreamWatch
from vgsum.runtime.engines.loader import Engines
from vgsum.runtime.summary.summarizer import HighlightEvent
from vgsum.stream.ingest import SampledFrame
from vgsum.stream.state import StreamState

if TYPE_CHECKING:
    from vgsum.runtime.daemon.daily_recap import Recapped

log = logging.getLogger(__name__)

PIPELINE_STOP_S = 1.0  # the engine call in progress is interrupted: the thread returns within milliseconds
ENGINE_CALL_MAX_S = 30.0
INGEST_STOP_S = 0.5  # readers and consumers only check flags by now
STOP_STEPS = ("pipeline", "flush", "ingest", "publisher", "store", "mqtt")
STORE_STOP_S = 0.5  # the writer commits what is queued; what does not fit is counted as dropped
MQTT_STOP_S = 0.5  # the broker acknowledges what is queued; the rest is counted as dropped
PUBLISH_LINGER_S = 0.3  # the flushed final scores and highlight ends still have to leave the socket
RECAP_STOP_S = 3.0  # a recap stops at its next part; re-encoding one part takes about a second on a small CPU

HighlightPrinter = Callable[[str, HighlightEvent], None]


def _pipeline_failed(reason: str) -> str:
    """The one line that names a pipeline failure in status messages, the API and the exit message."""
    return f"pipeline failed: {reason}"


class SummaryApp:
    """One summarizing daemon: its parts, built from a config, and their life cycle (`Service`)."""

    def __init__(
        self,
        cfg: EdgeConfig,
        engines: Engines,
        *,
        collect: bool = False,
        on_highlight: HighlightPrinter | None = None,
    ) -> None:
        self.cfg = cfg
        stream_ids = [s.stream_id for s in cfg.streams]
        self._clips_dirs = {
            s.stream_id: Path(s.clips_dir).expanduser().resolve() for s in cfg.streams if s.clips_dir is not None
        }
        self._stop = threading.Event()
        self._failed_streams_marked = threading.Event()
        self.store = None
        self.retention = None
        if cfg.store.enabled:  # before any socket: a file that is not a usable store refuses the start
            from vgsum.runtime.store.writer import StoreWriter

            self.store = StoreWriter(
                cfg.store.target,
                thumbnails_dir=cfg.store.thumbnails_dir,
                daemon_id=cfg.store.daemon,
                queue_size=cfg.store.queue_size,
                batch=cfg.store.batch,
                flush_s=cfg.store.flush_s,
            ).open()
            for stream in cfg.streams:
                if not (stream.is_live or stream.realtime):
                    self.store.anchor(stream.stream_id)
            self.retention = RetentionLoop(
                cfg.store, self._clips_dirs, self._stop, recaps_keep_days=cfg.recap.keep_days,
                recaps_dir=self._recaps_dir, own_streams=stream_ids if cfg.store.postgres else None,
            )
        self.metrics = None
        self.metrics_server = None
        if cfg.metrics.enabled:
            from vgsum.runtime.daemon.metrics import MetricsServer, PipelineMetrics

            self.metrics = PipelineMetrics(stream_ids)
            self.metrics_server = MetricsServer(self.metrics, host=cfg.metrics.host, port=cfg.metrics.port)
        self.recaps = None
        self.daily = None
        if cfg.store.enabled and (cfg.web.enabled or cfg.recap.enabled):  # the page's recaps, the daily ones
            from vgsum.runtime.daemon.daily_recap import DailyRecap
            from vgsum.runtime.recap.jobs import RecapJobs, SharedPerception

            self.recaps = RecapJobs(
                cfg.store.target, self._recaps_dir, text_engine=engines.text,
                perceive=SharedPerception(engines.perception, cfg.engines.folder, threads=1),
            )
            self.daily = DailyRecap(cfg.recap, stream_ids, self.recaps, self._announce_recap)
        self.web = None
        if cfg.web.enabled and cfg.store.enabled:  # before any socket exists: off loopback it needs a token
            from vgsum.runtime.web.server import WebServer

            self.web = WebServer(
                cfg.web, cfg.store.target, live_states=self.stream_states, text_engine=engines.text,
                regions=self._regions, recaps=self.recaps,
            )

        self.publisher = build_publisher(cfg.publish)
        self.outputs = Outputs(self.publisher, cut_clip=self._cut_clip)
        if self.store is not None:
            self.publisher.resume(self.store.max_seqs())
            self.outputs.observe_messages(self.store.record)
            self.outputs.add(ThumbnailOutput(self.store))
            self.outputs.add(LooksOutput(self.store))
        if self.metrics is not None:
            self.outputs.add(MetricsOutput(self.metrics))
        self.latency = self.outputs.add(StageLatency())
        self.collector = Collector(stream_ids)
        if collect:
            self.outputs.add(self.collector)
        if on_highlight is not None:
            self.outputs.add(PrintOutput(on_highlight))

        self.pipeline = Pipeline(
            engines,
            cfg.summary,
            self.outputs.sinks(on_failure=self._on_pipeline_failure),
            max_batch=cfg.engines.max_batch,
            thumbnails=collect or self.store is not None or cfg.mqtt.enabled,
        )
        for stream in cfg.streams:
            self.pipeline.add_stream(
                stream.stream_id, stream.sample_fps, stream.queries, summary=cfg.summary_for(stream.stream_id),
                camera=stream,
            )
        self.ingest = IngestService(
            cfg,
            self.publisher,
            frame_sink=self._submit,
            on_drained=self.pipeline.end_stream,
            status_extra=self._status_fields,
        )
        self.mqtt = None
        if cfg.mqtt.enabled:  # a bridge hangs off the fan-out like the store: every message, every picture
            from vgsum.runtime.mqtt.bridge import MqttBridge

            self.mqtt = MqttBridge(  # its command topic asks the control handler, as the control socket does
                cfg.mqtt, stream_ids,
                set_queries=lambda stream_id, queries: self.handler.set_queries(stream_id, queries),
                get_queries=lambda stream_id: self.handler.get_queries(stream_id),
            )
            self.outputs.observe_messages(self.mqtt.record)
            self.outputs.add(ThumbnailOutput(self.mqtt))
        self.handler = DaemonControl(self.pipeline, self.ingest, self.store, self.mqtt, daily=self.daily)
        self.control = None
        if cfg.control.enabled:  # binds at start; an endpoint the exposure rule refuses failed when the config loaded
            from vgsum.runtime.daemon.control import ControlServer

            self.control = ControlServer(self.handler, cfg.control.endpoint, curve=cfg.control.curve_keys())
        self.watch = None if self.metrics is None else StreamWatch(
            self.metrics, self.ingest, self.pipeline, self.store, self._stop, mqtt=self.mqtt
        )
        self._thread = threading.Thread(target=self.pipeline.run, name="pipeline", daemon=True)

    @property
    def collected(self) -> dict[str, Collected]:
        """What each stream produced (filled only when built with `collect=True`)."""
        return self.collector.streams

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Bind everything (errors are UserErrors), then start the threads."""
        if self.mqtt is not None:  # never waits for the broker; an unreadable password is a UserError here
            self.mqtt.start()
        if self.metrics_server is not None:
            self.metrics_server.start()
        if self.web is not None:
            self.web.start()
        if self.control is not None:
            self.control.start()
        if self.store is not None and self.retention is not None:
            self.retention.apply(orphans=True)  # before any clip is cut: a file with no row yet is not an orphan
            self.store.start()
            self.retention.start()
            self._end_interrupted()
        self._thread.start()
        if self.watch is not None:
            self.watch.start()
        if self.recaps is not None and self.daily is not None:
            self.recaps.start()
            self.daily.start()
        self.ingest.start()

    def wait(self, timeout_s: float | None = None) -> bool:
        """True once every stream is final and its summary flushed, or the pipeline failed (see `failure`).

        False on timeout or once `stop()` began.
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
        return self.ingest.drained() and all(self.pipeline.finished(s.stream_id) for s in self.cfg.streams)

    @property
    def failure(self) -> str | None:
        """Why nothing is scored any more (the pipeline failed; one line), or None."""
        reason = self.pipeline.failure
        return None if reason is None else _pipeline_failed(reason)

    def stream_states(self) -> dict[str, StreamState]:
        """Each stream's ingest state, in config order."""
        return self.ingest.stream_states()

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
        if self.recaps is not None:  # a recap in progress ends at its next step: nothing of it outlives the stop
            self.recaps.request_stop()
        self.ingest.stop_reading()
        self.pipeline.stop()
        if self._thread.ident is not None:  # started
            self._thread.join(PIPELINE_STOP_S)
            if self._thread.is_alive():  # a backend that cannot interrupt: late beats an abort at exit
                log.warning("pipeline thread still inside an engine after %.1f s; waiting for it", PIPELINE_STOP_S)
                self._thread.join(ENGINE_CALL_MAX_S)
        if self.daily is not None and self.recaps is not None:  # no thread may be in the shared engine at exit either
            self.daily.stop(timeout_s=0.5)
            self.recaps.stop(timeout_s=RECAP_STOP_S)
        marks.append(time.monotonic())
        if not self._thread.is_alive():
            self.pipeline.flush()  # nothing else touches the summaries now
        marks.append(time.monotonic())
        self.ingest.stop(timeout_s=INGEST_STOP_S, close_publisher=False)
        if self.watch is not None:
            self.watch.join(0.5)
        marks.append(time.monotonic())
        self.publisher.close(linger_s=PUBLISH_LINGER_S)
        marks.append(time.monotonic())
        if self.store is not None:  # after the publisher: the flushed messages reach the writer through it
            self.store.stop(timeout_s=STORE_STOP_S)
        marks.append(time.monotonic())
        if self.mqtt is not None:  # the flushed ends go to the broker too, then `offline`
            self.mqtt.stop(timeout_s=MQTT_STOP_S)
        marks.append(time.monotonic())
        steps = (f"{name} {b - a:.2f} s" for name, a, b in zip(STOP_STEPS, marks[:-1], marks[1:], strict=True))
        log.info("stop: %s", ", ".join(steps))
        if self.control is not None:
            self.control.stop(timeout=0.5)
        if self.metrics_server is not None:
            self.metrics_server.stop(timeout=0.5)
        if self.web is not None:
            self.web.stop(timeout=0.5)

    def _end_interrupted(self) -> None:
        """End, before any new work, the highlights an earlier run of these streams left open (a crash, a kill -9).

        Each gets the `end` it never had, with `reason: interrupted` and the last span the store kept, through the
        publisher, so every output hears it (ZeroMQ, the store, MQTT): no subscriber keeps a `start` without its
        `end`, and no "activity" sensor stays on across a crash.
        """
        from vgsum.runtime.store.reader import StoreReader
        from vgsum.stream.messages import EventMessage, HighlightMessage

        assert self.store is not None
        with StoreReader(self.store.path) as reader:
            rows = reader.open_highlights([s.stream_id for s in self.cfg.streams])
        for row in rows:
            fields = dict(
                start=row.start, end=row.end, score=row.score, objects=row.objects, query=row.query, zones=row.zones,
                clip=row.clip, reason="interrupted",
            )
            self.publisher.publish(EventMessage, row.stream_id, media_time=row.end, id=row.id, phase="end", **fields)
            self.publisher.publish(HighlightMessage, row.stream_id, media_time=row.end, **fields)
        if rows:
            log.warning("ended %d highlight(s) an earlier run left open (reason: interrupted)", len(rows))

    # -- what the parts call back ----------------------------------------------------
    def _on_pipeline_failure(self, reason: str) -> None:
        """Every stream depends on the pipeline: mark them all failed (status messages, metrics, /healthz)."""
        self.ingest.fail(_pipeline_failed(reason))
        if self.metrics is not None:
            for stream in self.cfg.streams:
                self.metrics.set_state(stream.stream_id, StreamState.FAILED)
        self._failed_streams_marked.set()

    @property
    def _recaps_dir(self) -> Path:
        """Recaps live beside the store: `<db dir>/recaps/` (the page's in `page/` under it)."""
        return self.cfg.store.files_dir / "recaps"

    def _announce_recap(self, recapped: Recapped) -> None:
        """A daily recap was written (on the recap thread): its `recap` message, with where the page plays it."""
        from vgsum.runtime.web.recaps import video_path

        url = video_path(recapped.id) if self.web is not None else None
        if not self.outputs.recap(recapped.stream_id, {**recapped.fields(), "url": url}):
            log.warning("recap %s of %s written but not announced: the daemon was stopping", recapped.id,
                        recapped.stream_id)

    def _regions(self) -> dict[str, dict]:
        """Each tuned camera's motion masks and zones, for the page to draw over its latest picture."""
        return {
            s.stream_id: {"masks": s.motion_masks, "zones": [z.model_dump() for z in s.zones]}
            for s in self.cfg.streams
            if s.motion_masks or s.zones
        }

    def _submit(self, frame: SampledFrame) -> None:
        self.pipeline.submit(frame)

    def _status_fields(self, stream_id: str) -> dict:
        """What a stream's `status` message says beyond its reader: stage latencies, and gated frames when its
        perception gate is on (absent otherwise, so a stream without the gate sends version-4 payloads)."""
        fields = self.latency.status_fields(stream_id)
        if self.pipeline.gate_enabled(stream_id):
            fields["frames_gated"] = self.pipeline.frames_gated(stream_id)
        return fields

    def _cut_clip(self, stream_id: str, event: HighlightEvent) -> str | None:
        """An ended highlight's clip, remuxed from the stream's buffered packets (None when it keeps no clips)."""
        clips_dir = self._clips_dirs.get(stream_id)
        if clips_dir is None:
            return None
        return self.ingest.workers[stream_id].write_clip(event.start, event.end, event.epoch, str(clips_dir))
