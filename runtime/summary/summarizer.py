"""One stream's live summary: node vectors in, score and highlight events out.

This is MODEL.md's "Running live" for a single stream, with the engines kept
outside (the pipeline batches them across streams) so that the logic here is
plain numpy and testable on its own:

- every frame's node vector goes into the ring of the last W frames; every S
  frames the window function scores the ring, and the scores are fused per frame
  (weights highest near a window's centre);
- a frame's score is *provisional* while the frame is in the ring and *final*
  when it leaves (or the epoch closes); final scores are sent once and never change;
- a user query raises the score of frames whose objects match it;
- shots are cut from the frame feature by KTS run on the stream (runtime/shot_kts.py):
  a boundary is final `shot_delay_s` after it. A finished shot's score goes to the
  look-ahead selector, which decides it `decision_delay_s` later by a 0/1 knapsack
  over the shots seen by then (about 15 % of recent time; a shot must stand out
  from the recent lower quartile and look different from the recent typical shot,
  so a still scene gives none, even where the detector flickers on it).
  Both delays are the price of a summary close to the offline one: a causal cut
  cannot know where KTS over the whole video would put a boundary, and deciding each
  shot at once cannot tell it from a better one a few seconds on (BENCHMARKS.md,
  "Live selection"). `shot_cut: threshold` cuts at once instead (the older rule).
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from vgsum.runtime.summary.events import EventRuleConfig, EventTracker, FrameActivity, HighlightPhase
from vgsum.runtime.summary.fusion import ScoreFusion
from vgsum.runtime.summary.shot_kts import KernelShotCutter
from vgsum.runtime.summary.shots import LookaheadSelector, OnlineShotDetector, ShotDecision, ShotValue, unit_vector
from vgsum.runtime.summary.window import EpochEnd, FrameSlot, NodeRing

log = logging.getLogger(__name__)


class SummaryConfig(BaseModel):
    """How a stream is summarized; times in seconds, converted to frames with the sampling rate."""

    model_config = ConfigDict(extra="forbid")

    selection: Literal["events", "knapsack"] = Field(
        "events",
        description="events: a highlight per stretch of activity, announced within about a second of its start "
        "and ended with its span (cameras); knapsack: the field's summary of edited video, shots chosen within "
        "`budget` by a look-ahead knapsack, decided decision_delay_s after each shot",
    )
    events: EventRuleConfig = Field(default_factory=EventRuleConfig)
    activity_weight: float = Field(
        0.8, ge=0, le=1,
        description="events: the score is this share of the scene-activity signal (how much of the view departs "
        "from the learned background, raised while it moves) and the rest the graph model's score",
    )
    motion_gain: float = Field(
        0.4, ge=0, le=1,
        description="events: the activity signal is the larger of presence (how much of the view departs from "
        "the background) times 1 - motion_gain, and moving presence (the part of it that changed since the last "
        "frame): a person standing still keeps a highlight open, and where something is always in view (a busy "
        "scene) the moving moments stand out; 0 counts presence alone, 1 only presence that moves",
    )
    edited_cuts: int = Field(
        3, ge=0, le=1000,
        description="events: this many new scenes (cuts: most of the view changing at once) within edited_window_s "
        "mark the input as edited video, not a fixed camera; there the activity signal is the camera-compensated "
        "frame difference, since no shot lasts long enough for a background to settle (0: never)",
    )
    edited_window_s: float = Field(60.0, gt=0, le=3600, description="events: how far back edited_cuts counts")
    window: int = Field(64, ge=2, le=1024, description="W: frames the temporal graph sees (64 = 32 s at 2 fps)")
    stride: int = Field(8, ge=1, le=1024, description="S: a window every S frames")
    budget: float = Field(0.15, gt=0, lt=1, description="share of recent time kept as highlights")
    horizon_s: float = Field(600.0, gt=0, description="how much recent time the budget looks at")
    decision_delay_s: float = Field(
        60.0, ge=0, le=600,
        description="a shot is decided this long after it ends, by a knapsack over the shots seen by then: "
        "longer comes closer to the offline summary, later (keep clip_buffer_s above it + shot_delay_s + max_shot_s)",
    )
    shot_value: ShotValue = Field(
        "total", description="what a shot is worth to the knapsack: total (its summed score: fewer, longer "
        "highlights) or mean (its mean score: the field's benchmark knapsack, which favours short shots)",
    )
    min_margin: float = Field(
        0.03, ge=0, le=1, description="a highlight must beat the recent lower-quartile shot score by this much"
    )
    min_change: float = Field(
        0.008, ge=0, le=1,
        description="a highlight must look different from the horizon's typical shot by this cosine distance: "
        "a still scene stays within 0.005 (detector flicker moves its scores, not its look); 0 turns it off",
    )
    shot_cut: Literal["kts", "threshold"] = Field(
        "kts", description="kts: the field's kernel temporal segmentation, committed shot_delay_s late, with one shot "
        "per shot_s on average; threshold: a cut the moment the frame moves shot_threshold from the shot's mean",
    )
    shot_s: float = Field(4.0, gt=0, description="kts: the mean shot length it keeps (TVSum's shots: 4 s)")
    shot_delay_s: float = Field(
        30.0, ge=0, le=600, description="kts: a boundary is final this long after it; longer cuts closer to offline KTS"
    )
    shot_threshold: float = Field(
        0.25, gt=0, lt=2, description="threshold: cosine distance from the shot mean that cuts"
    )
    min_shot_s: float = Field(2.0, gt=0)
    max_shot_s: float = Field(12.0, gt=0)
    query_boost: float = Field(0.6, ge=0, le=1, description="how far a full query match lifts a score toward 1")
    query_match: float = Field(0.5, ge=0, le=1, description="label-query cosine above which a label matches")
    provisional_scores: bool = Field(True, description="publish provisional scores after each window")
    early_scores: bool = Field(
        True,
        description="score a frame as soon as it arrives (a window over the ring, not fused) instead of waiting "
        "up to S frames for the next window; costs one small refiner.window run per frame",
    )
    top_objects: int = Field(5, ge=1, le=80)

    @model_validator(mode="after")
    def _check(self) -> SummaryConfig:
        if self.stride > self.window:
            raise ValueError("stride must not exceed window (a frame would leave unscored)")
        if self.max_shot_s < self.min_shot_s:
            raise ValueError("max_shot_s must be >= min_shot_s")
        if self.shot_cut == "kts" and not self.min_shot_s <= self.shot_s <= self.max_shot_s:
            raise ValueError("shot_s must lie between min_shot_s and max_shot_s")
        return self

    def shot_latency_s(self) -> float:
        """How long after its shot ends a highlight can still be decided: its packets must be kept that long."""
        return self.decision_delay_s + (self.shot_delay_s if self.shot_cut == "kts" else 0.0) + self.max_shot_s

    def highlight_latency_s(self) -> float:
        """How far back from its last message a highlight's first frame can lie (the clip buffer must cover it)."""
        return self.events.latency_s() if self.selection == "events" else self.shot_latency_s()


