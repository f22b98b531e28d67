"""The edited-video strategy (`selection: knapsack`): the field's summary, live.

- every frame's node vector goes into the ring of the last W frames; every S frames
  the window function scores the ring, and the scores are fused per frame (weights
  highest near a window's centre);
- a frame's score is *provisional* while the frame is in the ring and *final* when it
  leaves (or the epoch closes); final scores are sent once and never change;
- a user query raises the score of frames whose objects match it;
- shots are cut from the frame feature by KTS run on the stream (runtime/summary/shot_kts.py):
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
from dataclasses import dataclass, field

import numpy as np

from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.fusion import ScoreFusion
from vgsum.runtime.summary.shot_kts import KernelShotCutter
from vgsum.runtime.summary.shots import LookaheadSelector, OnlineShotDetector, ShotDecision, unit_vector
from vgsum.runtime.summary.summarizer import FrameInput, HighlightEvent, ScoreEvent, StreamSummarizer
from vgsum.runtime.summary.window import EpochEnd, FrameSlot

log = logging.getLogger(__name__)


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


class KnapsackSummarizer(StreamSummarizer):
    """Fused provisional and final scores; shots chosen by the look-ahead knapsack."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fusion = ScoreFusion()
        self.shots = shot_cutter(self.cfg, self.sample_fps)
        self._cut_origin = 0  # the frame index the cutter counts from (it restarts with each epoch)
        self.budget = shot_selector(self.cfg, self.sample_fps)
        self._frames: dict[int, _Frame] = {}  # frames not yet both final and decided
        self._open = _Shot()
        self._pending: deque[_Shot] = deque()  # ended shots waiting for window scores
        self._undecided: dict[int, _Shot] = {}  # scored shots the selector still looks ahead over, by first index
        self._next = 0  # contiguous frame counter: fusion and ring indices

    # -- per frame ----------------------------------------------------------------
    def add(self, frame: FrameInput) -> None:
        """Take one frame in stream order."""
        index = self._next
        self._next += 1
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

    def gap(self, reason: str) -> None:
        """The open shot ends and the epoch's last scores go final: neither a shot nor a window spans the break."""
        self._cut(self.shots.flush())
        self._end_shot()
        self._finish_epoch(self.ring.gap(reason))
        self.shots, self._cut_origin = shot_cutter(self.cfg, self.sample_fps), self._next

    def finish(self) -> None:
        """End of stream: score what no window saw, make every score final, decide every shot."""
        self._cut(self.shots.flush())
        self._end_shot()
        self._finish_epoch(self.ring.close())
        self._decide_ready_shots(force=True)
        self._apply(self.budget.flush())
        self._forget_done()

    # -- scores -------------------------------------------------------------------
    def _boost_frame(self, index: int, score: float) -> float:
        return self._boost(score, self._frames[index].query_match)

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
                    self.on_score(ScoreEvent(frame.media_time, self._boost_frame(index, fused), False))

    def _early_score(self, index: int) -> None:
        """A first provisional score for the newest frame, from a window over the ring that is not fused."""
        window = self.ring.peek()
        newest = float(np.clip(np.asarray(self.window_fn(window.nodes), dtype=np.float64).ravel()[-1], 0.0, 1.0))
        self.on_score(ScoreEvent(self._frames[index].media_time, self._boost_frame(index, newest), False))

    def _finalize(self, left: list[FrameSlot]) -> None:
        if not left:
            return
        for item in self.fusion.pop_final(left[-1].frame_index + 1):
            frame = self._frames.get(item.index)
            if frame is None or frame.final_score is not None:
                continue
            frame.final_score = self._boost_frame(item.index, item.score)
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
        return None if fused is None else self._boost_frame(index, fused)

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
