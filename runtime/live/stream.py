"""`LiveStream`: one stream's state from frame to frame, between the engines and its summarizer.

The pipeline reads each frame's scene first (`read_scene`: the foreground model, on the
thread that submits the stream's frames; then `look`: the perception gate's decision),
runs perception and `refiner.frame` for a batch of the frames of many streams that need
it, and hands every frame back (`take`); everything but the engines belongs to the
frame's own stream and lives here:

- the camera's object filter (the detections that count) and its zones (which ones a
  frame's objects and activity are in, and whether a highlight may start there);
- the query match (the refiner's query rows; the objects that count and the queries they
  match, read phrase by phrase: runtime/live/query_match.py);
- the scene's foreground model (activity, moving presence, cuts), blind to the motion masks; in its
  warm-up after a (re)start a highlight starts only on foreground a shaking view cannot make
  (`may_start`, runtime/summary/foreground.py);
- the perception gate (runtime/live/gate.py): a quiet frame carries the last perceived
  frame's objects and node vector forward instead of going through the engines;
- the shot signature the knapsack strategy's shot cut compares;
- the thumbnail a highlight carries;
- the epoch reset: a reconnect or a loop (a new ingest epoch) may bring another view,
  so the foreground model starts over and the summarizer is told of the break;
- the stream's summarizer (events or knapsack), whose `refiner.window` calls are timed here
  (wall latency to the sinks, thread CPU to the `window` stage of stream/stage_cpu.py);
  a window equal to the one scored last (a ring that holds only one carried-forward node
  vector, after a window's length of gated frames) reuses that score instead of running
  the engine again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from vgsum.runtime.engines.loader import Engines
from vgsum.runtime.engines.perception import FramePerception
from vgsum.runtime.engines.refiner import FrameBatchInput
from vgsum.runtime.live.config import CameraConfig, ObjectFilter
from vgsum.runtime.live.gate import GateConfig, PerceptionGate, SceneReading
from vgsum.runtime.live.objects import kept_objects
from vgsum.runtime.live.query_match import FrameWords, StreamQueryMatch, query_notices
from vgsum.runtime.live.sinks import StreamSinks
from vgsum.runtime.live.zones import ZoneWatch
from vgsum.runtime.report.thumbnail import thumbnail
from vgsum.runtime.summary.config import LIVE_KEYS, SummaryConfig
from vgsum.runtime.summary.foreground import ForegroundModel
from vgsum.runtime.summary.queries import StreamQueries
from vgsum.runtime.summary.selection import build_summarizer
from vgsum.runtime.summary.shots import shot_signature
from vgsum.runtime.summary.summarizer import FrameInput, StreamSummarizer
from vgsum.stream.ingest import SampledFrame
from vgsum.stream.stage_cpu import STAGE_CPU

THUMBNAIL_WIDTH = 192


@dataclass(frozen=True)
class SceneLook:
    """One frame's scene activity, read before the engines run (the foreground model's state moves on with the
    next frame, so the pipeline keeps each frame's own reading until it takes the frame)."""

    activity: float  # foreground share, squashed
    moving: float  # foreground that changed since the previous frame, squashed
    cut: bool  # a new scene
    steady: float  # camera-compensated change, squashed
    mask: np.ndarray | None  # foreground pixels (analysis resolution)
    changed: np.ndarray | None  # ... of them, those that changed since the frame before
    share: float = 0.0  # the view's foreground share, before squashing (the gate reads it)
    moving_share: float = 0.0  # ... of foreground that changed
    new_epoch: bool = False  # the first frame of a new ingest epoch: the foreground model started over
    may_start: bool = True  # the foreground may start a highlight (False for a shaken view in the warm-up)
    perceive: bool = True  # the gate's decision (`look`): False carries the last perceived frame forward


@dataclass
class _Carried:
    """The last perceived frame, as a frame the gate lets skip perception repeats it."""

    perceived: FramePerception  # the detections that count
    node: np.ndarray  # its refiner.frame node vector
    words: FrameWords  # what its objects said (labels that count, query matches, looks)
    matcher: StreamQueryMatch  # the query match that read them (a summary change may replace it)


