"""Does a query pick the moments it names, and only those? Query-level metrics for one run, pooled over queries.

A query runs on a stream (`vgsum run CLIP --query Q`); each highlight names at most
one query (`query`, or None). Against the query's relevant events (hand-made,
`vgsum.models.data.queries`):

- **recall**: relevant events touched by a highlight that names the query, over relevant events;
- **precision**: highlights naming the query that touch a relevant event, over highlights naming it;
- **false-match rate** (negative queries, which name something absent): highlights naming the
  query over all highlights of the run. A positive query's runs report it as well (`named_share`);
- **AUC**: the per-frame score (the live score after the query's boost) on frames inside a
  relevant event against frames farther than the tolerance from every relevant event (the other
  events included: "a red car" must rank the red car above the white one, not only above the
  empty lane). Frames within the tolerance of a relevant event's edge are left out, since the
  annotation is only good to about that. The same AUC on the run *without* the query
  (`auc_unboosted`) says how much the query itself adds.

"Touch" is the events benchmark's (`event_metrics.touches`: overlap after widening by
0.5 s). Pooling sums counts over queries before dividing, so a query with six
relevant events weighs six times one with one; AUC is averaged over the queries that
have one (scores of different runs are not on one scale).

Pure numpy: the evaluator runs next to the live pipeline, without torch or scipy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from vgsum.models.eval.event_metrics import TOLERANCE_S, Interval, inside_any, roc_auc, touches


@dataclass(frozen=True)
class NamedHighlight:
    """A finished highlight as a subscriber saw it: its final span and the query it named (None: none)."""

    start: float
    end: float
    query: str | None


@dataclass
class QueryResult:
    """One query's metrics on one run; the counts are kept so that `pool_queries` can sum before dividing."""

    query: str
    kind: str
    relevant: int  # relevant events
    covered: int  # relevant events touched by a highlight naming the query
    highlights: int  # every highlight of the run
    named: int  # highlights naming the query
    named_true: int  # highlights naming the query that touch a relevant event
    recall: float | None  # None without relevant events (negatives)
    precision: float | None  # None when no highlight names the query
    named_share: float | None  # named / highlights; None without highlights (for a negative: its false-match rate)
    auc: float | None  # None when relevant or other frames are missing
    auc_unboosted: float | None = None  # the same frames scored by the run without the query, when given

    def to_json(self) -> dict:
        """Plain JSON types only: `json.dumps` takes it as is."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> QueryResult:
        """The inverse of `to_json`."""
        return cls(**data)


def relevant_frames(
    times: np.ndarray, relevant: Sequence[Interval], tolerance_s: float = TOLERANCE_S
) -> tuple[np.ndarray, np.ndarray]:
    """(inside a relevant event, farther than `tolerance_s` from every relevant event) per frame time."""
    times = np.asarray(times, np.float64)
    inside = inside_any(times, relevant)
    near = inside_any(times, [(s - tolerance_s, e + tolerance_s) for s, e in relevant])
    return inside, ~near


def query_auc(
    relevant: Sequence[Interval], times: np.ndarray, scores: np.ndarray, tolerance_s: float = TOLERANCE_S
) -> float | None:
    """AUC of the per-frame score, relevant-event frames against other frames (see the module docstring)."""
    times = np.asarray(times, np.float64)
    scores = np.asarray(scores, np.float64)
    if times.shape != scores.shape or times.ndim != 1:
        raise ValueError(f"times and scores must be 1-d of one length, got {times.shape} and {scores.shape}")
    inside, other = relevant_frames(times, relevant, tolerance_s)
    return roc_auc(scores[inside], scores[other])


def evaluate_query(
    query: str,
    kind: str,
    relevant: Sequence[Interval],
    highlights: Sequence[NamedHighlight],
    times: np.ndarray,
    scores: np.ndarray,
    unboosted: np.ndarray | None = None,
    tolerance_s: float = TOLERANCE_S,
) -> QueryResult:
    """All metrics of one query's run: its highlights and per-frame scores against its relevant events.

    `unboosted`: the same frames' scores from the run without the query (same `times`), for `auc_unboosted`.
    """
    relevant = [(float(s), float(e)) for s, e in relevant]
    named = [h for h in highlights if h.query == query]
    covered = sum(any(touches((h.start, h.end), r, tolerance_s) for h in named) for r in relevant)
    named_true = sum(any(touches((h.start, h.end), r, tolerance_s) for r in relevant) for h in named)
    auc_unboosted = None
    if unboosted is not None:
        if np.shape(unboosted) != np.shape(times):
            raise ValueError(f"unboosted scores {np.shape(unboosted)} do not match times {np.shape(times)}")
        auc_unboosted = query_auc(relevant, times, unboosted, tolerance_s)
    return QueryResult(
        query=query,
        kind=kind,
        relevant=len(relevant),
        covered=covered,
        highlights=len(highlights),
        named=len(named),
        named_true=named_true,
        recall=covered / len(relevant) if relevant else None,
        precision=named_true / len(named) if named else None,
        named_share=len(named) / len(highlights) if highlights else None,
        auc=query_auc(relevant, times, scores, tolerance_s),
        auc_unboosted=auc_unboosted,
    )


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def pool_queries(results: Iterable[QueryResult]) -> dict:
    """Metrics over many queries (one kind, one split...): counts summed before dividing, AUC averaged.

    `false_match` is named / highlights over every run pooled: for negative queries,
    the share of highlights that name something absent.
    """
    results = list(results)
    relevant = sum(r.relevant for r in results)
    covered = sum(r.covered for r in results)
    named = sum(r.named for r in results)
    named_true = sum(r.named_true for r in results)
    highlights = sum(r.highlights for r in results)
    aucs = [r.auc for r in results if r.auc is not None]
    return {
        "queries": len(results),
        "relevant": relevant,
        "covered": covered,
        "recall": _ratio(covered, relevant),
        "named": named,
        "named_true": named_true,
        "precision": _ratio(named_true, named),
        "highlights": highlights,
        "false_match": _ratio(named, highlights),
        "auc_mean": _mean(aucs),
        "auc_min": float(np.min(aucs)) if aucs else None,
        "auc_queries": len(aucs),
        "auc_unboosted_mean": _mean(r.auc_unboosted for r in results if r.auc is not None),
    }
