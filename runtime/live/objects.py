"""A camera's object filter applied to what the detector saw: the detections that count for this stream.

Detections outside the filter (a label the owner does not care about, a box too small
to be real at this camera's distance, a confidence under the label's bar) are dropped
before anything reads them, so they neither feed the graph's score nor name highlights
nor match queries.
"""

from __future__ import annotations

import numpy as np

from vgsum.runtime.engines.perception import FramePerception
from vgsum.runtime.live.config import ObjectFilter


def kept_objects(perceived: FramePerception, rule: ObjectFilter) -> FramePerception:
    """`perceived` with only the detections `rule` lets through (the same object when it lets all through)."""
    if not rule.active or perceived.count == 0:
        return perceived
    boxes = perceived.boxes
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = [
        i
        for i, label in enumerate(perceived.labels)
        if (rule.labels is None or label in rule.labels)
        and areas[i] >= rule.min_area
        and perceived.scores[i] >= rule.min_score.get(label, 0.0)
    ]
    if len(keep) == perceived.count:
        return perceived
    index = np.asarray(keep, np.int64)
    return FramePerception(
        boxes=boxes[index],
        classes=perceived.classes[index],
        labels=[perceived.labels[i] for i in keep],
        scores=perceived.scores[index],
        object_features=perceived.object_features[index],
        frame_feature=perceived.frame_feature,
    )
