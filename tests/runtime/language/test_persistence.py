"""Detector noise must not name highlights: a one-frame false label is dropped, steady or sure objects count."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from vgsum.runtime.language.persistence import FilterSettings, ObjectFilter, iou
from vgsum.runtime.language.seen import SeenObject
from vgsum.runtime.language.vocabulary import Vocabulary

PERSON = SeenObject("person", 0.74, (0.30, 0.20, 0.45, 0.95))
RACKET = SeenObject("tennis racket", 0.45, (0.60, 0.40, 0.70, 0.55))  # noise seen on one frame in a room


def test_a_one_frame_false_label_is_dropped_and_the_person_kept() -> None:
    flt = ObjectFilter()
    assert flt.keep([PERSON]) == [True]
    assert flt.keep([PERSON, RACKET]) == [True, False]
    assert flt.keep([PERSON]) == [True]
    assert flt.filter([PERSON, SeenObject("skateboard", 0.5, (0.1, 0.7, 0.2, 0.8))]) == [PERSON]


def test_a_steady_weak_object_counts_from_its_second_frame_at_the_same_place() -> None:
    flt = ObjectFilter()
    tv = SeenObject("tv", 0.34, (0.70, 0.10, 0.90, 0.30))
    moved = SeenObject("tv", 0.34, (0.71, 0.11, 0.91, 0.31))
    elsewhere = SeenObject("tv", 0.34, (0.05, 0.60, 0.20, 0.80))
    assert flt.keep([tv]) == [False]
    assert flt.keep([moved, elsewhere]) == [True, False]


def test_below_the_floor_nothing_counts_however_steady() -> None:
    flt = ObjectFilter()
    faint = SeenObject("laptop", 0.27, (0.4, 0.4, 0.5, 0.5))
    assert [flt.keep([faint]) for _ in range(6)] == [[False]] * 6


def test_a_sure_detection_counts_at_once_and_bars_are_per_label() -> None:
    flt = ObjectFilter(FilterSettings(sure={"dog": 0.4}))
    assert flt.keep([SeenObject("dog", 0.45, (0.1, 0.1, 0.3, 0.3))]) == [True]
    assert flt.keep([SeenObject("frisbee", 0.59, (0.5, 0.5, 0.6, 0.6))]) == [False]  # measured noise peak 0.59
    assert flt.sure_bar("person") == FilterSettings().default_sure  # the settings replaced the whole table


def test_kinds_that_agree_with_the_label_vouch_for_a_brief_vehicle() -> None:
    car = SeenObject("car", 0.42, (0.2, 0.0, 0.4, 0.4), [("taxicab", 0.7), ("minivan", 0.2)])
    assert ObjectFilter().keep([car]) == [False]
    assert ObjectFilter(vocabulary=Vocabulary(["taxicab", "minivan"])).keep([car]) == [True]
    noise = SeenObject("dog", 0.42, (0.2, 0.0, 0.4, 0.4), [("jeans", 0.7)])
    assert ObjectFilter(vocabulary=Vocabulary(["jeans"])).keep([noise]) == [False]


def test_reset_forgets_the_scene() -> None:
    flt = ObjectFilter()
    tv = SeenObject("tv", 0.34, (0.70, 0.10, 0.90, 0.30))
    flt.keep([tv])
    flt.reset()
    assert flt.keep([tv]) == [False]


def test_settings_are_strict_and_iou_is_symmetric() -> None:
    with pytest.raises(ValidationError):
        FilterSettings(flor=0.2)  # type: ignore[call-arg]
    a, b = (0.0, 0.0, 0.5, 0.5), (0.25, 0.25, 0.75, 0.75)
    assert iou(a, b) == pytest.approx(iou(b, a)) == pytest.approx(1 / 7)
    assert iou(a, (0.6, 0.6, 0.7, 0.7)) == 0.0
