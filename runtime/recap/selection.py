"""Which parts go into a recap: value = score x query match x novelty, chosen by the exact 0/1 knapsack.

A part whose novelty is below `REPEAT_NOVELTY` has no value: the recap is then
shorter than its budget rather than padded with the same thing again.
The knapsack is the TVSum protocol's (runtime/summary/knapsack.py), over parts
weighted by their length in steps of `resolution_s`; `diverse=False` sets every
novelty to 1 (the "top scored" baseline). The chosen parts come back in wall-time
order, streams interleaved: a recap tells the day as it went.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vgsum.runtime.summary.knapsack import knapsack

REPEAT_NOVELTY = 0.2  # below this a part retells what a better one shows: it is left out, not used as filler
MAX_CELLS = 40_000_000  # items x capacity steps of the knapsack's table (booleans): a few tens of MB at most


@dataclass(frozen=True)
class Valued:
    """A part's value and what it is made of."""

    score: float
    match: float
    novelty: float

    @property
    def value(self) -> float:
        return 0.0 if self.novelty < REPEAT_NOVELTY else self.score * self.match * self.novelty


def resolution_for(budget_s: float, n_items: int) -> float:
    """The knapsack's weight step: 0.1 s, coarser only when the table would pass MAX_CELLS."""
    step = 0.1
    while n_items * (budget_s / step) > MAX_CELLS:
        step *= 2
    return step


def choose(durations: Sequence[float], values: Sequence[float], budget_s: float) -> list[int]:
    """Indices of the parts with the most total value whose lengths fit `budget_s` (ascending indices)."""
    durations = np.asarray(durations, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if len(durations) == 0:
        return []
    step = resolution_for(budget_s, len(durations))
    weights = np.ceil(durations / step - 1e-9).astype(np.int64)
    capacity = int(np.floor(budget_s / step + 1e-9))
    keep = values > 0  # a part with no value (nothing new) is never chosen to fill time
    picked = knapsack(np.where(keep, values, 0.0), np.where(keep, weights, capacity + 1), capacity)
    return [int(i) for i in picked]


def part_length(budget_s: float, novel_parts: int, shortest_s: float, longest_s: float) -> float:
    """How long each part may be: the budget shared among the parts worth showing, within [shortest, longest]."""
    if novel_parts <= 0:
        return longest_s
    return float(np.clip(budget_s / novel_parts, shortest_s, longest_s))
