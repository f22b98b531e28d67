"""An object keeps the labels its track has had: the detector's label flickers as a thing moves.

On parking-lot-cars.mp4 the white coupe is a "car" (0.68) on one frame and a "cell phone"
(0.79, 0.69) on the next two, at overlapping places: one car under two names. Queries
match an object by the labels of its track too, so "a car" follows it over the frames on
which the detector calls it a phone. A track is a chain of boxes that overlap from one
frame to the next (each box joins the previous frame's box it overlaps most, one to one);
only objects the persistence filter kept take part, so one frame of noise starts no track
and names nothing. Colour and motion are still read on each frame, and a highlight's
`objects` still count each frame's own labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from vgsum.runtime.language.persistence import iou
from vgsum.runtime.language.seen import SeenObject

OVERLAP = 0.2  # IoU with the previous frame's box that continues a track (the persistence filter's `overlap`)


class TrackLabels:
    """One stream's last kept objects; `carry(kept)` gives this frame's objects with their tracks' labels."""

    def __init__(self, overlap: float = OVERLAP) -> None:
        self.overlap = overlap
        self._last: list[SeenObject] = []

    def reset(self) -> None:
        """Forget the last frame (a reconnect may bring another view)."""
        self._last = []

    def carry(self, kept: Sequence[SeenObject]) -> list[SeenObject]:
        """`kept` in order, each with `track_labels` from the previous frame's object it continues. Call per frame."""
        pairs = sorted(
            ((iou(now.box, before.box), i, j) for i, now in enumerate(kept) for j, before in enumerate(self._last)),
            reverse=True,
        )
        out = list(kept)
        taken_now: set[int] = set()
        taken_before: set[int] = set()
        for overlap, i, j in pairs:
            if overlap < self.overlap:
                break
            if i in taken_now or j in taken_before:
                continue
            taken_now.add(i)
            taken_before.add(j)
            before = self._last[j]
            labels = dict(before.track_labels)
            labels[before.label] = max(labels.get(before.label, 0.0), before.score)
            out[i] = replace(kept[i], track_labels=labels)
        self._last = out
        return out
