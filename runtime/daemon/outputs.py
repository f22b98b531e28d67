"""The daemon's one fan-out: every result of the live path reaches every output from here.

The pipeline thread calls `Outputs.sinks()` for each score, highlight phase, stage
latency and frame. The fan-out cuts a finished highlight's clip once, then hands the
result to each output in order: the publisher first (ZeroMQ messages, whose seq the
store and any other message observer see through `observe_messages`), then the
store's thumbnails, metrics, the per-stage latency of `status` messages, a report
collector and a printer. The history page reads the store and the live states, so
it hangs off the store. The recap thread calls `Outputs.recap` for each daily recap
written: a `recap` message, which the store and MQTT see as observers.

Once the publisher has closed (the daemon is stopping) a result goes nowhere: an
output must never hold what subscribers were not told.

The fan-out's thread CPU is the `publish` stage of the process's stage accounting
(stream/stage_cpu.py), read by `vgsum bench pipeline`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vgsum.runtime.live.sinks import StreamSinks
from vgsum.runtime.summary.summarizer import HighlightEvent, ScoreEvent
from vgsum.stream.messages import EventMessage, HighlightMessage, MessageBase, RecapMessage, ScoreMessage
from vgsum.stream.publish import Publisher
from vgsum.stream.stage_cpu import STAGE_CPU

ClipCutter = Callable[[str, HighlightEvent], "str | None"]  # (stream, ended highlight) -> the clip's path


class Output:
    """One consumer of results; each hook is optional (the defaults ignore the result)."""

    def score(self, stream_id: str, event: ScoreEvent) -> None:
        """A frame's score (provisional or final)."""

    def highlight(self, stream_id: str, event: HighlightEvent, clip: str | None) -> None:
        """A phase of a highlight (`clip` only at its end, when the stream keeps clips)."""

    def latency(self, stream_id: str, stage: str, seconds: float) -> None:
        """How long a stage took for one frame."""

    def frame(self, stream_id: str, t: float, labels: list[str]) -> None:
        """What the detector saw in one frame."""


class PublishOutput(Output):
    """Scores, highlight phases (`event`) and finished highlights (`highlight`) as ZeroMQ messages."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher

    def score(self, stream_id: str, event: ScoreEvent) -> None:
        self.publisher.publish(
            ScoreMessage, stream_id, media_time=event.t, t=event.t, score=event.score, final=event.final
        )

    def highlight(self, stream_id: str, event: HighlightEvent, clip: str | None) -> None:
        """Every phase goes out as an `event`; the end also as a `highlight` (with its clip) for older subscribers."""
        fields = highlight_fields(event)
        self.publisher.publish(
            EventMessage, stream_id, media_time=event.emitted_at, id=event.id, phase=event.phase, clip=clip, **fields
        )
        if event.phase == "end":
            self.publisher.publish(HighlightMessage, stream_id, media_time=event.end, clip=clip, **fields)


class ThumbnailOutput(Output):
    """A highlight's picture into the store, after its event: the row it belongs to exists by then."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def highlight(self, stream_id: str, event: HighlightEvent, clip: str | None) -> None:
        if event.thumbnail is not None and event.phase != "update":
            self.store.thumbnail(stream_id, event.id, event.thumbnail)


class LooksOutput(Output):
    """What a highlight's objects looked like, into the store: history search by meaning (language/looks.py)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def highlight(self, stream_id: str, event: HighlightEvent, clip: str | None) -> None:
        if event.looks and event.phase != "update":
            self.store.looks(stream_id, event.id, [list(look) for look in event.looks])


class MetricsOutput(Output):
    """Stage latencies into the Prometheus histograms."""

    def __init__(self, metrics: Any) -> None:
        self.metrics = metrics

    def latency(self, stream_id: str, stage: str, seconds: float) -> None:
        self.metrics.observe(stream_id, stage, seconds)


class StageLatency(Output):
    """Mean latency per stage since a stream's last `status` message (its `latency_ms`)."""

    def __init__(self) -> None:
        self._sums: dict[tuple[str, str], list[float]] = {}  # (stream, stage) -> [seconds, count]
        self._lock = threading.Lock()

    def latency(self, stream_id: str, stage: str, seconds: float) -> None:
        with self._lock:
            total = self._sums.setdefault((stream_id, stage), [0.0, 0])
            total[0] += seconds
            total[1] += 1

    def status_fields(self, stream_id: str) -> dict:
        """The `latency_ms` field of the stream's next status message, in ms; starts the next period."""
        with self._lock:
            means = {
                stage: round(1000.0 * total / count, 2)
                for (sid, stage), (total, count) in self._sums.items()
                if sid == stream_id and count
            }
            for key in [k for k in self._sums if k[0] == stream_id]:
                del self._sums[key]
        return {"latency_ms": means}


