"""The camera strategy (`selection: events`): a final score per frame, a highlight per stretch of activity.

Each frame is scored on arrival: the newest frame's score from `refiner.window` over
the ring (the graph half) mixed with the scene's activity (`activity_weight` of it),
lifted by a query match. Nothing later changes it, so it goes out final at once, and
`EventTracker` (events.py) turns the scores into highlights with a start, updates and
an end.

The activity half is presence and moving presence on a fixed camera; on edited video
(`edited_cuts` cuts within `edited_window_s`) it is the camera-compensated frame
difference, since no shot lasts long enough for a background to settle; a cut frame
keeps the last value (a cut tells nothing about what happens in either shot).
"""

from __future__ import annotations

from collections import Counter, deque

import numpy as np

from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.events import EventTracker, FrameActivity, HighlightPhase
from vgsum.runtime.summary.summarizer import FrameInput, HighlightEvent, ScoreEvent, StreamSummarizer

RECENT_THUMBNAILS = 8  # a highlight's picture is the recent frame nearest its middle


class EventSummarizer(StreamSummarizer):
    """Scores final on arrival; highlights by the event rule."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.events = EventTracker(self.cfg.events, self.frame_s, self.cfg.top_objects)
        self._next = 0  # frame counter: ring slots
        self._thumbs: deque[tuple[float, np.ndarray]] = deque(maxlen=RECENT_THUMBNAILS)
        self._cuts: deque[float] = deque()  # media times of recent new scenes
        self._activity = 0.0  # the last frame's activity signal

    def add(self, frame: FrameInput) -> None:
        """Score the frame now (final at once: nothing later changes it) and run the event rule on it."""
        index = self._next
        self._next += 1
        self.ring.push(frame.node, index, frame.media_time)
        graph = float(np.clip(np.asarray(self.window_fn(self.ring.peek().nodes), np.float64).ravel()[-1], 0, 1))
        self.windows += 1
        w = self.cfg.activity_weight
        score = self._boost(w * self._scene_activity(frame) + (1.0 - w) * graph, frame.query_match)
        self.on_score(ScoreEvent(frame.media_time, score, True))
        if frame.thumbnail is not None:
            self._thumbs.append((frame.media_time, frame.thumbnail))
        activity = FrameActivity(
            frame.media_time, score, Counter(frame.labels), dict(frame.query_match), frame.zones, frame.may_start,
            frame.looks,
        )
        self._emit_phases(self.events.push(activity, frame.epoch))

    def gap(self, reason: str) -> None:
        """End the open highlight (it never spans a break) and start the activity signal afresh."""
        self._emit_phases(self.events.close())
        self.ring.gap(reason)
        self._cuts.clear()
        self._activity = 0.0

    def reconfigure(self, cfg: SummaryConfig) -> None:
        """New rule and mix from the next frame on; an open highlight keeps going under the new rule."""
        super().reconfigure(cfg)
        self.events.cfg = cfg.events
        self.events.top_objects = cfg.top_objects

    def finish(self) -> None:
        """End the open highlight."""
        self._emit_phases(self.events.close())

    @property
    def edited(self) -> bool:
        """True while the recent cut rate says the input is edited video, not a fixed camera."""
        return 0 < self.cfg.edited_cuts <= len(self._cuts)

    def _scene_activity(self, frame: FrameInput) -> float:
        """The activity half of the score (see the module docstring)."""
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

    def _emit_phases(self, phases: list[HighlightPhase]) -> None:
        for p in phases:
            if p.phase == "end":
                self.highlights += 1
            thumb = min(self._thumbs, key=lambda item: abs(item[0] - (p.start + p.end) / 2), default=(0.0, None))[1]
            self.on_highlight(
                HighlightEvent(
                    start=p.start, end=p.end, score=p.score, objects=p.objects, query=p.query, thumbnail=thumb,
                    epoch=p.epoch, id=p.id, phase=p.phase, emitted_at=p.emitted_at, zones=p.zones,
                    looks=p.looks,
                )
            )
