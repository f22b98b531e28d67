"""A stream's queries against a frame's objects: sentences match, noise and absent things do not, notices say why."""

from __future__ import annotations

import pytest

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.text import TextEncoder
from vgsum.runtime.language.kinds import ImageNetHead
from vgsum.runtime.language.matcher import QueryMatcher
from vgsum.runtime.language.seen import SeenObject

PERSON_QUERIES = [
    "person", "someone walks into the room", "an intruder", "a person walking", "pedestrians",
    "a man crossing the room", "someone walks in and leaves", "a woman", "people",
]  # fmt: skip
ABSENT = ["a dog", "a bus", "a skateboard", "a car", "a red car", "a cat"]
WALKER = SeenObject("person", 0.74, (0.30, 0.20, 0.45, 0.95), [("jeans", 0.35), ("suit", 0.2)], "grey", True)
RED_CAR = SeenObject("car", 0.62, (0.40, 0.50, 0.60, 0.95), [("sports car", 0.6), ("convertible", 0.2)], "red", True)
# A car seen from above that the detector calls a phone, as on parking-lot-cars.mp4.
PHONE_CAR = SeenObject(
    "cell phone", 0.57, (0.35, 0.29, 0.60, 0.97), [("taxicab", 0.72), ("minivan", 0.2)], "white", True
)


@pytest.fixture(scope="module")
def matcher(text_engine: TextEncoder) -> QueryMatcher:
    return QueryMatcher(text_engine, [*PERSON_QUERIES, *ABSENT, "a white car", "a parked car", "a vehicle"])


def test_sentences_about_people_match_a_walking_person(matcher: QueryMatcher) -> None:
    matched = matcher.match([WALKER])
    assert set(matched) == set(PERSON_QUERIES)
    assert all(0.9 <= strength <= 1.0 for strength in matched.values())


def test_absent_things_do_not_match_a_room_of_people(matcher: QueryMatcher) -> None:
    matched = matcher.match([WALKER, SeenObject("person", 0.8, (0.6, 0.1, 0.8, 0.9), [], "black", False)])
    assert not set(ABSENT) & set(matched)


def test_colour_and_motion_decide_between_cars(matcher: QueryMatcher) -> None:
    matched = matcher.match([RED_CAR])
    assert {"a car", "a red car", "a vehicle"} <= set(matched)
    assert "a white car" not in matched and "a parked car" not in matched  # it is red, and it moves
    assert matcher.last_hits["a red car"].objects == (0,)


def test_imagenet_kinds_find_the_car_the_detector_calls_a_phone(matcher: QueryMatcher) -> None:
    matched = matcher.match([PHONE_CAR])
    assert {"a car", "a white car", "a vehicle"} <= set(matched)
    assert "a red car" not in matched


def test_a_person_standing_at_a_table_the_detector_missed(text_engine: TextEncoder) -> None:
    """room-people-one-by-one.mp4: each visitor stands at the table, and no frame has a "dining table" box."""
    matcher = QueryMatcher(text_engine, ["a person stands at the table", "a person walks to the table"])
    standing = SeenObject("person", 0.77, (0.49, 0.02, 0.70, 0.88), [("dumbbell", 0.6)], "black", False)
    assert set(matcher.match([standing])) == {"a person stands at the table"}  # still, so not "walks"
    assert set(matcher.match([WALKER])) == {"a person walks to the table"}
    notice = matcher.notices()["a person stands at the table"]
    assert "'table' is read as where, not as something to find" in notice


def test_a_weak_detection_matches_weakly(matcher: QueryMatcher) -> None:
    weak = SeenObject("person", 0.33, WALKER.box, [], None, None)
    assert matcher.match([weak])["a person walking"] < matcher.match([WALKER])["a person walking"]


def test_notices_name_what_vgsum_cannot_see_and_keep_the_query(text_engine: TextEncoder) -> None:
    matcher = QueryMatcher(text_engine, ["a unicorn", "a woman", "a crate", "a red car", "a box"])
    assert matcher.queries == ["a unicorn", "a woman", "a crate", "a red car", "a box"]  # nothing refused
    notices = matcher.notices()
    assert "names nothing vgsum can see" in notices["a unicorn"] and "horse" in notices["a unicorn"]
    assert "matches no frame" in notices["a unicorn"]
    assert "cannot tell men, women or children apart" in notices["a woman"]
    assert "read as 'crate box'" in notices["a crate"]  # the nearest seeable name, by the text engine
    assert "a box" not in notices  # every ImageNet "... box" (cardboard box, pencil box...)
    assert "a red car" not in notices
    assert matcher.match([WALKER, RED_CAR]).keys() == {"a woman", "a red car"}


def test_a_query_for_an_imagenet_kind_needs_the_head(text_engine: TextEncoder, head: ImageNetHead) -> None:
    with_head = QueryMatcher(text_engine, ["an ambulance"], head=head)
    assert with_head.notices() == {}
    ambulance = SeenObject("truck", 0.5, (0.1, 0.1, 0.5, 0.5), [("ambulance", 0.8)], "white", True)
    assert with_head.match([ambulance]) == {"an ambulance": 1.0}
    without = QueryMatcher(text_engine, ["an ambulance", "a car"], head=None)
    assert "vgsum export imagenet" in without.notices()["an ambulance"]
    assert without.match([RED_CAR]) == {"a car": 1.0}


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 1025, "at most 1024 bytes"),
        (b"a \xff car", "not UTF-8"),
        ("a car\x00", "control characters"),
    ],
)
def test_bad_queries_are_one_line_errors(text_engine: TextEncoder, query: str | bytes, says: str) -> None:
    with pytest.raises(UserError, match=says):
        QueryMatcher(text_engine, ["a car", query])  # type: ignore[list-item]


def test_utf8_bytes_and_spacing_are_cleaned(text_engine: TextEncoder) -> None:
    matcher = QueryMatcher(text_engine, [b" a   red car ", "a red car", "é"])
    assert matcher.queries[:1] == ["a red car"]  # duplicates after cleaning compile once
