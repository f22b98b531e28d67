"""The per-stream series of `/metrics` that no single event moves: kept current by one thread, once a second.

State, fps in and out, the queue depth, and the counters of drops, reconnects, stalls,
store drops and gated frames move by what each worker (and the store writer, and the
pipeline) counted since the last look, so the Prometheus counters equal the counts in
`status`.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from vgsum.runtime.daemon.ingest_service import IngestService
from vgsum.runtime.daemon.pipeline import Pipeline
from vgsum.stream.ingest import StreamStats

WATCH_INTERVAL_S = 1.0


class StreamWatch:
    """A thread that copies the ingest workers' and the store's counters into the metrics."""

    def __init__(
        self,
        metrics: Any,
        ingest: IngestService,
        pipeline: Pipeline,
        store: Any | None,
        stop: threading.Event,
        mqtt: Any | None = None,
    ) -> None:
        self.metrics = metrics
        self.ingest = ingest
        self.pipeline = pipeline
        self.store = store
        self.mqtt = mqtt
        self._stop = stop
        self._thread = threading.Thread(target=self._run, name="metrics-watch", daemon=True)

    def start(self) -> None:
        """Start watching (until the stop event is set)."""
        self._thread.start()

    def join(self, timeout_s: float) -> None:
        """Wait for the thread after the stop event was set (no-op when never started)."""
        if self._thread.ident is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        seen: dict[str, StreamStats] = {}
        last: dict[str, tuple[float, int]] = {}  # stream -> (when, scored)
        store_dropped: dict[str, int] = {}
        mqtt_dropped: dict[str, int] = {}
        gated: dict[str, int] = {}
        while not self._stop.wait(WATCH_INTERVAL_S):
            now = time.monotonic()
            if self.store is not None:
                for stream_id in self.ingest.workers:
                    count = self.store.dropped[stream_id]
                    self.metrics.add_store_drops(stream_id, count - store_dropped.get(stream_id, 0))
                    store_dropped[stream_id] = count
            if self.mqtt is not None:
                self.metrics.set_mqtt_connected(self.mqtt.connected)
                for stream_id in self.ingest.workers:
                    count = self.mqtt.dropped[stream_id]
                    self.metrics.add_mqtt_drops(stream_id, count - mqtt_dropped.get(stream_id, 0))
                    mqtt_dropped[stream_id] = count
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
                count = self.pipeline.frames_gated(stream_id)
                self.metrics.add_gated(stream_id, count - gated.get(stream_id, 0))
                gated[stream_id] = count
                if now > then:
                    self.metrics.set_fps(
                        stream_id,
                        (stats.frames_decoded - before.frames_decoded) / (now - then),
                        (scored - done) / (now - then),
                    )
                seen[stream_id] = stats
                last[stream_id] = (now, scored)