def shot_cutter(cfg: SummaryConfig, fps: float) -> KernelShotCutter | OnlineShotDetector:
    """The shot cut a config asks for, in frames at `fps` (the streaming evaluation builds it here too)."""
    min_len = max(1, round(cfg.min_shot_s * fps))
    max_len = max(min_len, round(cfg.max_shot_s * fps))
    if cfg.shot_cut == "threshold":
        return OnlineShotDetector(cfg.shot_threshold, min_len, max_len)
    mean_len = min(max(cfg.shot_s * fps, min_len), max_len)
    return KernelShotCutter(mean_len, max_len, round(cfg.shot_delay_s * fps), max(1, round(cfg.horizon_s * fps)),
                            min_len)


def shot_selector(cfg: SummaryConfig, fps: float) -> LookaheadSelector:
    """The highlight choice a config asks for, in frames at `fps` (the streaming evaluation builds it here too)."""
    return LookaheadSelector(cfg.budget, max(1, round(cfg.horizon_s * fps)), round(cfg.decision_delay_s * fps),
                             cfg.min_margin, cfg.shot_value, cfg.min_change)


def shot_signature(frame_feature: np.ndarray, classes: np.ndarray, n_classes: int = 80) -> np.ndarray:
    """What the online shot cut compares: the unit frame feature beside which object classes are present.

    On a fixed camera the frame feature barely moves when a person walks in (cosine
    distance ~0.05); the presence half makes that a cut, while a detection flickering
    among several present objects moves the signature little.
    """
    presence = np.zeros(n_classes)
    presence[np.asarray(classes, np.int64)[(classes >= 0) & (classes < n_classes)]] = 1.0
    return np.concatenate([unit_vector(frame_feature), presence])


