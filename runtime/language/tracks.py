"""An object keeps the labels its track had lately: the detector's label flickers as a thing moves.

On parking-lot-cars.mp4 the white coupe is a "car" (0.68) on one frame and a "cell phone"
(0.79, 0.69) on the next two, at overlapping places: one car under two names. Queries
match an object by the labels of its track too, so "a car" follows it over the frames on
which the detector calls it a phone. A track is a chain of boxes that overlap from one
frame to the next (each box joins the previous frame's box it overlaps most, one to one);
only objects the persistence filter kept take part, so one frame of noise starts no track
and names nothing. A label is carried for `span` frames after the track last had it: a
parked car that once took over a passer-by's box must not answer "a person" all day.
Colour and motion are still read on each frame, and a highlight's `objects` still count
each frame's own labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from vgsum.runtime.language.persistence import iou
from vgsum.runtime.language.seen import SeenObject

OVERLAP = 0.2  # IoU with the previous frame's box that continues a track (the persistence filter's `overlap`)
SPAN = 4  # frames a label is carried after the track last had it (2 s at 2 fps, the filter's `window`)


class TrackLabels:
    """One stream's last kept objects; `carry(kept)` gives this frame's objects with their tracks' labels."""

    def __init__(self, overlap: float = OVERLAP, span: int = SPAN) -> None:
        self.overlap = overlap
        self.span = span
        self._last: list[SeenObject] = []
        self._ages: list[dict[str, int]] = []  # per object of `_last`: label -> frames since its track had it

    def reset(self) -> None:
        """Forget the last frame (a reconnect may bring another view)."""
        self._last, self._ages = [], []

    def carry(self, kept: Sequence[SeenObject]) -> list[SeenObject]:
        """`kept` in order, each with `track_labels` from the previous frame's object it continues. Call per frame."""
        pairs = sorted(
            ((iou(now.box, before.box), i, j) for i, now in enumerate(kept) for j, before in enumerate(self._last)),
            reverse=True,
        )
        out = list(kept)
        ages: list[dict[str, int]] = [{obj.label: 0} for obj in kept]
        taken_now: set[int] = set()
        taken_before: set[int] = set()
        for overlap, i, j in pairs:
            if overlap < self.overlap:
                break
            if i in taken_now or j in taken_before:
                continue
            taken_now.add(i)
            taken_before.add(j)
            before, before_ages = self._last[j], self._ages[j]
            best = dict(before.track_labels)
            best[before.label] = max(best.get(before.label, 0.0), before.score)
            carried = {label: s for label, s in best.items() if before_ages.get(label, 0) + 1 <= self.span}
            out[i] = replace(kept[i], track_labels=carried)
            ages[i] = {**{label: before_ages.get(label, 0) + 1 for label in carried}, kept[i].label: 0}
        self._last, self._ages = out, ages
        return out
