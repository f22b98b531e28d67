"""How well a recap covers a day: scored from its parts' wall-time spans against hand-made events.

- **event coverage**: the share of distinct events (a repeat of the same source event
  counts once) with a part on one of its occurrences;
- **kind coverage**: the share of event kinds with a covered event;
- **quiet share**: the share of recap time on annotated quiet (time neither event nor
  quiet, such as the seconds around an event, counts as neither, as in events/README.md);
- **repeat share**: the share of recap time on an event occurrence whose distinct event
  an earlier part already showed (time spent telling the day something it was told).

A part covers an occurrence when it overlaps it by at least `MIN_OVERLAP_S` (or half the
occurrence, when that is shorter).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

MIN_OVERLAP_S = 1.0


class TruthEvent(Protocol):
    wall_start: float
    wall_end: float
    kind: str
    distinct_id: str


class TruthStream(Protocol):
    stream_id: str
    events: Sequence[TruthEvent]
    quiet: Sequence[tuple[float, float]]


@dataclass(frozen=True)
class Span:
    """One part of a recap (or of a baseline's), in wall time."""

    stream_id: str
    start: float
    end: float

    @property
    def length(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass(frozen=True)
class Coverage:
    parts: int
    seconds: float
    events: float
    kinds: float
    quiet: float
    repeats: float
    events_covered: int
    events_total: int
    kinds_covered: int
    kinds_total: int


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def covers(span: Span, event: TruthEvent) -> bool:
    need = min(MIN_OVERLAP_S, 0.5 * (event.wall_end - event.wall_start))
    return _overlap(span.start, span.end, event.wall_start, event.wall_end) >= need


def coverage(spans: Iterable[Span], streams: Sequence[TruthStream]) -> Coverage:
    """The figures of one recap's spans against the day's truth."""
    spans = sorted(spans, key=lambda s: s.start)
    by_stream = {s.stream_id: s for s in streams}
    distinct = {e.distinct_id: e.kind for s in streams for e in s.events}
    covered: set[str] = set()
    quiet = repeats = total = 0.0
    for span in spans:
        total += span.length
        truth = by_stream.get(span.stream_id)
        if truth is None:
            continue
        quiet += sum(_overlap(span.start, span.end, a, b) for a, b in truth.quiet)
        hits = [e for e in truth.events if covers(span, e)]
        seen_before = [e for e in hits if e.distinct_id in covered]
        if hits and len(seen_before) == len(hits):  # nothing new in this part: all of it retells
            repeats += span.length
        covered |= {e.distinct_id for e in hits}
    kinds = set(distinct.values())
    kinds_covered = {distinct[d] for d in covered}
    return Coverage(
        parts=len(spans),
        seconds=total,
        events=len(covered) / len(distinct) if distinct else 0.0,
        kinds=len(kinds_covered) / len(kinds) if kinds else 0.0,
        quiet=quiet / total if total else 0.0,
        repeats=repeats / total if total else 0.0,
        events_covered=len(covered),
        events_total=len(distinct),
        kinds_covered=len(kinds_covered),
        kinds_total=len(kinds),
    )
