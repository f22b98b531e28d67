"""Do highlights land on the moments that matter? Event-level metrics for one clip, pooled over clips.

The events benchmark (`../shared/data/events/ground_truth.json`) marks, per clip, the
events (something meaningful visible and happening; they may overlap) and the quiet
intervals (clearly nothing of note). Time that is neither is ordinary activity and
counts for nothing, so a highlight there is neither rewarded nor punished as a
detection, and a frame there is left out of the score AUC.

A highlight and an event "touch" when their intervals overlap once each is widened by
`tolerance_s` (0.5 s: the annotation's own accuracy where it is worst), so a highlight
that stops 0.3 s before a car enters still counts. Pooling sums counts over clips
before dividing (a clip with one event must not weigh as much as one with six), except
the AUC, which only compares frames within one clip (scores of different scenes are
not on one scale) and is averaged over clips.

Pure numpy: the evaluator runs next to the live pipeline, without torch or scipy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from vgsum.models.data.events import ClipTruth, load_ground_truth

TOLERANCE_S = 0.5
SECONDS_PER_HOUR = 3600.0

Interval = tuple[float, float]


@dataclass(frozen=True)
class Highlight:
    """One highlight as a subscriber saw it: its span and the media time its first message went out."""

    start: float
    end: float
    alert_t: float


@dataclass(frozen=True)
class Spans:
    """What the metrics need of a clip's ground truth: events (may overlap), quiet intervals, duration."""

    events: tuple[Interval, ...]
    quiet: tuple[Interval, ...]
    duration: float

    @classmethod
    def of(cls, truth: ClipTruth) -> Spans:
        """From a validated annotation (`vgsum.models.data.events`)."""
        return cls(
            events=tuple((float(s), float(e)) for s, e, _ in truth.events),
            quiet=tuple((float(s), float(e)) for s, e in truth.quiet),
            duration=float(truth.duration_s),
        )


def load_spans(path: Path | str, clips_dirs: Sequence[Path | str] | None = None) -> dict[str, Spans]:
    """Every clip of a ground-truth file, by file name, validated by the one loader of annotations."""
    return {name: Spans.of(truth) for name, truth in load_ground_truth(path, clips_dirs).items()}


