"""Camera highlights: one per stretch of activity, announced when it starts, updated, ended with its span.

A camera owner wants to hear within seconds that something is happening, to follow
it while it lasts, and to hear nothing while nothing happens. So, per stream and on
each frame's score as it arrives (no look-ahead):

- a highlight **starts** once the score has stayed at or above `start_above` for `min_s`; its
  span reaches back over the frames just before that were already above `end_below` (at most `max_s`);
- while it lasts it sends an **update** every `update_s` with its span so far;
- it **ends** when the score has stayed below `end_below` for `end_s` (a short dip does not
  split one visit into two), or at `max_s`, or when the stream breaks (a reconnect,
  the end of a file, a stop); the end carries the final span, the peak score, the
  most of each object seen at once and the matched query;
- at most `max_per_min` highlights start per minute (the rest are counted, not sent),
  so a scene that flickers cannot flood subscribers;
- where a camera requires zones, a highlight starts only once a frame of its run had
  activity or an object in one of them (`FrameActivity.may_start`).

Two thresholds (hysteresis) keep a score that hovers near one bar from toggling.
"""

from __future__ import annotations

import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Phase = Literal["start", "update", "end"]
MAX_LOOKS = 32  # distinct object looks a highlight keeps for history search
# A highlight names the query that matched most over its frames, once that query matched on this mean strength
# per frame ... or on at least NAMED_FRAMES frames: a car that crosses for 2 s of a minute-long highlight is still
# in it, and the object filter has already dropped one-frame detector noise.
NAMED_MEAN = 0.25
NAMED_FRAMES = 2


class EventRuleConfig(BaseModel):
    """When a stretch of activity becomes a highlight; times in seconds of stream time."""

    model_config = ConfigDict(extra="forbid")

    start_above: float = Field(0.6, gt=0, le=1, description="a highlight starts once the score stays at or above this")
    min_s: float = Field(0.5, ge=0, le=30, description="for this long (0: on the first frame above)")
    end_below: float = Field(0.4, ge=0, le=1, description="it ends once the score stays below this")
    end_s: float = Field(3.0, ge=0, le=120, description="for this long; shorter dips stay inside one highlight")
    update_s: float = Field(5.0, gt=0, le=600, description="an update message this often while it lasts")
    max_s: float = Field(90.0, gt=0, le=3600, description="a longer stretch is split (each part gets its clip)")
    max_per_min: int = Field(6, ge=1, le=600, description="at most this many highlights start per minute")

    @model_validator(mode="after")
    def _check(self) -> EventRuleConfig:
        if self.end_below > self.start_above:
            raise ValueError("events.end_below must not exceed events.start_above")
        return self

    def latency_s(self) -> float:
        """How long before its end message a highlight's first frame can lie (its packets are kept that long)."""
        return self.max_s + self.end_s + self.min_s


@dataclass
class FrameActivity:
    """One frame as the rule sees it."""

    t: float
    score: float
    labels: Counter = field(default_factory=Counter)
    query_match: dict[str, float] = field(default_factory=dict)
    zones: frozenset[str] = frozenset()  # the camera's zones its objects or activity were in
    may_start: bool = True  # False while the stream requires a zone this frame is in none of
    looks: frozenset[tuple] = frozenset()  # what its counted objects looked like (label, colour, kind, moving)


@dataclass
class HighlightPhase:
    """A message in a highlight's life: `start`, `update`s, one `end` (with the final span)."""

    id: str
    phase: Phase
    start: float
    end: float
    score: float  # the peak so far
    objects: dict[str, int]
    query: str | None
    emitted_at: float  # the stream time of the frame that caused it
    epoch: int = 0
    zones: list[str] = field(default_factory=list)  # every zone its objects or activity were in so far
    looks: list[tuple] = field(default_factory=list)  # what its objects looked like so far (at most MAX_LOOKS)


@dataclass
class _Open:
    id: str
    start: float
    last_active: float  # the last frame at or above `end_below`
    score: float
    objects: Counter
    query_totals: Counter
    frames: int
    next_update: float
    epoch: int
    query_frames: Counter = field(default_factory=Counter)  # frames on which each query matched
    zones: set[str] = field(default_factory=set)
    looks: dict[tuple, None] = field(default_factory=dict)  # ordered set: the first looks are kept


