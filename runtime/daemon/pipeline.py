"""The live summarizer over many streams: engines shared, perception batched across streams.

Frames from every stream land in one bounded queue (a full queue blocks the
stream's consumer, so live sources drop their oldest frames in their own queue
and files wait). One pipeline thread takes whatever frames are ready, runs the
perception engine once for the batch, `refiner.frame` once for the batch, and
then hands each frame to its stream's `StreamSummarizer`, which runs
`refiner.window` every S frames and emits scores and highlights.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.daemon.config import EngineConfig
from vgsum.runtime.daemon.control import clean_queries
from vgsum.runtime.engines.perception import FramePerception, PerceptionEngine
from vgsum.runtime.engines.refiner import FrameBatchInput, RefinerEngines
from vgsum.runtime.engines.text import TextEncoder, load_text_encoder
from vgsum.runtime.report.timeline import thumbnail
from vgsum.runtime.summary.summarizer import (
    FrameInput,
    HighlightEvent,
    ScoreEvent,
    StreamSummarizer,
    SummaryConfig,
    shot_signature,
)
from vgsum.stream.ingest import SampledFrame

log = logging.getLogger(__name__)


@dataclass
class Engines:
    """The three engines, loaded once per process and shared by every stream."""

    perception: PerceptionEngine
    text: TextEncoder
    refiner: RefinerEngines

    @classmethod
    def load(cls, cfg: EngineConfig) -> Engines:
        """Load all three from `cfg.folder`; a missing one is a one-line UserError naming the export command."""
        folder = cfg.folder
        if not folder.is_dir():
            raise UserError(
                f"engine folder {folder} does not exist; build the engines with `vgsum export all --out {folder}`"
            )
        kwargs: dict[str, Any] = {"kind": cfg.backend, "device": cfg.device, "threads": cfg.threads}
        engines = cls(
            perception=PerceptionEngine.load(folder, **kwargs),
            text=load_text_encoder(folder, **kwargs),
            refiner=RefinerEngines.load(folder, **kwargs),
        )
        given = {spec.name: spec.shape[-1] for spec in engines.perception.backend.outputs}.get("frame_feature")
        if isinstance(given, int) and given != engines.refiner.frame_dim:
            raise UserError(
                f"the refiner in {folder} takes {engines.refiner.frame_dim}-d frame features but the perception "
                f"engine gives {given}-d; rebuild both with `vgsum export all --out {folder}`"
            )
        log.info(
            "engines from %s on %s (refiner %s)",
            folder,
            engines.perception.provider,
            "trained" if engines.refiner.trained else "UNTRAINED: random weights",
        )
        return engines


@dataclass
class StreamSinks:
    """Where one stream's results go (publisher, printer, report collector...)."""

    on_score: Callable[[str, ScoreEvent], None]
    on_highlight: Callable[[str, HighlightEvent], None]
    on_latency: Callable[[str, str, float], None] = lambda stream_id, stage, seconds: None
    # (stream id, media time, labels detected): what the detector saw in each frame, for reports and checks
    on_frame: Callable[[str, float, list[str]], None] = lambda stream_id, t, labels: None


@dataclass
class _Stream:
    summarizer: StreamSummarizer
    query_version: int = -1
    queries: tuple[str, ...] = ()
    query_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 384), np.float32))
    frames: int = 0
    finished: bool = False