@dataclass
class ClipResult:
    """One clip's event metrics; the counts are kept so that `pool` can sum before dividing."""

    duration_s: float
    events: int
    detected: int  # events touched by at least one highlight
    highlights: int
    true_highlights: int  # highlights touching at least one event
    false_highlights: int  # highlights touching no event
    quiet_hours: float
    highlight_s: float  # seconds inside at least one highlight (within the clip)
    recall: float | None  # None without events
    precision: float | None  # None without highlights
    false_per_quiet_hour: float | None  # None without quiet time
    auc: float | None  # None when event or quiet frames are missing
    highlight_share: float | None  # None for a clip of zero duration
    latencies_s: list[float] = field(default_factory=list)  # one per detected event

    def to_json(self) -> dict:
        """Plain JSON types only (floats, ints, None, lists): `json.dumps` takes it as is."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ClipResult:
        """The inverse of `to_json`."""
        return cls(**data)


def touches(a: Interval, b: Interval, tolerance_s: float = TOLERANCE_S) -> bool:
    """True when [a0, a1] and [b0, b1] overlap once one of them is widened by `tolerance_s` on each side.

    So the gap between them may be up to `tolerance_s`: with 0.5 s, a highlight ending
    0.4 s before an event starts touches it, one ending 0.6 s before does not.
    """
    return a[0] <= b[1] + tolerance_s and b[0] <= a[1] + tolerance_s


def union_length(intervals: Iterable[Interval], lo: float, hi: float) -> float:
    """Seconds of [lo, hi] covered by at least one interval (overlaps counted once)."""
    clipped = sorted((max(s, lo), min(e, hi)) for s, e in intervals if min(e, hi) > max(s, lo))
    total, cur_start, cur_end = 0.0, None, None
    for s, e in clipped:
        if cur_end is None or s > cur_end:
            if cur_end is not None:
                total += cur_end - cur_start
            cur_start, cur_end = s, e
        else:
            cur_end = max(cur_end, e)
    if cur_end is not None:
        total += cur_end - cur_start
    return total


def inside_any(times: np.ndarray, intervals: Sequence[Interval]) -> np.ndarray:
    """True for each time within any closed interval [start, end]."""
    mask = np.zeros(len(times), bool)
    for start, end in intervals:
        mask |= (times >= start) & (times <= end)
    return mask


def roc_auc(positive: np.ndarray, negative: np.ndarray) -> float | None:
    """P(a random positive scores above a random negative), ties counted half; None when a class is empty.

    Mann-Whitney U from average ranks: U = (sum of the positives' ranks) - n_pos (n_pos + 1) / 2.
    """
    positive = np.asarray(positive, np.float64).ravel()
    negative = np.asarray(negative, np.float64).ravel()
    n_pos, n_neg = len(positive), len(negative)
    if n_pos == 0 or n_neg == 0:
        return None
    values = np.concatenate([positive, negative])
    if not np.all(np.isfinite(values)):
        raise ValueError("scores must be finite")
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    # Tied values share the mean of the ranks they occupy: last rank of the group minus (count - 1) / 2.
    mean_rank = np.cumsum(counts) - (counts - 1) / 2.0
    ranks = mean_rank[inverse.ravel()]
    u = ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def score_auc(truth: Spans, times: np.ndarray, scores: np.ndarray) -> float | None:
    """AUC of the per-frame score, event frames against quiet frames; frames in neither (or both) are left out."""
    times = np.asarray(times, np.float64)
    scores = np.asarray(scores, np.float64)
    if times.shape != scores.shape or times.ndim != 1:
        raise ValueError(f"times and scores must be 1-d of one length, got {times.shape} and {scores.shape}")
    in_event = inside_any(times, truth.events)
    in_quiet = inside_any(times, truth.quiet)
    return roc_auc(scores[in_event & ~in_quiet], scores[in_quiet & ~in_event])


def evaluate_clip(
    truth: Spans,
    times: np.ndarray,
    scores: np.ndarray,
    highlights: Sequence[Highlight],
    tolerance_s: float = TOLERANCE_S,
) -> ClipResult:
    """All event metrics of one clip: the score trace (final per-frame scores) and the highlights against the truth."""
    touched_by = [[h for h in highlights if touches((h.start, h.end), event, tolerance_s)] for event in truth.events]
    detected = [hits for hits in touched_by if hits]
    # The first highlight to touch an event is the first alert about it; it may precede the event (tolerance).
    latencies = [
        max(0.0, min(h.alert_t for h in hits) - event[0])
        for event, hits in zip(truth.events, touched_by, strict=True)
        if hits
    ]
    true_count = sum(any(touches((h.start, h.end), e, tolerance_s) for e in truth.events) for h in highlights)
    false_count = len(highlights) - true_count
    quiet_hours = union_length(truth.quiet, 0.0, truth.duration) / SECONDS_PER_HOUR
    highlight_s = union_length(((h.start, h.end) for h in highlights), 0.0, truth.duration)
    return ClipResult(
        duration_s=float(truth.duration),
        events=len(truth.events),
        detected=len(detected),
        highlights=len(highlights),
        true_highlights=true_count,
        false_highlights=false_count,
        quiet_hours=quiet_hours,
        highlight_s=highlight_s,
        recall=len(detected) / len(truth.events) if truth.events else None,
        precision=true_count / len(highlights) if highlights else None,
        false_per_quiet_hour=false_count / quiet_hours if quiet_hours > 0 else None,
        auc=score_auc(truth, times, scores),
        highlight_share=highlight_s / truth.duration if truth.duration > 0 else None,
        latencies_s=[float(x) for x in latencies],
    )


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def pool(results: Iterable[ClipResult]) -> dict:
    """Metrics over many clips: counts summed before dividing, AUC averaged over clips where defined.

    Latency percentiles are over every detected event of every clip (None without any).
    """
    results = list(results)
    events = sum(r.events for r in results)
    detected = sum(r.detected for r in results)
    highlights = sum(r.highlights for r in results)
    true_highlights = sum(r.true_highlights for r in results)
    false_highlights = sum(r.false_highlights for r in results)
    quiet_hours = sum(r.quiet_hours for r in results)
    duration = sum(r.duration_s for r in results)
    highlight_s = sum(r.highlight_s for r in results)
    aucs = [r.auc for r in results if r.auc is not None and not math.isnan(r.auc)]
    latencies = np.array([x for r in results for x in r.latencies_s], np.float64)
    return {
        "clips": len(results),
        "events": events,
        "detected": detected,
        "recall": _ratio(detected, events),
        "highlights": highlights,
        "true_highlights": true_highlights,
        "false_highlights": false_highlights,
        "precision": _ratio(true_highlights, highlights),
        "quiet_hours": quiet_hours,
        "false_per_quiet_hour": _ratio(false_highlights, quiet_hours),
        "auc_mean": float(np.mean(aucs)) if aucs else None,
        "auc_min": float(np.min(aucs)) if aucs else None,
        "auc_clips": len(aucs),
        "latency_p50_s": float(np.percentile(latencies, 50)) if len(latencies) else None,
        "latency_p95_s": float(np.percentile(latencies, 95)) if len(latencies) else None,
        "duration_s": duration,
        "highlight_s": highlight_s,
        "highlight_share": _ratio(highlight_s, duration),
    }
