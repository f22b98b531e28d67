"""The language layer end to end on real footage: perception, kinds, colour, motion, the filter, the matcher.

parking-lot-cars.mp4 (CC-BY-4.0, ../shared/data/videos) is filmed from above: the detector
boxes its cars as "cell phone" while the appearance network's kinds say taxicab; a white,
a grey-green and a red car drive through. room-people-one-by-one.mp4: people walk in one
by one, with detector noise (frisbee, dog, tennis racket) on a few frames.
"""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from vgsum.runtime.engines.perception import PerceptionEngine
from vgsum.runtime.engines.text import TextEncoder
from vgsum.runtime.language.kinds import ImageNetHead
from vgsum.runtime.language.matcher import QueryMatcher
from vgsum.runtime.language.motion import FrameChange
from vgsum.runtime.language.persistence import ObjectFilter
from vgsum.runtime.language.seen import seen_objects


def frames(video: Path, fps: float, until_s: float):
    """(time, RGB) sampled at `fps` by presentation time, as the live sampler does."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        due = 0.0
        for frame in container.decode(stream):
            if frame.time is None or frame.time + 1e-6 < due:
                continue
            if frame.time > until_s:
                return
            due += 1.0 / fps
            yield frame.time, frame.to_ndarray(format="rgb24")


def run(video: Path, queries: list[str], folder: Path, text: TextEncoder, head: ImageNetHead, until_s: float):
    """Per sampled frame: the matched queries and the labels that counted."""
    engine = PerceptionEngine.load(folder, threads=1)
    matcher = QueryMatcher(text, queries, head=head)
    flt, change = ObjectFilter(vocabulary=matcher.vocabulary), FrameChange()
    out = []
    for t, rgb in frames(video, 2.0, until_s):
        objects = seen_objects(engine([rgb])[0], rgb, head, changed=change.update(rgb), vocabulary=matcher.vocabulary)
        kept = flt.filter(objects)
        out.append((t, matcher.match(kept), sorted({o.label for o in kept})))
    return out


@pytest.fixture(scope="module")
def parking(shared_videos: Path, perception_folder: Path, text_engine: TextEncoder, head: ImageNetHead):
    queries = ["a car drives into the parking lot", "a red car", "a white car", "a person", "a cell phone"]
    return run(shared_videos / "parking-lot-cars.mp4", queries, perception_folder, text_engine, head, 30.0)


def test_cars_seen_from_above_match_car_queries_by_colour(parking) -> None:
    matched = [m for _, m, _ in parking]
    assert sum("a car drives into the parking lot" in m for m in matched) >= 5
    assert sum("a red car" in m for m in matched) >= 2
    assert sum("a white car" in m for m in matched) >= 3
    assert not any("a person" in m for m in matched)
    red = {t for t, m, _ in parking if "a red car" in m}
    white = {t for t, m, _ in parking if "a white car" in m}
    assert len(red & white) <= 1  # the red and the white car pass at different times


@pytest.fixture(scope="module")
def room(shared_videos: Path, perception_folder: Path, text_engine: TextEncoder, head: ImageNetHead):
    queries = ["someone walks into the room", "pedestrians", "a skateboard", "a dog", "a tennis racket", "a bus"]
    return run(shared_videos / "room-people-one-by-one.mp4", queries, perception_folder, text_engine, head, 45.0)


def test_people_match_sentences_and_detector_noise_matches_nothing(room) -> None:
    matched = [m for _, m, _ in room]
    people = sum("pedestrians" in m for m in matched)
    assert people >= 0.5 * len(room)
    assert sum("someone walks into the room" in m for m in matched) >= 10
    for noise in ("a skateboard", "a dog", "a tennis racket", "a bus"):
        assert not any(noise in m for m in matched), noise
    assert not any({"dog", "tennis racket", "skateboard"} & set(labels) for _, _, labels in room)
