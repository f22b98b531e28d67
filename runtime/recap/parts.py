"""Stored highlights as candidate parts: where in its clip each one's best stretch lies, in wall time.

A highlight's clip starts at the keyframe at or before the highlight and ends with
it, so clip time 0 is stream time `end - clip length`, and a stream's wall clock
is `wall_start - start`. A part is `length` seconds of the clip starting on a
keyframe (so it can be copied without re-encoding), placed where the stream's
stored per-second scores are highest: the moment the model found mattered most,
not the lead-in or the tail of the highlight.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from vgsum.runtime.recap.clips import ClipIndex
from vgsum.runtime.store.reader import HighlightRow
from vgsum.stream.sampler import DEFAULT_SAMPLE_FPS

MIN_SHOWN_S = 1.5  # a part skips its clip's lead-in only when at least this much of the highlight is left
START_SLACK_S = 0.25  # a keyframe this close before the highlight's start counts as at it
TAIL_SHARE = 0.6  # a part ends TAIL_PAD_S after its last stored score at this share of its peak
TAIL_PAD_S = 1.0 / DEFAULT_SAMPLE_FPS  # one sampling interval: the frame after the last strong one


@dataclass(frozen=True)
class Timeline:
    """One stream's stored final scores: wall times (s) and scores, in time order."""

    wall: np.ndarray
    score: np.ndarray

    def mean(self, start: float, end: float) -> float | None:
        """Mean score over [start, end) in wall time; None where nothing was stored."""
        lo, hi = np.searchsorted(self.wall, [start, end])
        return float(self.score[lo:hi].mean()) if hi > lo else None

    def peak(self, start: float, end: float) -> float | None:
        """Wall time of the highest score in [start, end); None where nothing was stored."""
        lo, hi = np.searchsorted(self.wall, [start, end])
        return float(self.wall[lo + int(np.argmax(self.score[lo:hi]))]) if hi > lo else None


@dataclass(frozen=True)
class Candidate:
    """A highlight, its clip's index, and the part of the clip a recap would show."""

    row: HighlightRow
    clip: ClipIndex
    anchor: float  # wall time of clip time 0
    starts_at: float  # clip time of the highlight's start (the clip begins at the keyframe before it)
    peak_at: float  # clip time of the highlight's highest stored score (its middle when none was stored)
    clip_from: float = 0.0  # the part, in clip seconds; `clip_from` is a keyframe
    clip_to: float = 0.0

    @property
    def stream_id(self) -> str:
        return self.row.stream_id

    @property
    def duration(self) -> float:
        return self.clip_to - self.clip_from

    @property
    def wall_from(self) -> float:
        return self.anchor + self.clip_from

    @property
    def wall_to(self) -> float:
        return self.anchor + self.clip_to


def candidate(row: HighlightRow, clip: ClipIndex, timeline: Timeline | None) -> Candidate:
    """The highlight with its clip placed on the wall clock and its peak found; no part chosen yet."""
    origin = row.end - clip.duration  # stream time of the clip's first frame
    anchor = row.wall_start - row.start + origin
    start_in_clip = max(0.0, row.start - origin)
    peak_wall = None if timeline is None else timeline.peak(row.wall_start, row.wall_end + 1.0)
    peak_at = (start_in_clip + clip.duration) / 2 if peak_wall is None else peak_wall - anchor
    return Candidate(row, clip, anchor, start_in_clip, float(np.clip(peak_at, 0.0, clip.duration)))


def place(c: Candidate, length: float, timeline: Timeline | None, shortest: float = 4.0) -> Candidate:
    """The part of at most `length` s starting on a keyframe where the stored scores are highest.

    A part starts at or after the highlight's own start when a keyframe there leaves
    at least `MIN_SHOWN_S` of it: the clip's lead-in before the highlight (up to a
    GOP of an empty scene) is skipped. Only a highlight too short for that starts on
    the keyframe before it. Without scores, the part starts at the last allowed
    keyframe at or before the peak's lead-in (a third of the part before it). With
    scores, its end comes back to where they fall away (`_trim_tail`), never making
    it shorter than `shortest`.
    """
    clip = c.clip
    inside = clip.keyframes[(clip.keyframes >= c.starts_at - START_SLACK_S)
                            & (clip.keyframes <= clip.duration - MIN_SHOWN_S)]
    if len(inside):
        starts = inside[inside <= max(float(inside[0]), clip.duration - length)]
    else:
        before = clip.keyframes[clip.keyframes <= c.starts_at + START_SLACK_S]
        starts = before[-1:] if len(before) else clip.keyframes[:1]
    best_start, best = float(starts[0]), None
    if timeline is not None:
        for k in starts:
            mean = timeline.mean(c.anchor + k, c.anchor + min(k + length, clip.duration))
            if mean is not None and (best is None or mean > best + 1e-9):
                best_start, best = float(k), mean
    if best is None:
        lead_in = c.peak_at - length / 3
        before = starts[starts <= max(lead_in, float(starts[0]))]
        best_start = float(before[-1]) if len(before) else float(starts[0])
    end = min(best_start + length, clip.duration)
    if timeline is not None:
        end = _trim_tail(timeline, c.anchor, best_start, end, shortest)
    return replace(c, clip_from=best_start, clip_to=end)


def _trim_tail(timeline: Timeline, anchor: float, start: float, end: float, shortest: float) -> float:
    """The part's end moved back to TAIL_PAD_S after its last score at TAIL_SHARE of its peak (not below `shortest`).

    A highlight can stay open on a weak signal after what made it (a shadow that lingers
    until the background learns it): the recap shows the moment, not that tail.
    """
    lo, hi = np.searchsorted(timeline.wall, [anchor + start, anchor + end])
    if hi <= lo:
        return end
    scores = timeline.score[lo:hi]
    strong = np.nonzero(scores >= TAIL_SHARE * scores.max())[0]
    last = float(timeline.wall[lo + strong[-1]]) - anchor + TAIL_PAD_S
    return float(np.clip(last, min(start + shortest, end), end))


def clip_path(row: HighlightRow) -> Path | None:
    """The highlight's clip file as stored, or None when it kept none."""
    return Path(row.clip) if row.clip else None