class LiveStream:
    """One stream's live path; not thread-safe. The pipeline thread owns it, but for the foreground model, which
    `read_scene` advances on the stream's submitting thread; queries change through `registry`."""

    def __init__(
        self,
        stream_id: str,
        sample_fps: float,
        summary: SummaryConfig,
        engines: Engines,
        registry: StreamQueries,
        sinks: StreamSinks,
        thumbnails: bool = True,
        camera: CameraConfig | None = None,
    ) -> None:
        self.stream_id = stream_id
        self.engines = engines
        self.sinks = sinks
        self.thumbnails = thumbnails
        self.objects = camera.objects if camera is not None else ObjectFilter()
        self.zones = ZoneWatch(camera.zones, camera.require_zones) if camera is not None else ZoneWatch(())
        self.queries = StreamQueryMatch(stream_id, registry, engines.text, summary.query_matcher)
        self.activity = ForegroundModel(sample_fps, masks=camera.motion_masks if camera is not None else ())
        self.gate = PerceptionGate(camera.gate if camera is not None else GateConfig())
        self.sample_fps = sample_fps
        self.summarizer = self._new_summarizer(summary)
        self._gaps_before = 0  # breaks recorded by summaries this stream started afresh from
        self.epoch: int | None = None
        self._scene_epoch: int | None = None  # the epoch the foreground model has seen last (`read_scene` runs ahead)
        self._carried: _Carried | None = None  # the last perceived frame, for frames the gate lets skip perception
        self.frames = 0  # frames taken (scored), perceived or carried forward
        self.gated = 0  # ... of them, those that skipped perception and `refiner.frame` (carried forward)
        self.finished = False  # the end of the stream was processed
        self._summary = summary
        self._summary_lock = threading.Lock()
        self._changed_summary: SummaryConfig | None = None  # set from the control thread, taken at the next frame
        self._last_window: tuple[np.ndarray, np.ndarray] | None = None  # (nodes, scores) of the last window scored

    @property
    def summary(self) -> SummaryConfig:
        """The summary settings in force from the next frame on."""
        with self._summary_lock:
            return self._changed_summary or self._summary

    def change_summary(self, changes: dict[str, Any]) -> SummaryConfig:
        """Apply `changes` (a partial `summary:` section) from the next frame on; any thread. ValueError of one
        line for a bad key or value.

        The event rule and the score's mix (`LIVE_KEYS`) change under the running summary. A key that shapes the
        ring or the strategy (the window, the stride, `selection`, the shot cut...) starts the summary afresh at
        the next frame: its open highlight ends and its last scores go final first, as at a reconnect.
        """
        with self._summary_lock:
            new = (self._changed_summary or self._summary).with_changes(changes)  # unknown keys, bad values
            self._changed_summary = new
        return new

    @property
    def gaps(self) -> int:
        """Breaks (reconnects, stalls) the summary has recorded: no window spans one."""
        return self._gaps_before + self.summarizer.ring.gap_count

    def query_notices(self) -> dict[str, str]:
        """query -> one line for each of the stream's current queries that names nothing vgsum can see (any thread:
        compiled here, so a control reply says it before the next frame)."""
        return query_notices(self.engines.text, self.queries.registry.get(self.stream_id), self.queries.matcher)

    def kept(self, perceived: FramePerception) -> FramePerception:
        """The detections that count for this camera (its object filter); everything after reads only these."""
        return kept_objects(perceived, self.objects)

    def refiner_input(self, perceived: FramePerception) -> FrameBatchInput:
        """What `refiner.frame` takes for this stream's frame: its objects, the labels seen (word level) and
        the stream's queries (sentence level)."""
        self.queries.sync()
        text = self.engines.text
        words = sorted(set(perceived.labels))
        word_vectors = [text.label_embedding(w) for w in words]
        queries = np.concatenate(
            [np.asarray(word_vectors, np.float32).reshape(-1, text.dim), self.queries.vectors.astype(np.float32)]
        )
        return FrameBatchInput(
            frame_feature=perceived.frame_feature,
            object_features=perceived.object_features,
            boxes=perceived.boxes,
            classes=perceived.classes,
            queries=queries,
        )

    def read_scene(self, frame: SampledFrame) -> SceneLook:
        """The foreground model on this stream's next frame, before the gate decides (`look` does).

        It needs nothing but the frame and the model, so a daemon runs it on the thread that submits the stream's
        frames (`Pipeline.submit`), beside the engines, instead of in front of them on the pipeline thread: with
        thirty cameras, a quarter of that thread's work. One thread at a time, in stream order; the foreground
        model starts over at a new epoch (a reconnect may bring another view).
        """
        new_epoch = frame.epoch != self._scene_epoch
        if new_epoch:
            self.activity.reset()
            self._scene_epoch = frame.epoch
        scene = self.activity
        activity = scene.update(frame.rgb)
        return SceneLook(
            activity=activity, moving=scene.moving, cut=scene.cut, steady=scene.steady, mask=scene.mask,
            changed=scene.changed, share=scene.share, moving_share=scene.moving_share, new_epoch=new_epoch,
            may_start=scene.may_start,
        )

    def look(self, frame: SampledFrame, read: SceneLook | None = None) -> SceneLook:
        """The frame's scene (`read`, from `read_scene`; read now when not given) with the perception gate's
        decision. Called once per frame in stream order, before the engines run on it."""
        if read is None:
            read = self.read_scene(frame)
        version = self.queries.registry.versioned(self.stream_id)[0]
        every_frame = self.summary.selection != "events"
        reading = SceneReading(
            frame.media_time, read.share, read.moving_share, read.cut, read.new_epoch, version, every_frame
        )
        return replace(read, perceive=self.gate.perceive(reading))

    def take(
        self,
        frame: SampledFrame,
        perceived: FramePerception | None,
        node: np.ndarray | None,
        scene: SceneLook | None = None,
    ) -> None:
        """One frame of this stream, in stream order: the query match, zones, then the summarizer.

        `perceived` (the detections that count, `kept`) and `node` come from the engines, or are None for a frame
        the gate let skip them: the last perceived frame is repeated, its objects, node vector and what its objects
        said (the noise filter and the query match ran on it once; a repeated detection is not seen again). `scene`
        is the frame's `look`, taken now when not given.
        """
        if scene is None:
            scene = self.look(frame)
        carried = self._carried
        if perceived is None or node is None:
            if carried is None:
                raise RuntimeError(f"stream {self.stream_id}: a frame skipped perception before any was perceived")
            perceived, node = carried.perceived, carried.node
            self.gated += 1
        else:
            carried = None
        self.frames += 1
        self._take_summary_changes()
        broke = self.epoch is not None and frame.epoch != self.epoch
        if frame.epoch != self.epoch:  # a reconnect may bring another view
            self.queries.reset()
            previous, self.epoch = self.epoch, frame.epoch
        if carried is not None and carried.matcher is self.queries:
            words = carried.words
        else:  # a perceived frame, or a carried one whose query match a summary change replaced
            if carried is not None:  # a perceived frame synced its queries in `refiner_input`
                self.queries.sync()
            words = self.queries.frame(perceived, frame.rgb, scene.changed)
            self._carried = _Carried(perceived, node, words, self.queries)
        self.sinks.on_frame(self.stream_id, frame.media_time, perceived.labels)
        if broke:
            self.summarizer.gap(f"epoch {previous} -> {frame.epoch}")
        zones = self.zones.seen(perceived, scene.mask)
        self.summarizer.add(
            FrameInput(
                media_time=frame.media_time,
                epoch=frame.epoch,
                node=node,
                frame_feature=shot_signature(perceived.frame_feature, perceived.classes),
                appearance=perceived.frame_feature,
                labels=words.labels,
                activity=scene.activity,
                motion=scene.moving,
                cut=scene.cut,
                steady_motion=scene.steady,
                query_match=words.matches,
                thumbnail=thumbnail(frame.rgb, max_width=THUMBNAIL_WIDTH) if self.thumbnails else None,
                zones=zones,
                may_start=self.zones.may_start(zones) and scene.may_start,
                looks=words.looks,
            )
        )

    def finish(self) -> None:
        """The stream ended: its last scores final, its open highlight ended (once)."""
        if not self.finished:
            self.summarizer.finish()
            self.finished = True

    def _take_summary_changes(self) -> None:
        with self._summary_lock:
            new, self._changed_summary = self._changed_summary, None
        if new is None:
            return
        old, self._summary = self._summary, new
        structural = {k for k in SummaryConfig.model_fields if getattr(old, k) != getattr(new, k)} - LIVE_KEYS
        if structural or new.query_matcher != old.query_matcher:
            self.summarizer.finish()
            self._gaps_before += self.summarizer.ring.gap_count
            self.summarizer = self._new_summarizer(new)
            self.queries = StreamQueryMatch(self.stream_id, self.queries.registry, self.engines.text,
                                            new.query_matcher)
        else:
            self.summarizer.reconfigure(new)

    def _new_summarizer(self, summary: SummaryConfig) -> StreamSummarizer:
        return build_summarizer(
            summary,
            self.engines.refiner.node_dim,
            self._score_window,
            self.sample_fps,
            on_score=lambda event: self.sinks.on_score(self.stream_id, event),
            on_highlight=lambda event: self.sinks.on_highlight(self.stream_id, event),
        )

    def _score_window(self, nodes: np.ndarray) -> np.ndarray:
        """`refiner.window` on one window, or the last window's scores when its nodes are the same (the engine is
        a function of its input, and the comparison costs microseconds against the engine's milliseconds)."""
        last = self._last_window
        if last is not None and last[0].shape == nodes.shape and np.array_equal(last[0], nodes):
            return last[1].copy()
        started = time.perf_counter()
        with STAGE_CPU.timer("window"):
            scores = self.engines.refiner.scores(nodes)
        self.sinks.on_latency(self.stream_id, "refiner_window", time.perf_counter() - started)
        self._last_window = (nodes.copy(), np.array(scores, copy=True))
        return scores
