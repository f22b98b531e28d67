"""Teaching the refiner that a query matters: the pseudo-query term of `vgsum train --unsupervised --pseudo-queries`.

Each training window is scored twice: as the shipped recipe scores it (the word-level
label queries of each frame), and with one pseudo-query appended to every frame's
queries, as a viewer's sentence is appended live. The unsupervised loss trains the
first pass; this term trains the difference `lift = s_query - s_plain` (the plain pass
held fixed):

- where the pseudo-query's concept is in view, the lift should reach `margin`
  (hinge), so the cross-attention has to find the object the sentence names;
- where it is not, and for negatives (a label the clip never shows), the lift should
  be zero (squared), so a query never raises what it does not name.

Without this term nothing in training ever sees a sentence, and the cross-attention of
a viewer's query is untrained (BENCHMARKS.md, Queries people type).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vgsum.models.train.pseudo_queries import Concept

MARGIN = 0.15  # the score lift a named concept in view should get (scores are in [0, 1])
OFF_WEIGHT = 4.0  # weight of the squared lift where the concept is not in view
QUERY_SHARE = 0.5  # windows whose pseudo-query is in view somewhere; the rest get a negative or one out of view


@dataclass
class PseudoQueries:
    """Every clip's concepts and the text vectors; `pick` draws one concept per training window."""

    concepts: list[list[Concept]]  # per clip (the order of the training clips)
    vectors: dict[str, np.ndarray]  # text -> [Dl]
    weight: float = 1.0
    counts: dict[str, int] = field(default_factory=dict)

    def pick(self, clip: int, start: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(vector [Dl], present [length] bool) of a concept for one window: one in view when the window has one
        (QUERY_SHARE of the time), else a negative or one out of view."""
        pool = self.concepts[clip]
        in_view = [c for c in pool if c.present[start : start + length].any()]
        out_view = [c for c in pool if not c.present[start : start + length].any()]
        choices = in_view if in_view and (rng.random() < QUERY_SHARE or not out_view) else out_view or in_view
        concept = choices[int(rng.integers(len(choices)))]
        return self.vectors[concept.text], concept.present[start : start + length]


def with_query(inputs: dict, where, width: int, vectors) -> dict:
    """The batch's per-frame inputs with one more query (its window's pseudo-query vector [B,Dl]) on every frame."""
    import torch

    rows = where // width  # the window of each real frame
    extra = vectors[rows][:, None, :]  # [n_real,1,Dl]
    out = dict(inputs)
    out["query"] = torch.cat([inputs["query"], extra], 1)
    out["query_mask"] = torch.cat([inputs["query_mask"], torch.ones_like(inputs["query_mask"][:, :1])], 1)
    return out


def lift_loss(query_scores, plain_scores, present, mask) -> tuple:
    """The pseudo-query term on scores [B,W]; returns (loss, in-view lift mean, out-of-view lift mean)."""
    import torch

    lift = query_scores - plain_scores.detach()
    on = present & mask
    off = ~present & mask
    zero = lift.new_zeros(())
    hinge = torch.relu(MARGIN - lift)[on].mean() if on.any() else zero
    still = (lift[off] ** 2).mean() if off.any() else zero
    on_mean = float(lift[on].mean().detach()) if on.any() else float("nan")
    off_mean = float(lift[off].mean().detach()) if off.any() else float("nan")
    return hinge + OFF_WEIGHT * still, on_mean, off_mean
