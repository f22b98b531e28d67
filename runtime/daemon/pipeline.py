"""The live summarizer over many streams: engines shared, perception batched across streams.

Frames from every stream land in one bounded queue (a full queue blocks the
stream's consumer, so live sources drop their oldest frames in their own queue
and files wait). Each frame's scene is read first: the foreground model, a few
milliseconds, on the consumer's thread as it submits the frame
(`LiveStream.read_scene`, so thirty cameras' foregrounds run beside the engines, not
in front of them). One pipeline thread takes whatever frames are ready: the
perception gate decides (`LiveStream.look`), the perception engine and
`refiner.frame` run once for the frames of the batch that need them, and each frame
goes back to its stream's `LiveStream` (runtime/live/stream.py), which owns
everything of that stream from frame to frame (scene activity, query match,
thumbnail, its summarizer) and emits scores and highlights. A frame the gate lets
skip the engines repeats its stream's last perceived frame (runtime/live/gate.py).

`stop()` is prompt: it interrupts the engine call in progress (ONNX Runtime's
terminate flag) and the thread drops the frames it has not scored yet (they never
got a score, so nothing a subscriber saw is left open). The owner joins the thread
before anything else, since a thread still inside an engine when the interpreter
exits is torn down inside C++ and aborts the process, and then calls `flush()`.

An exception in that thread, or in a submitter's foreground model, is a bug (an
engine, the foreground or the summarizer broke), and every stream depends on the
thread: the first is recorded in `failure`, the thread stops, blocked submitters
are released, and `StreamSinks.on_failure` lets the owner mark the streams failed,
instead of a dead thread that everyone waits on.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.loader import Engines
from vgsum.runtime.engines.perception import FramePerception
from vgsum.runtime.live.config import CameraConfig
from vgsum.runtime.live.sinks import StreamSinks
from vgsum.runtime.live.stream import LiveStream, SceneLook
from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.queries import StreamQueries
from vgsum.stream.ingest import SampledFrame
from vgsum.stream.redact import redact_text
from vgsum.stream.stage_cpu import STAGE_CPU

log = logging.getLogger(__name__)

MAX_FAILURE_CHARS = 200


@dataclass(frozen=True)
class _End:
    """The stream's last frame was queued before this."""

    stream_id: str


_Queued = tuple[SampledFrame, SceneLook] | _End  # a frame with its scene, read by its submitter; or a stream's end


