"""Per-stream metrics for Prometheus (`/metrics`) and a health check (`/healthz`) on one HTTP port.

Why its own registry: prometheus-client's global registry is process-wide, so two
pipelines (or two tests) would collide on metric names; a `PipelineMetrics` holds
a private `CollectorRegistry` and only its server exposes it.

Metrics (label `stream`, and `stage` for latencies):

    vgsum_stage_latency_seconds{stream,stage}   histogram; stage in STAGES
    vgsum_fps_in{stream} / vgsum_fps_out{stream} gauges: frames decoded / scored per second
    vgsum_frames_dropped_total{stream}         counter: frames dropped by the live queue
    vgsum_reconnects_total{stream}             counter: connection attempts after a failure (a failed
                                               open or a lost connection); the `reconnects` of `status`
    vgsum_stalls_total{stream}                 counter: connections dropped because no frame came for
                                               `stall_after_s`; the `stalls` of `status`
    vgsum_frames_gated_total{stream}           counter: frames the perception gate let skip perception and
                                               `refiner.frame`; the `frames_gated` of `status` (0 with the gate off)
    vgsum_queue_depth{stream}                  gauge
    vgsum_stream_state{stream,vgsum_stream_state}  enum: one of STATES is 1
    vgsum_store_dropped_total{stream}          counter: history records lost (the store's queue was full)
    vgsum_mqtt_dropped_total{stream}           counter: messages the MQTT bridge could not hand to the broker
    vgsum_mqtt_connected                       gauge: 1 while the MQTT bridge is connected (0 when off or away)

Errors are not metrics: label values are unbounded and an error text may name a
host; the redacted `last_error` is in `status` messages and the control socket.

Health: `/healthz` answers JSON `{"ok": bool, "down": [ids], "streams": {id: {"state", "live"}}}`.
A stream is *live* when it is `streaming`; it is *down* when it is neither
`streaming` nor `ended` (connecting, reconnecting, failed). The answer is HTTP 200
when at least one stream is live, or when no stream is down (every stream ended
normally: a finished file is not a fault; a daemon with no streams is healthy),
and 503 otherwise: nothing is being served. One dead camera among live ones keeps
the daemon healthy, since restarting it would interrupt the cameras that work; it
is named in `down` (and its state in `vgsum_stream_state`) for alerting.

prometheus-client is imported when a `PipelineMetrics` is made, so importing this
module stays cheap.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler
from typing import Any

log = logging.getLogger(__name__)

STAGES = ("decode", "perception", "refiner_frame", "refiner_window", "publish")
STATES = ("connecting", "streaming", "reconnecting", "ended", "failed")
HEALTHY_STATES = ("streaming", "ended")
# Per-stage latencies run from about a millisecond (publish) to seconds (perception on a busy CPU).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PipelineMetrics:
    """The metrics of one daemon, in a private registry. Thread-safe (prometheus-client is)."""

    def __init__(self, streams: Iterable[str] = ()) -> None:
        from prometheus_client import CollectorRegistry, Counter, Enum, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self._lock = threading.Lock()
        self._states: dict[str, str] = {}
        self.latency = Histogram(
            "vgsum_stage_latency_seconds",
            "Time spent in one pipeline stage, per frame (per window for refiner_window).",
            ("stream", "stage"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.fps_in = Gauge("vgsum_fps_in", "Frames decoded per second.", ("stream",), registry=self.registry)
        self.fps_out = Gauge("vgsum_fps_out", "Frames scored per second.", ("stream",), registry=self.registry)
        self.drops = Counter(
            "vgsum_frames_dropped", "Frames dropped by the live queue (drop oldest).", ("stream",),
            registry=self.registry,
        )
        self.reconnects = Counter(
            "vgsum_reconnects", "Connection attempts after a failed open or a lost connection.", ("stream",),
            registry=self.registry,
        )
        self.stalls = Counter(
            "vgsum_stalls", "Connections dropped because no frame came for stall_after_s.", ("stream",),
            registry=self.registry,
        )
        self.gated = Counter(
            "vgsum_frames_gated", "Frames the perception gate let skip perception (the scene was at rest).",
            ("stream",), registry=self.registry,
        )
        self.queue_depth = Gauge("vgsum_queue_depth", "Frames waiting in the stream's queue.", ("stream",),
                                 registry=self.registry)
        self.state = Enum("vgsum_stream_state", "Ingest state of the stream.", ("stream",), states=list(STATES),
                          registry=self.registry)
        self.store_dropped = Counter(
            "vgsum_store_dropped", "History records the store could not keep (its queue was full).", ("stream",),
            registry=self.registry,
        )
        self.mqtt_dropped = Counter(
            "vgsum_mqtt_dropped", "Messages the MQTT bridge could not hand to the broker (queue full or gone).",
            ("stream",), registry=self.registry,
        )
        self.mqtt_connected = Gauge(
            "vgsum_mqtt_connected", "1 while the MQTT bridge is connected to its broker.", registry=self.registry
        )
        for stream_id in streams:
            self.add_stream(stream_id)

    def add_stream(self, stream_id: str, state: str = "connecting") -> None:
        """Make a configured stream's series exist (at zero) so dashboards and /healthz see it from the start."""
        for stage in STAGES:
            self.latency.labels(stream_id, stage)
        self.fps_in.labels(stream_id).set(0)
        self.fps_out.labels(stream_id).set(0)
        self.drops.labels(stream_id)
        self.store_dropped.labels(stream_id)
        self.reconnects.labels(stream_id)
        self.stalls.labels(stream_id)
        self.gated.labels(stream_id)
        self.queue_depth.labels(stream_id).set(0)
        self.set_state(stream_id, state)

    def observe(self, stream_id: str, stage: str, seconds: float) -> None:
        """Record one stage latency."""
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}; one of {STAGES}")
        self.latency.labels(stream_id, stage).observe(seconds)

    def set_fps(self, stream_id: str, fps_in: float, fps_out: float) -> None:
        """Current input (decoded) and output (scored) frame rates."""
        self.fps_in.labels(stream_id).set(fps_in)
        self.fps_out.labels(stream_id).set(fps_out)

    def add_drops(self, stream_id: str, count: int = 1) -> None:
        """Count frames the live queue dropped."""
        if count:
            self.drops.labels(stream_id).inc(count)

    def add_store_drops(self, stream_id: str, count: int) -> None:
        """Count history records the store dropped."""
        if count:
            self.store_dropped.labels(stream_id).inc(count)

    def add_mqtt_drops(self, stream_id: str, count: int) -> None:
        """Count messages the MQTT bridge dropped."""
        if count:
            self.mqtt_dropped.labels(stream_id).inc(count)

    def set_mqtt_connected(self, connected: bool) -> None:
        """Whether the MQTT bridge is connected now."""
        self.mqtt_connected.set(1 if connected else 0)

    def add_reconnects(self, stream_id: str, count: int = 1) -> None:
        """Count reconnect attempts."""
        if count:
            self.reconnects.labels(stream_id).inc(count)

    def add_stalls(self, stream_id: str, count: int = 1) -> None:
        """Count stalls."""
        if count:
            self.stalls.labels(stream_id).inc(count)

    def add_gated(self, stream_id: str, count: int) -> None:
        """Count frames the perception gate let skip perception."""
        if count:
            self.gated.labels(stream_id).inc(count)

    def set_queue_depth(self, stream_id: str, depth: int) -> None:
        """Frames currently waiting."""
        self.queue_depth.labels(stream_id).set(depth)

    def set_state(self, stream_id: str, state: str) -> None:
        """The stream's ingest state, one of STATES (a `vgsum.stream.state.StreamState` works too)."""
        state = str(getattr(state, "value", state))
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}; one of {STATES}")
        self.state.labels(stream_id).state(state)
        with self._lock:
            self._states[stream_id] = state

    def health(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body) of /healthz: 200 when a stream is live or none is down, else 503 (module doc)."""
        with self._lock:
            states = dict(self._states)
        streams = {sid: {"state": st, "live": st == "streaming"} for sid, st in states.items()}
        down = sorted(sid for sid, st in states.items() if st not in HEALTHY_STATES)
        ok = any(st == "streaming" for st in states.values()) or not down
        return (200 if ok else 503), {"ok": ok, "down": down, "streams": streams}

    def exposition(self) -> bytes:
        """The Prometheus text format of this registry."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


