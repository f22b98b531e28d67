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
from vgsum.runtime.language.vocabulary import Vocabulary

TOP_KINDS = 5  # ImageNet classes kept per object: the mass of a concept is summed over these
RELABEL_MASS = 0.5  # ImageNet mass on another label's kinds that overrules the detector ...
RELABEL_OWN_BELOW = 0.05  # ... when its own label's kinds hold less than this
# Only road vehicles: their ImageNet kinds are specific and do not fire on indoor noise, while a "tv" box at 0.28
# whose kinds lean to a dog breed, or clothing kinds ("someone wears this"), must not invent a dog or a person.
# Trains, aircraft and boats are left out: on road cameras ImageNet's "passenger car" (a railway coach) and its
# boat kinds fire on cars seen from above (the highway camera's cars became trains, bikes' cars boats).
RELABEL_TO = frozenset({"car", "truck", "bus", "motorcycle", "bicycle"})


@dataclass
class SeenObject:
    """One detected object as the language layer sees it."""

    label: str  # COCO-80 label
    score: float  # detector confidence
    box: tuple[float, float, float, float]  # x1,y1,x2,y2 normalised to the frame
    kinds: list[tuple[str, float]] = field(default_factory=list)  # ImageNet top-k (name, prob); may be empty
    colour: str | None = None
    moving: bool | None = None
    track_labels: dict[str, float] = field(default_factory=dict)  # label -> best confidence earlier on its track


def seen_objects(
    perceived: FramePerception,
    rgb: np.ndarray | None = None,
    head: ImageNetHead | None = None,
    *,
    changed: np.ndarray | None = None,
    vocabulary: Vocabulary | None = None,
    top_k: int = TOP_KINDS,
) -> list[SeenObject]:
    """SeenObjects of one frame: kinds when a head is given, colour when the frame's RGB is, motion from a mask.

    `changed` is a boolean mask of what changed since the last frame (any resolution): the
    foreground model's changed foreground live, or `motion.FrameChange` elsewhere. With a
    `vocabulary`, an object whose kinds clearly name another label takes that label (`relabel`).
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
    if vocabulary is not None:
        objects = [relabel(obj, vocabulary) for obj in objects]
    return objects


def relabel(obj: SeenObject, vocabulary: Vocabulary) -> SeenObject:
    """The object under the label its ImageNet kinds clearly name, when they contradict the detector.

    Measured on parking-lot-cars.mp4: cars seen from above are boxed as "cell phone" (0.55-0.79)
    while their kinds put 0.58-0.99 on "taxicab"/"minivan"; a car is what people will ask for.
    """
    if not obj.kinds:
        return obj
    label, mass = vocabulary.label_by_kinds(obj.kinds)
    if (
        label is None
        or label == obj.label
        or label not in RELABEL_TO
        or mass < RELABEL_MASS
        or vocabulary.label_mass(obj.kinds, obj.label) >= RELABEL_OWN_BELOW
    ):
        return obj
    return SeenObject(label, obj.score, obj.box, obj.kinds, obj.colour, obj.moving)


def label_counts(objects: Sequence[SeenObject]) -> dict[str, int]:
    """How many objects of each label (what a highlight's `objects` reports), most first."""
    counts: dict[str, int] = {}
    for obj in objects:
        counts[obj.label] = counts.get(obj.label, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
