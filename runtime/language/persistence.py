"""Detector noise must not name highlights: keep an object only when it is seen surely or seen again.

On real footage the detector's true objects are confident and steady, its noise weak or
brief. Measured on room-people-one-by-one.mp4 (perception engine, 2 fps, 140 frames): people
median 0.74, 104 of 105 detections above 0.5; noise "tv" 0.28 (p90 0.30), "laptop" 0.27,
"frisbee" up to 0.59 on scattered frames, "dog" 0.26 once. On parking-lot-cars.mp4, cars
seen from above: "cell phone" 0.54 (p90 0.70), "car" 0.29-0.44 on single frames.
So an object counts toward a highlight's `objects` and toward query matches when

- its confidence reaches its label's sure bar (`sure`, per label, `default_sure` else), or
- it reaches `floor` and the same label was seen at an overlapping place on at least
  `min_hits` of the last `window` frames, this one included; the appearance network's
  ImageNet kinds agreeing with the label (`vouch` mass on its kinds) counts as one such
  frame, because a car crossing a top-down view is seen on two or three frames only (and
  `seen.relabel` has already made its "cell phone" a car where "taxicab" tops its kinds).

One `ObjectFilter` per stream, fed every frame in order; `reset` on a reconnect.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from vgsum.runtime.language.seen import SeenObject
from vgsum.runtime.language.vocabulary import Vocabulary


class FilterSettings(BaseModel):
    """The persistence filter's bars (config section `objects:` when wired)."""

    model_config = ConfigDict(extra="forbid")

    floor: float = Field(0.3, ge=0.0, le=1.0, description="below this confidence an object never counts")
    default_sure: float = Field(0.65, ge=0.0, le=1.0, description="confidence that counts on one frame")
    sure: dict[str, float] = Field(
        default_factory=lambda: {"person": 0.5, "car": 0.5, "truck": 0.55, "bus": 0.55, "bicycle": 0.5},
        description="per-label bars that count on one frame (labels the detector is steady on)",
    )
    window: int = Field(4, ge=1, le=64, description="frames looked back over (2 s at 2 fps)")
    min_hits: int = Field(2, ge=1, le=64, description="frames of that window the object must be on")
    overlap: float = Field(0.2, ge=0.0, le=1.0, description="IoU for 'the same place' across frames")
    vouch: float = Field(0.4, ge=0.0, le=1.0, description="ImageNet mass on one label's kinds that counts as a hit")


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two x1,y1,x2,y2 boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class ObjectFilter:
    """One stream's memory of recent detections; `keep(objects)` says which of this frame's objects count."""

    def __init__(self, settings: FilterSettings | None = None, vocabulary: Vocabulary | None = None) -> None:
        """`vocabulary` (with ImageNet names) lets an object's kinds vouch for it; without it, only frames count."""
        self.settings = settings or FilterSettings()
        self.vocabulary = vocabulary
        self._recent: deque[list[SeenObject]] = deque(maxlen=max(1, self.settings.window - 1))

    def reset(self) -> None:
        """Forget recent frames (a reconnect may bring another view)."""
        self._recent.clear()

    def sure_bar(self, label: str) -> float:
        """The confidence at which `label` counts on one frame."""
        return self.settings.sure.get(label, self.settings.default_sure)

    def keep(self, objects: Sequence[SeenObject]) -> list[bool]:
        """For each object of the next frame: whether it counts. Call once per frame, in order."""
        s = self.settings
        candidates = [obj for obj in objects if obj.score >= s.floor]
        kept = []
        for obj in objects:
            if obj.score < s.floor:
                kept.append(False)
            elif obj.score >= self.sure_bar(obj.label):
                kept.append(True)
            else:
                hits = 1 + sum(
                    any(o.label == obj.label and iou(o.box, obj.box) >= s.overlap for o in frame)
                    for frame in self._recent
                )
                kept.append(hits + self._vouched(obj) >= s.min_hits)
        self._recent.append(candidates)
        return kept

    def _vouched(self, obj: SeenObject) -> int:
        """1 when the object's ImageNet kinds put `vouch` mass on its own label's kinds, else 0."""
        if self.vocabulary is None or not obj.kinds:
            return 0
        return int(self.vocabulary.label_mass(obj.kinds, obj.label) >= self.settings.vouch)

    def filter(self, objects: Sequence[SeenObject]) -> list[SeenObject]:
        """`keep` as the list of objects that count."""
        return [obj for obj, ok in zip(objects, self.keep(objects), strict=True) if ok]