class Pipeline:
    """All streams' summaries; `submit` from any thread, `run` on one thread (or `process` directly)."""

    def __init__(
        self,
        engines: Engines,
        summary: SummaryConfig,
        sinks: StreamSinks,
        queue_size: int = 16,
        max_batch: int = 8,
        thumbnails: bool = True,
    ) -> None:
        self.engines = engines
        self.max_batch = max_batch
        self.summary = summary
        self.sinks = sinks
        self.thumbnails = thumbnails
        self.queries = StreamQueries()
        self._queue: queue.Queue[_Queued] = queue.Queue(maxsize=queue_size)
        self._streams: dict[str, LiveStream] = {}
        self._stop = threading.Event()
        self._failure: str | None = None
        self._fail_lock = threading.Lock()  # the pipeline thread and every submitter may fail: once only

    # -- streams --------------------------------------------------------------------
    def add_stream(
        self,
        stream_id: str,
        sample_fps: float,
        queries: Sequence[str] = (),
        summary: SummaryConfig | None = None,
        camera: CameraConfig | None = None,
    ) -> None:
        """Register a stream before its first frame (with its own summary settings, else the pipeline's, and its
        camera's masks, zones and object filter)."""
        self.queries.add(stream_id, queries)
        self._streams[stream_id] = LiveStream(
            stream_id, sample_fps, summary or self.summary, self.engines, self.queries, self.sinks, self.thumbnails,
            camera,
        )

    def query_notices(self, stream_id: str) -> dict[str, str]:
        """query -> one line for each of the stream's queries that names nothing vgsum can see."""
        return self._live(stream_id).query_notices()

    def summary_of(self, stream_id: str) -> SummaryConfig:
        """The summary settings a stream runs with now (or from its next frame, when just changed)."""
        return self._live(stream_id).summary

    def set_summary(self, stream_id: str, changes: dict) -> SummaryConfig:
        """Change a running stream's summary settings from its next frame on; ValueError of one line when a key
        is unknown, a value is out of range, or the key only takes effect when the stream starts."""
        return self._live(stream_id).change_summary(changes)

    def _live(self, stream_id: str) -> LiveStream:
        try:
            return self._streams[stream_id]
        except KeyError:
            raise UserError(f"no stream {stream_id!r}") from None

    @property
    def failure(self) -> str | None:
        """Why the pipeline thread stopped on its own (one line), or None while it is healthy."""
        return self._failure

    # -- frames ---------------------------------------------------------------------
    def submit(self, frame: SampledFrame) -> bool:
        """Queue a frame for the pipeline thread; blocks while the pipeline is behind. False when stopped or failed.

        The frame's scene is read here, on the caller's thread (`LiveStream.read_scene`), so each stream's frames
        must come from one thread at a time, in order: a daemon has one consumer thread per stream.
        """
        if self._stop.is_set():
            return False
        try:
            with STAGE_CPU.timer("foreground"):
                item = (frame, self._streams[frame.stream_id].read_scene(frame))
        except Exception as err:  # a bug in the foreground fails the pipeline, as one in the pipeline thread does
            self._fail(err)
            return False
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def end_stream(self, stream_id: str) -> None:
        """The stream has ended: after its queued frames, flush its last scores and shots."""
        while not self._stop.is_set():
            try:
                self._queue.put(_End(stream_id), timeout=0.2)
                return
            except queue.Full:
                continue

    def run(self) -> None:
        """The pipeline thread's loop: batch what is ready, process it, until `stop()` or a failure."""
        try:
            while not self._stop.is_set():
                try:
                    first = self._queue.get(timeout=0.1)
                except queue.Empty:
                    continue
                self._handle(self._take_ready(first))
        except Exception as err:  # a bug anywhere below ends every stream: record it, release the waiters
            if self._stop.is_set():  # the engine call that `stop()` interrupted
                log.debug("pipeline stopped inside %s", type(err).__name__)
                return
            self._fail(err)

    def stop(self) -> None:
        """Make `run` return now: the engine call in progress is interrupted, unscored frames are dropped."""
        self._stop.set()
        self.engines.interrupt()

    def flush(self) -> None:
        """After `run` returned (or without it): every stream's last scores final, its open highlight ended.

        Not after a failure: the summaries may be half updated, and nothing is scored any more.
        """
        self.engines.resume()
        if self._failure is not None:
            return
        for stream_id in self._streams:
            self.finish(stream_id)

    def finished(self, stream_id: str) -> bool:
        """True once the stream's end was processed (all its scores final, all its shots decided)."""
        stream = self._streams.get(stream_id)
        return stream is not None and stream.finished

    def frames_done(self, stream_id: str) -> int:
        """Frames of the stream that were scored (perceived, or carried forward by its gate)."""
        stream = self._streams.get(stream_id)
        return 0 if stream is None else stream.frames

    def frames_gated(self, stream_id: str) -> int:
        """Frames of the stream its perception gate let skip perception and `refiner.frame`."""
        stream = self._streams.get(stream_id)
        return 0 if stream is None else stream.gated

    def gate_enabled(self, stream_id: str) -> bool:
        """Whether the stream's perception gate is on."""
        stream = self._streams.get(stream_id)
        return stream is not None and stream.gate.cfg.enabled

    def gaps(self, stream_id: str) -> int:
        """Breaks (reconnects, stalls) the stream's summary has recorded: no window spans one."""
        stream = self._streams.get(stream_id)
        return 0 if stream is None else stream.gaps

    def finish(self, stream_id: str) -> None:
        """Flush one stream now (the pipeline thread, or the caller of `process`)."""
        stream = self._streams.get(stream_id)
        if stream is not None:
            with STAGE_CPU.timer("summary"):
                stream.finish()

    def process(self, frames: list[SampledFrame], reads: Sequence[SceneLook | None] | None = None) -> None:
        """Run the engines on `frames` (any mix of streams) and feed each stream's summarizer, in order.

        Each frame's scene is read first, in stream order (the gate decides before the engines run); `reads` are
        the scenes their submitters read (`submit`), else they are read here. The engines then run on the frames
        that need them, and every frame is taken in order.
        """
        if not frames:
            return
        engines = self.engines
        reads = reads if reads is not None else [None] * len(frames)
        for start in range(0, len(frames), self.max_batch):
            if self._stop.is_set():
                return
            chunk = frames[start : start + self.max_batch]
            streams = [self._streams[f.stream_id] for f in chunk]
            with STAGE_CPU.timer("foreground"):
                scenes = [
                    stream.look(frame, read)
                    for frame, stream, read in zip(chunk, streams, reads[start : start + self.max_batch], strict=True)
                ]
            todo = [i for i, scene in enumerate(scenes) if scene.perceive]
            perceived: list[FramePerception | None] = [None] * len(chunk)
            nodes: list[np.ndarray | None] = [None] * len(chunk)
            t0 = t1 = t2 = 0.0
            if todo:
                t0 = time.perf_counter()
                with STAGE_CPU.timer("perception"):
                    found = engines.perception([chunk[i].rgb for i in todo])
                    t1 = time.perf_counter()
                    for i, p in zip(todo, found, strict=True):
                        perceived[i] = streams[i].kept(p)
                with STAGE_CPU.timer("refiner"):
                    inputs = [streams[i].refiner_input(perceived[i]) for i in todo]  # type: ignore[arg-type]
                    for i, node in zip(todo, engines.refiner.nodes(inputs), strict=True):
                        nodes[i] = node
                t2 = time.perf_counter()
            for i, (frame, stream, scene) in enumerate(zip(chunk, streams, scenes, strict=True)):
                if self._stop.is_set():  # every frame runs refiner.window: stop between them
                    return
                if scene.perceive:
                    self.sinks.on_latency(frame.stream_id, "perception", (t1 - t0) / len(todo))
                    self.sinks.on_latency(frame.stream_id, "refiner_frame", (t2 - t1) / len(todo))
                with STAGE_CPU.timer("summary"):  # its window scoring and publishing are charged to their own
                    stream.take(frame, perceived[i], nodes[i], scene)

    # -- helpers --------------------------------------------------------------------
    def _take_ready(self, first: _Queued) -> list[_Queued]:
        items = [first]
        while len(items) < 64:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _handle(self, items: list[_Queued]) -> None:
        """Process frames in batches, flushing a stream where its end marker sits."""
        frames: list[SampledFrame] = []
        reads: list[SceneLook | None] = []
        for item in items:
            if self._stop.is_set():
                return
            if isinstance(item, _End):
                self.process(frames, reads)
                frames, reads = [], []
                self.finish(item.stream_id)
            else:
                frames.append(item[0])
                reads.append(item[1])
        self.process(frames, reads)

    def _fail(self, err: Exception) -> None:
        """Record the failure once (with its traceback in the log), stop, and tell the owner; a later one (another
        submitter's, the same bug) is dropped."""
        first_line = (str(err).splitlines() or [""])[0]
        reason = redact_text(f"{type(err).__name__}: {first_line}" if first_line else type(err).__name__)
        with self._fail_lock:
            if self._failure is not None:
                return
            self._failure = reason[:MAX_FAILURE_CHARS]
        log.exception("pipeline failed; no stream is scored from here on")
        self._stop.set()
        try:
            self.sinks.on_failure(self._failure)
        except Exception:  # the failure is already recorded; a broken handler must not hide it
            log.exception("pipeline failure handler failed")