class EventTracker:
    """The rule above for one stream; not thread-safe (the stream's pipeline thread owns it)."""

    def __init__(self, cfg: EventRuleConfig, frame_s: float, top_objects: int = 5) -> None:
        self.cfg = cfg
        self.frame_s = frame_s
        self.top_objects = top_objects
        self._recent: deque[FrameActivity] = deque()  # frames since the last one below `end_below`, before a start
        self._open: _Open | None = None
        self._starts: deque[float] = deque()  # start times within the last minute
        self.suppressed = 0  # starts over the rate limit
        self.started = 0

    @property
    def active(self) -> bool:
        """True while a highlight is open."""
        return self._open is not None

    def push(self, frame: FrameActivity, epoch: int = 0) -> list[HighlightPhase]:
        """Take the next frame of the stream; return the messages it causes, in order."""
        out: list[HighlightPhase] = []
        above_off = frame.score >= self.cfg.end_below
        if self._open is not None:
            h = self._open
            if above_off:
                self._extend(h, frame)
            if frame.t - h.last_active >= self.cfg.end_s or frame.t - h.start >= self.cfg.max_s:
                out.append(self._end(frame.t))
            elif frame.t >= h.next_update:
                h.next_update = frame.t + self.cfg.update_s
                out.append(self._phase(h, "update", frame.t))
            if self._open is not None or not above_off:
                return out
        if not above_off:
            self._recent.clear()
            return out
        self._recent.append(frame)
        while frame.t - self._recent[0].t > self.cfg.max_s:  # no span is longer: a lukewarm hour is not kept whole
            self._recent.popleft()
        run = list(self._recent)
        strong = 0.0
        for f in reversed(run):  # how long the score has stayed at or above `start_above` up to now
            if f.score < self.cfg.start_above:
                break
            strong = frame.t - f.t
        if frame.score >= self.cfg.start_above and strong + 1e-9 >= self.cfg.min_s and any(f.may_start for f in run):
            out.extend(self._start(run, frame.t, epoch))
        return out

    def close(self, t: float | None = None) -> list[HighlightPhase]:
        """The stream broke or ended: end the open highlight (at its last active frame)."""
        self._recent.clear()
        if self._open is None:
            return []
        return [self._end(self._open.last_active if t is None else t)]

    # -- helpers --------------------------------------------------------------------
    def _start(self, run: list[FrameActivity], now: float, epoch: int) -> list[HighlightPhase]:
        self._recent.clear()
        while self._starts and now - self._starts[0] >= 60.0:
            self._starts.popleft()
        if len(self._starts) >= self.cfg.max_per_min:
            self.suppressed += 1
            return []
        self._starts.append(now)
        self.started += 1
        h = _Open(uuid.uuid4().hex[:16], run[0].t, run[0].t, 0.0, Counter(), Counter(), 0,
                  now + self.cfg.update_s, epoch)
        for f in run:
            self._extend(h, f)
        self._open = h
        return [self._phase(h, "start", now)]

    def _extend(self, h: _Open, frame: FrameActivity) -> None:
        h.last_active = frame.t
        h.score = max(h.score, frame.score)
        h.frames += 1
        for label, count in frame.labels.items():
            h.objects[label] = max(h.objects[label], count)
        h.query_totals.update(frame.query_match)
        h.query_frames.update(q for q, strength in frame.query_match.items() if strength > 0)
        h.zones |= frame.zones
        for look in frame.looks:
            if len(h.looks) >= MAX_LOOKS:
                break
            h.looks.setdefault(look, None)

    def _end(self, now: float) -> HighlightPhase:
        h = self._open
        assert h is not None
        self._open = None
        return self._phase(h, "end", now)

    def _phase(self, h: _Open, phase: Phase, now: float) -> HighlightPhase:
        query = None
        if h.query_totals:
            best, total = h.query_totals.most_common(1)[0]
            named = total / max(h.frames, 1) >= NAMED_MEAN or h.query_frames[best] >= NAMED_FRAMES
            query = best if named else None
        return HighlightPhase(
            id=h.id,
            phase=phase,
            start=h.start,
            end=max(h.last_active + self.frame_s, h.start + self.frame_s),
            score=float(min(max(h.score, 0.0), 1.0)),
            objects=dict(h.objects.most_common(self.top_objects)),
            query=query,
            emitted_at=now,
            epoch=h.epoch,
            zones=sorted(h.zones),
            looks=list(h.looks),
        )
