"""An object keeps its track's labels: the parking lot's white coupe is a car on one frame and a "phone" on the next."""

from __future__ import annotations

from vgsum.runtime.engines.text import TextEncoder
from vgsum.runtime.language.matcher import QueryMatcher
from vgsum.runtime.language.seen import SeenObject
from vgsum.runtime.language.tracks import TrackLabels

# parking-lot-cars.mp4 at 26.0, 26.56 and 27.04 s (perception engine, 2 fps): one white coupe driving down
COUPE = [
    SeenObject("car", 0.68, (0.20, 0.00, 0.42, 0.43), [("taxicab", 0.99)], "white", True),
    SeenObject("cell phone", 0.79, (0.16, 0.11, 0.39, 0.87), [("mobile phone", 1.0)], "white", True),
    SeenObject("cell phone", 0.69, (0.14, 0.37, 0.40, 0.97), [("mobile phone", 0.9), ("taxicab", 0.1)], "white", True),
]
PERSON = SeenObject("person", 0.8, (0.70, 0.10, 0.80, 0.60), [], "black", False)


def test_a_car_the_detector_then_calls_a_phone_is_still_a_car(text_engine: TextEncoder) -> None:
    matcher = QueryMatcher(text_engine, ["a car", "a white car", "a red car", "a phone"])
    tracks = TrackLabels()
    seen = [matcher.match(tracks.carry([obj])) for obj in COUPE]
    assert all({"a car", "a white car"} <= set(frame) for frame in seen)
    assert not any("a red car" in frame for frame in seen)
    assert [("a phone" in frame) for frame in seen] == [False, True, True]  # its own label still counts
    assert seen[2]["a car"] == 1.0  # the track's car was sure (0.68)
    alone = [matcher.match([obj]) for obj in COUPE]  # without the track, the phones are no car
    assert ["a car" in frame for frame in alone] == [True, False, False]


def test_labels_follow_the_box_they_overlap_one_to_one() -> None:
    tracks = TrackLabels()
    tracks.carry([COUPE[0], PERSON])
    now = tracks.carry([COUPE[1], PERSON])
    assert now[0].track_labels == {"car": 0.68} and now[1].track_labels == {"person": 0.8}
    later = tracks.carry([COUPE[2]])
    assert later[0].track_labels == {"car": 0.68, "cell phone": 0.79}


def test_a_box_elsewhere_or_after_a_reset_starts_a_new_track() -> None:
    tracks = TrackLabels()
    tracks.carry([COUPE[0]])
    far = SeenObject("cell phone", 0.7, (0.60, 0.60, 0.80, 0.95), [], "white", True)
    assert tracks.carry([far])[0].track_labels == {}
    tracks.carry([COUPE[1]])
    tracks.reset()
    assert tracks.carry([COUPE[2]])[0].track_labels == {}
    assert tracks.carry([]) == [] and tracks.carry([COUPE[2]])[0].track_labels == {}  # a frame without it ends it


def test_a_label_is_carried_for_span_frames_after_the_track_last_had_it() -> None:
    """A parked car that once took over a passer-by's box must not answer "a person" all day."""
    tracks = TrackLabels(span=2)
    tracks.carry([PERSON])
    parked = SeenObject("car", 0.8, PERSON.box, [], "grey", False)
    assert [tracks.carry([parked])[0].track_labels for _ in range(4)] == [
        {"person": 0.8},
        {"person": 0.8, "car": 0.8},
        {"car": 0.8},
        {"car": 0.8},
    ]
