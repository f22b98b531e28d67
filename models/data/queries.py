"""The query benchmark's query set: free-text queries per clip or built stream, each with its relevant events.

`vgsum eval queries` asks whether a query picks the moments it names and nothing else.
The queries were written by reading the hand-made event descriptions in
`../shared/data/events/ground_truth.json` (never by looking at what the product outputs):
a query's relevant events are those whose description names what the query names, as a
participant. Five kinds:

- **class**: a COCO class word ("a car", "a person", "a dog"), or a class word beyond
  COCO ("a spider"; `coco=False`), which a label lookup cannot know;
- **synonym**: another word or a plural for the same thing ("a vehicle", "someone", "pedestrians");
- **sentence**: a sentence about it ("a car drives into the parking lot"); relevance is the
  events of the object the sentence is about, since no matcher step reads actions or scenes;
- **colour**: colour or size that tells some of those objects apart ("a red car", "a person
  in black", "a large truck"): relevant only where the description gives that colour or size;
- **negative**: something absent from the whole clip ("a dog" in the room); no relevant events.

**Held-out split.** Queries on `DEV_TARGETS` (room-people-one-by-one.mp4,
parking-lot-cars.mp4, sam2-01-dog.mp4) may be looked at while choosing a matcher's
thresholds or word lists; every other target is **held out**: reported only, never
used to choose anything. The multi-scene stream is held out for its queries, but half
its footage (the room and the parking lot) is dev footage, re-encoded at 640x360; the
strictly unseen footage is the road, the highway and the spiders.

Built streams: a query names relevant events of the stream's *source* clips (clip ->
event indices into ground_truth.json, `ALL` for every event of that clip); the built
truth's event texts end with `[clip start-end s]`, which maps them back
(`relevant_events`). So "a car" on the multi-scene stream is relevant to the parking
lot's and the road's cars and to nothing in the room or the spider scene.

No torch and no video here: the evaluator and its tests import this module cheaply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from vgsum.models.data.events import ClipTruth

Kind = Literal["class", "synonym", "sentence", "colour", "negative"]
KINDS: tuple[Kind, ...] = ("class", "synonym", "sentence", "colour", "negative")
# the kinds that name something in view: pooled together for the recall and precision targets (colour has its own)
POSITIVE_KINDS: tuple[Kind, ...] = ("class", "synonym", "sentence")
Split = Literal["dev", "held-out"]
ALL = "all"  # every event of a source clip

BUILT_PREFIX = "built:"
DEV_TARGETS = ("room-people-one-by-one.mp4", "parking-lot-cars.mp4", "sam2-01-dog.mp4")
# A built stream's event text ends with its source: "... [parking-lot-cars.mp4 14.45-18.3 s]".
_SOURCE = re.compile(r"\[(?P<clip>[^\[\]]+?) (?P<start>[0-9.]+)-(?P<end>[0-9.]+) s\]$")
_MATCH_S = 1e-3  # source times are copied from the shared truth as written


@dataclass(frozen=True)
class Query:
    """One query: its text, kind and relevant events (indices into the target clip's events, or per source clip)."""

    text: str
    kind: Kind
    relevant: tuple[int, ...] = ()  # a shared clip's own events
    sources: Mapping[str, tuple[int, ...] | str] = field(default_factory=dict)  # built streams: clip -> indices|ALL
    coco: bool = True  # False: the thing named is not among the detector's 80 classes


@dataclass(frozen=True)
class QuerySet:
    """The queries of one target: a shared clip's file name, or `built:<recipe>` for a built stream."""

    target: str
    queries: tuple[Query, ...]

    @property
    def built(self) -> str | None:
        """The built stream's recipe name, or None for a shared clip."""
        return self.target[len(BUILT_PREFIX):] if self.target.startswith(BUILT_PREFIX) else None

    @property
    def split(self) -> Split:
        """`dev` (may be tuned on) or `held-out` (reported only)."""
        return "dev" if self.target in DEV_TARGETS else "held-out"


def _q(text: str, kind: Kind, *relevant: int, coco: bool = True) -> Query:
    return Query(text, kind, tuple(relevant), coco=coco)


def _b(text: str, kind: Kind, coco: bool = True, **sources: tuple[int, ...] | str) -> Query:
    """A built-stream query; keyword names are source clips with `.`/`-` spelt as `_` (see `_CLIP_KEYS`)."""
    return Query(text, kind, sources={_CLIP_KEYS[k]: v for k, v in sources.items()}, coco=coco)


_CLIP_KEYS = {
    "room": "room-people-one-by-one.mp4",
    "parking": "parking-lot-cars.mp4",
    "road": "bgslibrary-road-topdown.avi",
    "spiders": "tracktor-spiders.mp4",
}

ROOM_ALL = (0, 1, 2, 3, 4, 5)
PARKING_ALL = (0, 1, 2, 3)
ROAD_ALL = (0, 1, 2, 3, 4)

QUERY_SETS: dict[str, QuerySet] = {
    s.target: s
    for s in [
        # Six people one at a time: 0 grey cardigan, 1 black jacket, 2 black top, 3 black T-shirt,
        # 4 grey sweater, 5 grey shirt and jeans.
        QuerySet("room-people-one-by-one.mp4", (
            _q("a person", "class", *ROOM_ALL),
            _q("person", "class", *ROOM_ALL),
            _q("people", "synonym", *ROOM_ALL),
            _q("someone", "synonym", *ROOM_ALL),
            _q("a human", "synonym", *ROOM_ALL),
            _q("someone walks in and leaves", "sentence", *ROOM_ALL),
            _q("a person stands at the table", "sentence", *ROOM_ALL),
            _q("a person in black", "colour", 1, 2, 3),
            _q("a person in grey", "colour", 0, 4, 5),
            _q("a dog", "negative"),
            _q("a bus", "negative"),
            _q("a skateboard", "negative"),
            _q("a car", "negative"),
        )),
        # Four cars one at a time (two at once at 14.95-18.3 s): 0 white, 1 grey-green, 2 red, 3 white.
        QuerySet("parking-lot-cars.mp4", (
            _q("a car", "class", *PARKING_ALL),
            _q("car", "class", *PARKING_ALL),
            _q("cars", "synonym", *PARKING_ALL),
            _q("a vehicle", "synonym", *PARKING_ALL),
            _q("an automobile", "synonym", *PARKING_ALL),
            _q("a car drives into the parking lot", "sentence", *PARKING_ALL),
            _q("a car drives past", "sentence", *PARKING_ALL),
            _q("a white car", "colour", 0, 3),
            _q("a red car", "colour", 2),
            _q("a green car", "colour", 1),
            _q("a person", "negative"),
            _q("a dog", "negative"),
            _q("a bus", "negative"),
            _q("a motorcycle", "negative"),
        )),
        # A woman and her dog play fetch: 0 toss (woman, ball), 1-3 and 5 the dog (with the ball in 1, 2, 5),
        # 4 and 6 woman and dog with the ball.
        QuerySet("sam2-01-dog.mp4", (
            _q("a dog", "class", 1, 2, 3, 4, 5, 6),
            _q("a person", "class", 0, 4, 6),
            _q("a ball", "class", 0, 1, 2, 4, 5, 6),
            _q("a puppy", "synonym", 1, 2, 3, 4, 5, 6),
            _q("a woman", "synonym", 0, 4, 6),
            _q("a dog plays fetch", "sentence", 1, 2, 3, 4, 5, 6),
            _q("a woman throws a ball", "sentence", 0, 4, 6),
            _q("a car", "negative"),
            _q("a cat", "negative"),
            _q("a horse", "negative"),
            _q("a bicycle", "negative"),
        )),
        # Five cars drive away to the right, up to three at once: 0 white, 1 silver, 2 red, 3 teal/green, 4 dark.
        QuerySet("bgslibrary-road-topdown.avi", (
            _q("a car", "class", *ROAD_ALL),
            _q("vehicles", "synonym", *ROAD_ALL),
            _q("traffic", "synonym", *ROAD_ALL),
            _q("cars drive along the road", "sentence", *ROAD_ALL),
            _q("a white car", "colour", 0),
            _q("a red car", "colour", 2),
            _q("a silver car", "colour", 1),
            _q("a green car", "colour", 3),
            _q("a person", "negative"),
            _q("a dog", "negative"),
            _q("a bicycle", "negative"),
            _q("a train", "negative"),
        )),
        # Busy highway (cars in every frame are no event): 0 a person (red top, apparently on a bicycle) on the
        # hard shoulder, 1 a white lorry, 2 the camera's pedestrian alarm on that person.
        QuerySet("bgslibrary-highway-cam.avi", (
            _q("a person", "class", 0, 2),
            _q("a truck", "class", 1),
            _q("a pedestrian", "synonym", 0, 2),
            _q("a lorry", "synonym", 1),
            _q("a cyclist", "synonym", 0, 2),
            _q("a person walks on the hard shoulder", "sentence", 0, 2),
            _q("a truck drives up the road", "sentence", 1),
            _q("a large truck", "colour", 1),
            _q("a white truck", "colour", 1),
            _q("a person in red", "colour", 0),
            _q("a dog", "negative"),
            _q("a horse", "negative"),
            _q("a boat", "negative"),
        )),
        # Room (people 2 and 3), spiders (0 and 2 the small spider, 1 a person's head), road and parking cars.
        QuerySet(BUILT_PREFIX + "multi-scene", (
            _b("a car", "class", parking=ALL, road=ALL),
            _b("a person", "class", room=ALL, spiders=(1,)),
            _b("a spider", "class", coco=False, spiders=(0, 2)),
            _b("a vehicle", "synonym", parking=ALL, road=ALL),
            _b("pedestrians", "synonym", room=ALL, spiders=(1,)),
            _b("someone", "synonym", room=ALL, spiders=(1,)),
            _b("a car drives past", "sentence", parking=ALL, road=ALL),
            _b("someone walks in and leaves", "sentence", room=ALL, spiders=(1,)),
            _b("a red car", "colour", parking=(2,), road=(2,)),
            _b("a white car", "colour", parking=(0, 3), road=(0,)),
            _b("a dog", "negative"),
            _b("a bus", "negative"),
            _b("a skateboard", "negative"),
        )),
    ]
}


def query_sets(targets: list[str] | None = None) -> list[QuerySet]:
    """The named targets' query sets (all by default), in the order asked; ValueError for an unknown one."""
    chosen = list(QUERY_SETS) if targets is None else targets
    unknown = [t for t in chosen if t not in QUERY_SETS]
    if unknown:
        raise ValueError(f"no query set for {unknown[0]!r}; known: {', '.join(QUERY_SETS)}")
    return [QUERY_SETS[t] for t in chosen]


def source_of(text: str) -> tuple[str, float, float] | None:
    """(clip, start, end) that a built stream's event text ends with, or None for a shared clip's own text."""
    found = _SOURCE.search(text)
    if found is None:
        return None
    return found["clip"], float(found["start"]), float(found["end"])


def relevant_events(
    query: Query, truth: ClipTruth, source_truths: Mapping[str, ClipTruth] | None = None
) -> tuple[int, ...]:
    """Indices into `truth.events` of the events relevant to `query`.

    A shared clip's query names them directly. A built stream's query names source
    events; each built event is traced to its source by the `[clip start-end s]` its
    text ends with, matched against `source_truths` (the shared truth). An index that
    does not exist, or a built event whose source cannot be found, is a ValueError: a
    query set out of step with its truth must not quietly score nothing.
    """
    if not query.sources:
        bad = [i for i in query.relevant if not 0 <= i < len(truth.events)]
        if bad:
            raise ValueError(f"query {query.text!r}: event {bad[0]} does not exist ({len(truth.events)} events)")
        return tuple(sorted(set(query.relevant)))
    if source_truths is None:
        raise ValueError(f"query {query.text!r} names source clips: the shared truth is needed to map them")
    wanted: set[tuple[str, int]] = set()
    for clip, indices in query.sources.items():
        if clip not in source_truths:
            raise ValueError(f"query {query.text!r}: no truth for source clip {clip!r}")
        count = len(source_truths[clip].events)
        chosen = range(count) if indices == ALL else indices
        bad = [i for i in chosen if not 0 <= i < count]
        if bad:
            raise ValueError(f"query {query.text!r}: {clip} has no event {bad[0]} ({count} events)")
        wanted |= {(clip, i) for i in chosen}
    out = []
    for index, (_, _, text) in enumerate(truth.events):
        source = source_of(text)
        if source is None:
            raise ValueError(f"built event {index} ({text[:60]!r}) does not name its source clip")
        clip, start, end = source
        matches = [
            i for i, (s, e, _) in enumerate(source_truths[clip].events if clip in source_truths else [])
            if abs(s - start) < _MATCH_S and abs(e - end) < _MATCH_S
        ]
        if not matches:
            raise ValueError(f"built event {index}: no event {start}-{end} s in {clip}'s truth")
        if any((clip, i) in wanted for i in matches):
            out.append(index)
    return tuple(out)


def counts() -> dict[str, dict[str, int]]:
    """Queries per split and kind (the report's table of the query set)."""
    table: dict[str, dict[str, int]] = {}
    for query_set in QUERY_SETS.values():
        row = table.setdefault(query_set.split, dict.fromkeys(KINDS, 0))
        for query in query_set.queries:
            row[query.kind] += 1
    return table
