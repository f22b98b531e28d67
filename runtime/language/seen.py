"""One detected object as the language layer sees it, built from the perception engine's output.

Plain data: the detector's label and confidence, its box, the ImageNet kinds of its
appearance feature, the named colour of its pixels and whether it moves. The matcher,
the persistence filter and the query benchmark all take these, whatever made them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from vgsum.runtime.engines.perception import FramePerception
from vgsum.runtime.language.colour import box_colour
from vgsum.runtime.language.kinds import ImageNetHead
from vgsum.runtime.language.motion import box_moving

TOP_KINDS = 5  # ImageNet classes kept per object: the mass of a concept is summed over these


@dataclass
class SeenObject:
    """One detected object as the language layer sees it."""

    label: str  # COCO-80 label
    score: float  # detector confidence
    box: tuple[float, float, float, float]  # x1,y1,x2,y2 normalised to the frame
    kinds: list[tuple[str, float]] = field(default_factory=list)  # ImageNet top-k (name, prob); may be empty
    colour: str | None = None
    moving: bool | None = None


def seen_objects(
    perceived: FramePerception,
    rgb: np.ndarray | None = None,
    head: ImageNetHead | None = None,
    *,
    changed: np.ndarray | None = None,
    top_k: int = TOP_KINDS,
) -> list[SeenObject]:
    """SeenObjects of one frame: kinds when a head is given, colour when the frame's RGB is, motion from a mask.

    `changed` is a boolean mask of what changed since the last frame (any resolution): the
    foreground model's changed foreground live, or `motion.FrameChange` elsewhere.
    """
    kinds = head.top_k(perceived.object_features, top_k) if head is not None and perceived.count else []
    objects = []
    for index in range(perceived.count):
        box = tuple(float(v) for v in perceived.boxes[index])
        objects.append(
            SeenObject(
                label=perceived.labels[index],
                score=float(perceived.scores[index]),
                box=box,  # type: ignore[arg-type]
                kinds=kinds[index] if kinds else [],
                colour=box_colour(rgb, box) if rgb is not None else None,  # type: ignore[arg-type]
                moving=box_moving(changed, box),  # type: ignore[arg-type]
            )
        )
    return objects


def label_counts(objects: Sequence[SeenObject]) -> dict[str, int]:
    """How many objects of each label (what a highlight's `objects` reports), most first."""
    counts: dict[str, int] = {}
    for obj in objects:
        counts[obj.label] = counts.get(obj.label, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
