"""The query set: valid queries, relevant events that exist and follow the descriptions, a real held-out split."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vgsum.models.data.event_streams import RECIPES, make_plan, map_truth
from vgsum.models.data.events import ClipTruth, load_ground_truth
from vgsum.models.data.queries import (
    ALL,
    DEV_TARGETS,
    KINDS,
    QUERY_SETS,
    Query,
    counts,
    query_sets,
    relevant_events,
    source_of,
)
from vgsum.runtime.summary.queries import clean_queries

COLOURS = ("white", "red", "green", "grey", "black", "silver")


@pytest.fixture(scope="module")
def shared_truth(shared_data: Path) -> dict[str, ClipTruth]:
    return load_ground_truth(shared_data / "events" / "ground_truth.json",
                             [shared_data / "videos", shared_data / "footage"])


def _truth_of(target: str, shared_truth: dict[str, ClipTruth]) -> ClipTruth:
    """A target's truth; a built stream's is mapped from its recipe's plan (no video needs building)."""
    if target.startswith("built:"):
        recipe = RECIPES[target.removeprefix("built:")]
        return map_truth(make_plan(recipe, shared_truth), recipe, shared_truth)
    return shared_truth[target]


def test_every_query_is_one_the_live_path_takes_and_none_repeats_within_its_target():
    for query_set in QUERY_SETS.values():
        texts = [q.text for q in query_set.queries]
        assert clean_queries(texts[:16]) == texts[:16] and clean_queries(texts[16:]) == texts[16:]
        assert len(set(texts)) == len(texts), query_set.target
        for query in query_set.queries:
            assert query.kind in KINDS
            assert (query.kind == "negative") == (not query.relevant and not query.sources), query


def test_the_split_holds_out_whole_targets_and_both_sides_have_every_kind():
    splits = {s.target: s.split for s in QUERY_SETS.values()}
    assert {t for t, split in splits.items() if split == "dev"} == set(DEV_TARGETS)
    held_out = [t for t, split in splits.items() if split == "held-out"]
    assert "bgslibrary-road-topdown.avi" in held_out and "built:multi-scene" in held_out
    table = counts()
    assert set(table) == {"dev", "held-out"}
    assert all(table["held-out"][kind] > 0 for kind in KINDS)
    assert all(table["dev"][kind] > 0 for kind in KINDS)


def test_query_sets_picks_in_order_and_refuses_an_unknown_target():
    chosen = query_sets(["parking-lot-cars.mp4", "built:multi-scene"])
    assert [s.target for s in chosen] == ["parking-lot-cars.mp4", "built:multi-scene"]
    assert chosen[1].built == "multi-scene" and chosen[0].built is None
    with pytest.raises(ValueError, match="no query set for 'nope.mp4'"):
        query_sets(["nope.mp4"])


def test_every_relevant_event_exists_and_every_positive_query_has_one(shared_truth):
    for query_set in QUERY_SETS.values():
        truth = _truth_of(query_set.target, shared_truth)
        for query in query_set.queries:
            indices = relevant_events(query, truth, shared_truth)
            assert bool(indices) == (query.kind != "negative"), (query_set.target, query.text)


def test_colour_queries_follow_the_descriptions(shared_truth):
    """Every event a colour query counts is described with that colour; on parking-lot-cars (the colour target's
    clip) no other event is."""
    for query_set in QUERY_SETS.values():
        if query_set.built is not None:
            continue
        events = shared_truth[query_set.target].events
        for query in query_set.queries:
            named = [c for c in COLOURS if re.search(rf"\b{c}\b", query.text)]
            if query.kind != "colour" or not named:
                continue
            for i in query.relevant:
                assert all(c in events[i][2] for c in named), (query.text, events[i][2])
            if query_set.target == "parking-lot-cars.mp4":
                others = [e[2] for i, e in enumerate(events) if i not in query.relevant]
                assert not any(c in text for c in named for text in others), query.text


def test_on_the_multi_scene_stream_a_car_is_the_parking_lot_and_the_road_never_the_room(shared_truth):
    truth = _truth_of("built:multi-scene", shared_truth)
    by_text = {q.text: q for q in QUERY_SETS["built:multi-scene"].queries}
    car = [truth.events[i][2] for i in relevant_events(by_text["a car"], truth, shared_truth)]
    assert len(car) == 4 + 5  # every car of both car scenes
    assert all(source_of(t)[0] in ("parking-lot-cars.mp4", "bgslibrary-road-topdown.avi") for t in car)
    person = [source_of(truth.events[i][2]) for i in relevant_events(by_text["a person"], truth, shared_truth)]
    assert {clip for clip, _, _ in person} == {"room-people-one-by-one.mp4", "tracktor-spiders.mp4"}
    red = [source_of(truth.events[i][2]) for i in relevant_events(by_text["a red car"], truth, shared_truth)]
    assert sorted(red) == [("bgslibrary-road-topdown.avi", 4.0, 6.2), ("parking-lot-cars.mp4", 14.95, 19.0)]


SMALL = ClipTruth(duration_s=20.0, kind="sparse", events=[(1.0, 2.0, "a car"), (5.0, 6.0, "a dog")], quiet=[])
BUILT = ClipTruth(duration_s=40.0, kind="sparse", quiet=[],
                  events=[(11.0, 12.0, "a car [src.mp4 1.0-2.0 s]"), (25.0, 26.0, "a dog [src.mp4 5.0-6.0 s]"),
                          (31.0, 32.0, "a car [src.mp4 1.0-2.0 s]")])


def test_relevant_events_of_a_clip_and_of_a_built_stream():
    assert relevant_events(Query("a car", "class", (0,)), SMALL) == (0,)
    with pytest.raises(ValueError, match="event 2 does not exist"):
        relevant_events(Query("a car", "class", (2,)), SMALL)
    sources = {"src.mp4": SMALL}
    # the one source car is shown twice: both showings are relevant
    assert relevant_events(Query("a car", "class", sources={"src.mp4": (0,)}), BUILT, sources) == (0, 2)
    assert relevant_events(Query("anything", "class", sources={"src.mp4": ALL}), BUILT, sources) == (0, 1, 2)
    with pytest.raises(ValueError, match="shared truth is needed"):
        relevant_events(Query("a car", "class", sources={"src.mp4": (0,)}), BUILT)
    with pytest.raises(ValueError, match="has no event 7"):
        relevant_events(Query("a car", "class", sources={"src.mp4": (7,)}), BUILT, sources)
    with pytest.raises(ValueError, match="no truth for source clip 'other.mp4'"):
        relevant_events(Query("a car", "class", sources={"other.mp4": (0,)}), BUILT, sources)
    moved = BUILT.model_copy(update={"events": [(11.0, 12.0, "a car [src.mp4 1.5-2.0 s]")]})
    with pytest.raises(ValueError, match="no event 1.5-2.0 s in src.mp4"):
        relevant_events(Query("a car", "class", sources={"src.mp4": (0,)}), moved, sources)
    with pytest.raises(ValueError, match="does not name its source"):
        relevant_events(Query("a car", "class", sources={"src.mp4": (0,)}), SMALL, sources)