def _handler_class(metrics: PipelineMetrics) -> type[BaseHTTPRequestHandler]:
    from prometheus_client import CONTENT_TYPE_LATEST

    class Handler(BaseHTTPRequestHandler):
        server_version = "vgsum-metrics"

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._reply(200, CONTENT_TYPE_LATEST, metrics.exposition())
            elif path == "/healthz":
                code, body = metrics.health()
                self._reply(code, "application/json", json.dumps(body).encode())
            else:
                self._reply(404, "text/plain; charset=utf-8", b"not found: try /metrics or /healthz\n")

        def _reply(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
            log.debug("metrics http: " + format, *args)

    return Handler


class MetricsServer:
    """`/metrics` and `/healthz` over HTTP in a background thread. Port 0 picks a free port (see `port`)."""

    def __init__(self, metrics: PipelineMetrics, host: str = "127.0.0.1", port: int = 9571) -> None:
        from vgsum.runtime.common.network import HttpService

        self.metrics = metrics
        self.host = host
        self.http = HttpService("metrics", host, port, _handler_class(metrics))

    @property
    def port(self) -> int | None:
        """The bound port (after `start`)."""
        return self.http.port

    def start(self) -> int:
        """Bind and serve; returns the real port. Raises UserError when the port cannot be bound."""
        from vgsum.runtime.daemon.exposure import warn_public_metrics

        port = self.http.start()
        warn_public_metrics(self.host, port)
        log.info("metrics on http://%s:%d/metrics and /healthz", self.host, port)
        return port

    @property
    def url(self) -> str:
        """Base URL of the server (after `start`)."""
        return self.http.url

    def stop(self, timeout: float = 2.0) -> None:
        """Stop serving and close the port. Idempotent."""
        self.http.stop(timeout)

    def __enter__(self) -> MetricsServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