@dataclass
class FrameInput:
    """What the pipeline knows about one processed frame."""

    media_time: float
    epoch: int
    node: np.ndarray  # [d] from refiner.frame
    frame_feature: np.ndarray  # what the online shot cut compares (see `shot_signature`)
    labels: list[str]
    query_match: dict[str, float]  # query -> match strength in [0, 1] for this frame
    thumbnail: np.ndarray | None = None  # small RGB, kept until its shot is decided
    appearance: np.ndarray | None = None  # the frame's visual feature alone: is the scene still? (see min_change)
    activity: float = 0.0  # share of the view departing from the scene's background, squashed (foreground.py)
    motion: float = 0.0  # share of the view departing and changed since the previous sampled frame, squashed
    cut: bool = False  # the frame starts a new scene (foreground.py)
    steady_motion: float = 0.0  # camera-compensated change since the previous sampled frame, squashed


@dataclass
class ScoreEvent:
    """A frame's (boosted) score; `final` ones never change."""

    t: float
    score: float
    final: bool


@dataclass
class HighlightEvent:
    """A message in a highlight's life; `end` carries the final span (the only phase a knapsack shot has)."""

    start: float
    end: float
    score: float
    objects: dict[str, int]
    query: str | None
    thumbnail: np.ndarray | None = None
    epoch: int = 0  # the ingest epoch of the span (clips are cut from that epoch's packets)
    id: str = ""
    phase: Literal["start", "update", "end"] = "end"
    emitted_at: float = 0.0  # stream time of the frame that caused the message


@dataclass
class _Frame:
    media_time: float
    labels: Counter
    query_match: dict[str, float]
    thumbnail: np.ndarray | None
    epoch: int = 0
    final_score: float | None = None
    appearance: np.ndarray | None = None  # unit length


@dataclass
class _Shot:
    indices: list[int] = field(default_factory=list)


WindowFn = Callable[[np.ndarray], np.ndarray]  # nodes [n, d] -> scores [n] in [0, 1]


