"""Queries people type are read phrase by phrase: the thing, its colour, whether it moves."""

from __future__ import annotations

import pytest

from vgsum.runtime.language.phrases import parse_query, words_of
from vgsum.runtime.language.vocabulary import Vocabulary, plural, singular

# query -> per part, the alternatives as (target name, colour, moving); all parts must be seen
TABLE: list[tuple[str, list[list[tuple[str, str | None, bool | None]]]]] = [
    ("person", [[("person", None, None)]]),
    ("people", [[("person", None, None)]]),
    ("pedestrians", [[("person", None, None)]]),
    ("an intruder", [[("person", None, None)]]),
    ("someone walks into the room", [[("person", None, True)]]),
    ("Somebody is standing at the door.", [[("person", None, False)]]),
    ("a person walking", [[("person", None, True)]]),
    ("a man crossing the room", [[("person", None, True)]]),
    ("someone walks in and leaves", [[("person", None, True)]]),
    ("a car drives into the parking lot", [[("car", None, True)]]),
    ("a parked car", [[("car", None, False)]]),
    ("cars", [[("car", None, None)]]),
    ("a red car", [[("car", "red", None)]]),
    ("a silver car", [[("car", "grey", None)]]),
    ("an orange car", [[("car", "orange", None)]]),
    ("an orange", [[("orange", None, None)]]),
    ("a vehicle", [[("vehicle", None, None)]]),
    ("trucks", [[("truck", None, None)]]),
    ("a lorry", [[("truck", None, None)]]),
    ("a bike", [[("bicycle", None, None)]]),
    ("motorbikes", [[("motorcycle", None, None)]]),
    ("buses", [[("bus", None, None)]]),
    ("a white car or a truck", [[("car", "white", None), ("truck", None, None)]]),
    ("a person with a dog", [[("person", None, None)], [("dog", None, None)]]),
    ("a person riding a bike", [[("person", None, True)], [("bicycle", None, True)]]),
    ("a taxi", [[("car", None, None)]]),
    ("an ambulance", [[("ambulance", None, None)]]),
    ("a golden retriever", [[("golden retriever", None, None)]]),
    ("two dogs playing", [[("dog", None, None)]]),
    ("a person stands at the table", [[("person", None, False)]]),  # the table says where: see below
    ("a cat on the sofa", [[("cat", None, None)]]),
    ("a person next to a car", [[("person", None, None)], [("car", None, None)]]),  # a car is no fixture
    ("a person waits by the fence", [[("person", None, False)]]),  # no detector label, after "by": a place
    ("a man in a cap", [[("person", None, None)]]),
    ("a spider", [[("spider", None, None)]]),  # every ImageNet "... spider"
    ("snakes", [[("snake", None, None)]]),
    ("a bird flies away", [[("bird", None, True)]]),  # "flies" is no fly
    ("a car drives past", [[("car", None, True)]]),  # nor "drives" a disk drive
    ("someone watches tv", [[("person", None, None)]]),
]


@pytest.mark.parametrize(("query", "expected"), TABLE, ids=[q for q, _ in TABLE])
def test_sentences_read_as_things_colours_and_motion(query: str, expected, vocabulary: Vocabulary) -> None:
    parsed = parse_query(query, vocabulary)
    got = [[(p.target.name if p.target else None, p.colour, p.moving) for p in part] for part in parsed.parts]
    assert got == expected


def test_ambulance_is_an_imagenet_kind_and_a_vehicle_names_four_labels(vocabulary: Vocabulary) -> None:
    ambulance = parse_query("an ambulance", vocabulary).parts[0][0].target
    assert ambulance is not None and ambulance.kinds == {"ambulance"} and not ambulance.labels
    vehicle = parse_query("any vehicle", vocabulary).parts[0][0].target
    assert vehicle is not None and vehicle.labels == {"car", "truck", "bus", "motorcycle"}
    assert {"taxicab", "school bus", "pickup truck", "moped"} <= vehicle.kinds


def test_men_and_women_are_people_with_a_note(vocabulary: Vocabulary) -> None:
    for query in ("a man", "a woman", "two girls"):
        target = parse_query(query, vocabulary).parts[0][0].target
        assert target is not None and target.labels == {"person"}
        assert target.note is not None and "cannot tell" in target.note


def test_words_the_vocabulary_lacks_stay_as_a_phrase_without_target(vocabulary: Vocabulary) -> None:
    parsed = parse_query("a unicorn in the garden", vocabulary)
    assert [(p.text, p.target) for p in parsed.phrases()] == [("unicorn", None)]


def test_a_fixture_after_the_subject_is_a_place_and_a_fixture_alone_is_a_thing(vocabulary: Vocabulary) -> None:
    parsed = parse_query("a person stands at the table", vocabulary)
    assert parsed.places == ["table"] and [p.text for p in parsed.phrases()] == ["person"]
    alone = parse_query("a table", vocabulary)
    assert alone.places == [] and alone.parts[0][0].target is not None
    assert alone.parts[0][0].target.labels == {"dining table"}
    both = parse_query("a bench and a dog", vocabulary)  # parts of their own: each must be seen
    assert both.places == [] and [p.text for p in both.phrases()] == ["bench", "dog"]


def test_a_kind_people_type_names_every_imagenet_class_it_ends(vocabulary: Vocabulary) -> None:
    spider = parse_query("a spider", vocabulary).parts[0][0].target
    assert spider is not None and {"barn spider", "wolf spider"} <= spider.kinds and "spider web" not in spider.kinds
    car = parse_query("a car", vocabulary).parts[0][0].target
    assert car is not None and car.labels == {"car"}  # the detector's own label words stay first


def test_places_and_verbs_alone_name_nothing(vocabulary: Vocabulary) -> None:
    assert parse_query("walks into the parking lot", vocabulary).parts == []


def test_plurals_and_words() -> None:
    assert [plural(w) for w in ("bus", "knife", "toothbrush", "person", "bicycle", "city")] == [
        "buses", "knives", "toothbrushes", "persons", "bicycles", "cities",
    ]  # fmt: skip
    assert [singular(w) for w in ("buses", "knives", "dogs", "bus", "glass")] == ["bus", "knife", "dog", "bus", "glass"]
    assert words_of("A man, walking!") == ["a", "man", ",", "walking", "!"]