@dataclass
class Collected:
    """Everything one stream produced, for reports and tests (scores as (t, score, final))."""

    scores: list[tuple[float, float, bool]] = field(default_factory=list)
    frames: list[tuple[float, list[str]]] = field(default_factory=list)  # (t, labels the detector saw)
    highlights: list[dict[str, Any]] = field(default_factory=list)  # finished ones, with id and alert time
    alerts: dict[str, float] = field(default_factory=dict)  # highlight id -> stream time of its first message


class Collector(Output):
    """Everything each stream produced, kept in memory for `vgsum run`'s report, benchmarks and tests."""

    def __init__(self, stream_ids: list[str]) -> None:
        self.streams: dict[str, Collected] = {sid: Collected() for sid in stream_ids}

    def score(self, stream_id: str, event: ScoreEvent) -> None:
        self.streams[stream_id].scores.append((event.t, event.score, event.final))

    def frame(self, stream_id: str, t: float, labels: list[str]) -> None:
        self.streams[stream_id].frames.append((t, list(labels)))

    def highlight(self, stream_id: str, event: HighlightEvent, clip: str | None) -> None:
        collected = self.streams[stream_id]
        collected.alerts.setdefault(event.id, event.emitted_at)
        if event.phase == "end":
            collected.highlights.append(
                {"id": event.id, **highlight_fields(event), "clip": clip, "thumbnail": event.thumbnail,
                 "alerted_at": collected.alerts[event.id], "ended_at": event.emitted_at}
            )


class PrintOutput(Output):
    """Each highlight phase to a callback (`vgsum run` prints starts and ends)."""

    def __init__(self, callback: Callable[[str, HighlightEvent], None]) -> None:
        self.callback = callback

    def highlight(self, stream_id: str, event: HighlightEvent, clip: str | None) -> None:
        self.callback(stream_id, event)


def highlight_fields(event: HighlightEvent) -> dict[str, Any]:
    """The fields every message about a highlight carries."""
    return dict(
        start=event.start, end=event.end, score=event.score, objects=event.objects, query=event.query,
        zones=event.zones,
    )


class Outputs:
    """The fan-out: results in (as `StreamSinks`), every output in order; the publisher's messages to observers."""

    def __init__(self, publisher: Publisher, cut_clip: ClipCutter | None = None) -> None:
        self.publisher = publisher
        self.cut_clip = cut_clip
        self.published = PublishOutput(publisher)
        self.outputs: list[Output] = []  # after the publisher, in the order they were added

    def add(self, output: Output) -> Output:
        """Hang one more output off the fan-out (after those already there)."""
        self.outputs.append(output)
        return output

    def observe_messages(self, observer: Callable[[MessageBase, str], None]) -> None:
        """Every message the publisher sends (status included), with its seq and JSON, also goes to `observer`."""
        self.publisher.observers.append(observer)

    def sinks(self, on_failure: Callable[[str], None]) -> StreamSinks:
        """The callbacks the pipeline calls on its thread."""
        return StreamSinks(
            on_score=self.score,
            on_highlight=self.highlight,
            on_latency=self.latency,
            on_frame=self.frame,
            on_failure=on_failure,
        )

    def score(self, stream_id: str, event: ScoreEvent) -> None:
        with STAGE_CPU.timer("publish"):
            started = time.perf_counter()
            try:
                self.published.score(stream_id, event)
            except RuntimeError:  # the publisher closed during shutdown
                return
            for output in self.outputs:
                output.score(stream_id, event)
            self.latency(stream_id, "publish", time.perf_counter() - started)

    def highlight(self, stream_id: str, event: HighlightEvent) -> None:
        with STAGE_CPU.timer("publish"):
            clip = self.cut_clip(stream_id, event) if event.phase == "end" and self.cut_clip is not None else None
            try:
                self.published.highlight(stream_id, event, clip)
            except RuntimeError:  # the publisher closed during shutdown
                return
            for output in self.outputs:
                output.highlight(stream_id, event, clip)

    def latency(self, stream_id: str, stage: str, seconds: float) -> None:
        with STAGE_CPU.timer("publish"):
            for output in self.outputs:
                output.latency(stream_id, stage, seconds)

    def recap(self, stream_id: str, fields: dict[str, Any]) -> bool:
        """A daily recap that was written, as a `recap` message; the store and MQTT see it as observers.

        Called on the recap thread (the publisher's lock orders it among the pipeline's messages).
        False when the publisher has closed (the daemon is stopping): nobody was told, so nothing keeps it.
        """
        try:
            with STAGE_CPU.timer("publish"):
                self.publisher.publish(RecapMessage, stream_id, **fields)
        except RuntimeError:
            return False
        return True

    def frame(self, stream_id: str, t: float, labels: list[str]) -> None:
        with STAGE_CPU.timer("publish"):
            for output in self.outputs:
                output.frame(stream_id, t, labels)