class StreamSummarizer:
    """Live summary of one stream; not thread-safe (one pipeline thread owns it)."""

    def __init__(
        self,
        cfg: SummaryConfig,
        node_dim: int,
        window_fn: WindowFn,
        sample_fps: float,
        on_score: Callable[[ScoreEvent], None],
        on_highlight: Callable[[HighlightEvent], None],
    ) -> None:
        self.cfg = cfg
        self.window_fn = window_fn
        self.frame_s = 1.0 / sample_fps
        self.on_score = on_score
        self.on_highlight = on_highlight
        self.ring = NodeRing(cfg.window, node_dim, cfg.stride)
        self.fusion = ScoreFusion()
        self.sample_fps = sample_fps
        self.shots = shot_cutter(cfg, sample_fps)
        self._cut_origin = 0  # the frame index the cutter counts from (it restarts with each epoch)
        self.budget = shot_selector(cfg, sample_fps)
        self._frames: dict[int, _Frame] = {}  # frames not yet both final and decided
        self._open = _Shot()
        self._pending: deque[_Shot] = deque()  # ended shots waiting for window scores
        self._undecided: dict[int, _Shot] = {}  # scored shots the selector still looks ahead over, by first index
        self._next = 0  # contiguous frame counter: fusion and ring indices
        self._epoch: int | None = None
        self.highlights = 0
        self.windows = 0
        self.events = EventTracker(cfg.events, self.frame_s, cfg.top_objects) if cfg.selection == "events" else None
        self._thumbs: deque[tuple[float, np.ndarray]] = deque(maxlen=8)  # events: recent thumbnails
        self._cuts: deque[float] = deque()  # events: media times of recent new scenes
        self._activity = 0.0  # events: the last frame's activity signal

    # -- per frame ----------------------------------------------------------------
    def add(self, frame: FrameInput) -> None:
        """Take one frame in stream order."""
        if self.events is not None:
            self._add_event_frame(frame)
            return
        index = self._next
        self._next += 1
        if self._epoch is not None and frame.epoch != self._epoch:
            self._cut(self.shots.flush())
            self._end_shot()  # a gap always ends the shot: it never spans a reconnect
            self._finish_epoch(self.ring.gap(f"epoch {self._epoch} -> {frame.epoch}"))
            self.shots, self._cut_origin = shot_cutter(self.cfg, self.sample_fps), index
        self._epoch = frame.epoch
        self._frames[index] = _Frame(
            frame.media_time, Counter(frame.labels), dict(frame.query_match), frame.thumbnail, frame.epoch,
            appearance=None if frame.appearance is None else unit_vector(frame.appearance, np.float32),
        )
        self._open.indices.append(index)
        self._cut(self.shots.push(frame.frame_feature))
        step = self.ring.push(frame.node, index, frame.media_time)
        self._finalize(step.left)
        if step.window_due:
            self._score_window()
        elif self.cfg.early_scores and self.cfg.provisional_scores:
            self._early_score(index)
        self._decide_ready_shots()

    def finish(self) -> None:
        """End of stream: score what no window saw, make every score final, decide every shot."""
        if self.events is not None:
            self._emit_phases(self.events.close())
            return
        self._cut(self.shots.flush())
        self._end_shot()
        self._finish_epoch(self.ring.close())
        self._decide_ready_shots(force=True)
        self._apply(self.budget.flush())
        self._forget_done()

    # -- events -------------------------------------------------------------------
    def _add_event_frame(self, frame: FrameInput) -> None:
        """Score the frame now (final at once: nothing later changes it) and run the event rule on it."""
        if self._epoch is not None and frame.epoch != self._epoch:
            self._emit_phases(self.events.close())  # a highlight never spans a reconnect
            self.ring.gap(f"epoch {self._epoch} -> {frame.epoch}")
            self._cuts.clear()
            self._activity = 0.0
        self._epoch = frame.epoch
        index = self._next
        self._next += 1
        self.ring.push(frame.node, index, frame.media_time)
        graph = float(np.clip(np.asarray(self.window_fn(self.ring.peek().nodes), np.float64).ravel()[-1], 0, 1))
        self.windows += 1
        w = self.cfg.activity_weight
        score = w * self._scene_activity(frame) + (1.0 - w) * graph
        match = max(frame.query_match.values(), default=0.0)
        score = float(np.clip(score + self.cfg.query_boost * match * (1.0 - score), 0.0, 1.0))
        self.on_score(ScoreEvent(frame.media_time, score, True))
        if frame.thumbnail is not None:
            self._thumbs.append((frame.media_time, frame.thumbnail))
        activity = FrameActivity(frame.media_time, score, Counter(frame.labels), dict(frame.query_match))
        self._emit_phases(self.events.push(activity, frame.epoch))

    def _scene_activity(self, frame: FrameInput) -> float:
        """The activity half of the score: presence and moving presence on a fixed camera, the
        camera-compensated difference on edited video, the last value on a cut (a cut tells nothing
        about what happens in either shot)."""
        cfg = self.cfg
        if frame.cut:
            self._cuts.append(frame.media_time)
        while self._cuts and frame.media_time - self._cuts[0] > cfg.edited_window_s:
            self._cuts.popleft()
        if not frame.cut:
            if self.edited:
                self._activity = frame.steady_motion
            else:
                self._activity = max((1.0 - cfg.motion_gain) * frame.activity, frame.motion)
        return self._activity

    @property
    def edited(self) -> bool:
        """True while the recent cut rate says the input is edited video, not a fixed camera."""
        return 0 < self.cfg.edited_cuts <= len(self._cuts)

    def _emit_phases(self, phases: list[HighlightPhase]) -> None:
        for p in phases:
            if p.phase == "end":
                self.highlights += 1
            thumb = min(self._thumbs, key=lambda item: abs(item[0] - (p.start + p.end) / 2), default=(0.0, None))[1]
            self.on_highlight(
                HighlightEvent(
                    start=p.start, end=p.end, score=p.score, objects=p.objects, query=p.query, thumbnail=thumb,
                    epoch=p.epoch, id=p.id, phase=p.phase, emitted_at=p.emitted_at,
                )
            )

    # -- scores -------------------------------------------------------------------
    def _boost(self, index: int, score: float) -> float:
        match = max(self._frames[index].query_match.values(), default=0.0)
        return float(np.clip(score + self.cfg.query_boost * match * (1.0 - score), 0.0, 1.0))

    def _score_window(self, window=None) -> None:
        window = window if window is not None else self.ring.window()
        if len(window) == 0:
            return
        scores = np.clip(np.asarray(self.window_fn(window.nodes), dtype=np.float64).ravel(), 0.0, 1.0)
        self.windows += 1
        self.fusion.add_window(int(window.frame_indices[0]), scores)
        if self.cfg.provisional_scores:
            for index in window.frame_indices:
                index = int(index)
                fused = self.fusion.score(index)
                frame = self._frames.get(index)
                if fused is not None and frame is not None and frame.final_score is None:
                    self.on_score(ScoreEvent(frame.media_time, self._boost(index, fused), False))

    def _early_score(self, index: int) -> None:
        """A first provisional score for the newest frame, from a window over the ring that is not fused."""
        window = self.ring.peek()
        newest = float(np.clip(np.asarray(self.window_fn(window.nodes), dtype=np.float64).ravel()[-1], 0.0, 1.0))
        self.on_score(ScoreEvent(self._frames[index].media_time, self._boost(index, newest), False))

    def _finalize(self, left: list[FrameSlot]) -> None:
        if not left:
            return
        for item in self.fusion.pop_final(left[-1].frame_index + 1):
            frame = self._frames.get(item.index)
            if frame is None or frame.final_score is not None:
                continue
            frame.final_score = self._boost(item.index, item.score)
            self.on_score(ScoreEvent(frame.media_time, frame.final_score, True))
        self._forget_done()

    def _finish_epoch(self, end: EpochEnd) -> None:
        if end.tail_window is not None:
            self._score_window(end.tail_window)
        self._finalize(end.left)

    def _score_now(self, index: int) -> float | None:
        frame = self._frames[index]
        if frame.final_score is not None:
            return frame.final_score
        fused = self.fusion.score(index)
        return None if fused is None else self._boost(index, fused)

    # -- shots --------------------------------------------------------------------
    def _cut(self, starts: list[int]) -> None:
        """End the open shot before each new shot start the cutter committed (in its own frame count)."""
        for start in starts:
            index = self._cut_origin + start
            head = [i for i in self._open.indices if i < index]
            if head:
                self._pending.append(_Shot(head))
            self._open = _Shot([i for i in self._open.indices if i >= index])

    def _end_shot(self) -> None:
        if self._open.indices:
            self._pending.append(self._open)
        self._open = _Shot()

    def _decide_ready_shots(self, force: bool = False) -> None:
        while self._pending:
            shot = self._pending[0]
            scores = [self._score_now(i) for i in shot.indices]
            if any(s is None for s in scores) and not force:
                return
            self._pending.popleft()
            known = [s for s in scores if s is not None]
            if known:
                self._undecided[shot.indices[0]] = shot
                self._apply(self.budget.add(shot.indices[0], shot.indices[-1], float(np.mean(known)), self._look(shot)))
            else:
                self._release(shot)
        self._forget_done()

    def _look(self, shot: _Shot) -> np.ndarray | None:
        """The shot's mean appearance, when every frame of it has one."""
        looks = [self._frames[i].appearance for i in shot.indices]
        return None if any(look is None for look in looks) else np.mean(looks, axis=0)

    def _apply(self, decisions: list[ShotDecision]) -> None:
        for decision in decisions:
            shot = self._undecided.pop(decision.start)
            log.debug("shot %d-%d score %.3f -> %s", decision.start, decision.end, decision.score, decision.highlight)
            if decision.highlight:
                self._emit(shot, decision.score)
            self._release(shot)

    def _release(self, shot: _Shot) -> None:
        for index in shot.indices:
            self._frames[index].thumbnail = None

    def _emit(self, shot: _Shot, score: float) -> None:
        frames = [self._frames[i] for i in shot.indices]
        objects: Counter = Counter()
        for frame in frames:  # the most of each label seen at once in the shot
            for label, count in frame.labels.items():
                objects[label] = max(objects[label], count)
        query = self._matched_query(frames)
        middle = frames[len(frames) // 2]
        self.highlights += 1
        # a knapsack highlight is decided whole: its start and its end go out together
        ident = uuid.uuid4().hex[:16]
        self.on_highlight(
            HighlightEvent(
                start=frames[0].media_time,
                end=frames[-1].media_time + self.frame_s,
                score=score,
                objects=dict(objects.most_common(self.cfg.top_objects)),
                query=query,
                thumbnail=middle.thumbnail,
                epoch=frames[0].epoch,
                id=ident,
                phase="end",
                emitted_at=max(f.media_time for f in self._frames.values()),
            )
        )

    def _matched_query(self, frames: list[_Frame]) -> str | None:
        totals: Counter = Counter()
        for frame in frames:
            for query, strength in frame.query_match.items():
                totals[query] += strength
        if not totals:
            return None
        query, total = totals.most_common(1)[0]
        return query if total / len(frames) >= 0.25 else None

    def _forget_done(self) -> None:
        """Drop frames whose score is final and whose shot is decided (bounded memory)."""
        shots = [*self._pending, *self._undecided.values(), self._open]
        waiting = {i for shot in shots for i in shot.indices}
        for index in [i for i, f in self._frames.items() if f.final_score is not None and i not in waiting]:
            del self._frames[index]