class Pipeline:
    """All streams' summaries; `submit` from any thread, `run` on one thread (or `process` directly)."""

    def __init__(
        self, engines: Engines, summary: SummaryConfig, sinks: StreamSinks, queue_size: int = 16, max_batch: int = 8
    ) -> None:
        self.engines = engines
        self.max_batch = max_batch
        self.summary = summary
        self.sinks = sinks
        self._queue: queue.Queue[SampledFrame | tuple[str, str]] = queue.Queue(maxsize=queue_size)
        self._streams: dict[str, _Stream] = {}
        self._queries: dict[str, tuple[int, tuple[str, ...]]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.thumbnails = True

    # -- streams and queries (any thread) -------------------------------------------
    def add_stream(self, stream_id: str, sample_fps: float, queries: list[str] | tuple[str, ...] = ()) -> None:
        """Register a stream before its first frame."""
        refiner = self.engines.refiner

        def window_fn(nodes: np.ndarray, sid: str = stream_id) -> np.ndarray:
            started = time.perf_counter()
            scores = refiner.scores(nodes)
            self.sinks.on_latency(sid, "refiner_window", time.perf_counter() - started)
            return scores

        summarizer = StreamSummarizer(
            self.summary,
            refiner.node_dim,
            window_fn,
            sample_fps,
            on_score=lambda event, sid=stream_id: self.sinks.on_score(sid, event),
            on_highlight=lambda event, sid=stream_id: self.sinks.on_highlight(sid, event),
        )
        with self._lock:
            self._streams[stream_id] = _Stream(summarizer)
            self._queries[stream_id] = (0, tuple(clean_queries(list(queries))))

    def stream_ids(self) -> list[str]:
        """Ids of the registered streams."""
        with self._lock:
            return list(self._streams)

    def get_queries(self, stream_id: str) -> list[str]:
        """A stream's current queries."""
        with self._lock:
            return list(self._queries[stream_id][1])

    def set_queries(self, stream_id: str, queries: list[str]) -> None:
        """Replace a stream's queries; they apply from the next frame on."""
        cleaned = tuple(clean_queries(list(queries)))
        with self._lock:
            if stream_id not in self._queries:
                raise UserError(f"no stream {stream_id!r}")
            version, _ = self._queries[stream_id]
            self._queries[stream_id] = (version + 1, cleaned)

    # -- frames ---------------------------------------------------------------------
    def submit(self, frame: SampledFrame, timeout: float | None = None) -> bool:
        """Queue a frame for the pipeline thread; blocks while the pipeline is behind. False when stopping."""
        while not self._stop.is_set():
            try:
                self._queue.put(frame, timeout=0.2 if timeout is None else timeout)
                return True
            except queue.Full:
                if timeout is not None:
                    return False
        return False

    def end_stream(self, stream_id: str) -> None:
        """The stream has ended: after its queued frames, flush its last scores and shots."""
        while not self._stop.is_set():
            try:
                self._queue.put(("end", stream_id), timeout=0.2)
                return
            except queue.Full:
                continue

    def run(self) -> None:
        """The pipeline thread's loop: batch what is ready, process it, until `stop()`."""
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            batch: list[SampledFrame] = []
            items = [first]
            while len(items) < 64:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for item in items:
                if isinstance(item, tuple):
                    self.process(batch)
                    batch = []
                    self.finish(item[1])
                else:
                    batch.append(item)
            self.process(batch)

    def stop(self) -> None:
        """Ask `run` to return."""
        self._stop.set()

    def pending(self) -> int:
        """Frames waiting for the pipeline thread."""
        return self._queue.qsize()

    def finished(self, stream_id: str) -> bool:
        """True once the stream's end was processed (all its scores final, all its shots decided)."""
        stream = self._streams.get(stream_id)
        return stream is not None and stream.finished

    def frames_done(self, stream_id: str) -> int:
        """Frames of the stream that went through the engines."""
        stream = self._streams.get(stream_id)
        return 0 if stream is None else stream.frames

    def gaps(self, stream_id: str) -> int:
        """Breaks (reconnects, stalls) the stream's summary has recorded: no window spans one."""
        stream = self._streams.get(stream_id)
        return 0 if stream is None else stream.summarizer.ring.gap_count

    def finish(self, stream_id: str) -> None:
        """Flush one stream now (the pipeline thread, or the caller of `process`)."""
        stream = self._streams.get(stream_id)
        if stream is not None and not stream.finished:
            stream.summarizer.finish()
            stream.finished = True

    def process(self, frames: list[SampledFrame]) -> None:
        """Run the engines on `frames` (any mix of streams) and feed each stream's summarizer, in order."""
        if not frames:
            return
        engines = self.engines
        for start in range(0, len(frames), self.max_batch):
            chunk = frames[start : start + self.max_batch]
            t0 = time.perf_counter()
            seen = engines.perception([f.rgb for f in chunk])
            t1 = time.perf_counter()
            streams = [self._stream_for(f.stream_id) for f in chunk]
            inputs = [self._refiner_input(p, s) for p, s in zip(seen, streams, strict=True)]
            nodes = engines.refiner.nodes(inputs)
            t2 = time.perf_counter()
            for frame, perceived, stream, node in zip(chunk, seen, streams, nodes, strict=True):
                self.sinks.on_latency(frame.stream_id, "perception", (t1 - t0) / len(chunk))
                self.sinks.on_latency(frame.stream_id, "refiner_frame", (t2 - t1) / len(chunk))
                stream.frames += 1
                self.sinks.on_frame(frame.stream_id, frame.media_time, perceived.labels)
                stream.summarizer.add(
                    FrameInput(
                        media_time=frame.media_time,
                        epoch=frame.epoch,
                        node=node,
                        frame_feature=shot_signature(perceived.frame_feature, perceived.classes),
                        appearance=perceived.frame_feature,
                        labels=perceived.labels,
                        query_match=self._query_match(perceived, stream),
                        thumbnail=thumbnail(frame.rgb, max_width=192) if self.thumbnails else None,
                    )
                )

    # -- helpers --------------------------------------------------------------------
    def _stream_for(self, stream_id: str) -> _Stream:
        stream = self._streams[stream_id]
        with self._lock:
            version, queries = self._queries[stream_id]
        if version != stream.query_version:
            stream.query_vectors = (
                np.stack([self.engines.text.embed_query(q) for q in queries])
                if queries
                else np.zeros((0, self.engines.text.dim), np.float32)
            )
            stream.queries, stream.query_version = queries, version
            log.info("stream %s: queries now %s", stream_id, list(queries) or "(none)")
        return stream

    def _refiner_input(self, perceived: FramePerception, stream: _Stream) -> FrameBatchInput:
        text = self.engines.text
        words = sorted(set(perceived.labels))  # word level: the labels seen in the frame
        word_vectors = [text.label_embedding(w) for w in words]
        queries = np.concatenate(
            [np.asarray(word_vectors, np.float32).reshape(-1, text.dim), stream.query_vectors.astype(np.float32)]
        )
        return FrameBatchInput(
            frame_feature=perceived.frame_feature,
            object_features=perceived.object_features,
            boxes=perceived.boxes,
            classes=perceived.classes,
            queries=queries,
        )

    def _query_match(self, perceived: FramePerception, stream: _Stream) -> dict[str, float]:
        """Per query: the best cosine between it and a detected object's label, when above the match bar."""
        if not stream.queries or perceived.count == 0:
            return {}
        labels = self.engines.text.label_embeddings[perceived.classes]  # [n, Dl]
        sims = labels @ stream.query_vectors.T  # [n, Q]
        best = sims.max(axis=0)
        bar = self.summary.query_match
        return {q: float(s) for q, s in zip(stream.queries, best, strict=True) if s >= bar}
