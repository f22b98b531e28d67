"""What a highlight's objects looked like, kept so its history can be searched by meaning later.

A live frame's objects are `SeenObject`s with boxes and probabilities; a highlight keeps
only their looks: (label, colour, ImageNet kind, moving), a handful per highlight. A
search of the history ("a red car", "someone walking") rebuilds an object from each look
and asks the same `QueryMatcher` the live path asks, so a stored highlight answers a
query as its frames did.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from vgsum.runtime.language.matcher import QueryMatcher
from vgsum.runtime.language.seen import SeenObject

Look = tuple[str, str | None, str | None, bool | None]  # (label, colour, ImageNet kind, moving)
KIND_MASS = 0.25  # the top ImageNet kind is kept when it holds at least this probability
MAX_LOOKS = 32  # per highlight: a crowd keeps its first looks, not every one


def look_of(obj: SeenObject) -> Look:
    """The look of one object: its label, colour, strongest ImageNet kind (when clear) and motion."""
    kind = obj.kinds[0][0] if obj.kinds and obj.kinds[0][1] >= KIND_MASS else None
    return (obj.label, obj.colour, kind, obj.moving)


def looks_of(objects: Iterable[SeenObject]) -> frozenset[Look]:
    """The distinct looks of a frame's objects."""
    return frozenset(look_of(o) for o in objects)


def objects_from_looks(looks: Iterable[Sequence]) -> list[SeenObject]:
    """Objects the matcher can read, one per stored look (full confidence: it counted when it was seen)."""
    return [
        SeenObject(
            label=str(label),
            score=1.0,
            box=(0.0, 0.0, 1.0, 1.0),
            kinds=[(str(kind), 1.0)] if kind else [],
            colour=colour,
            moving=moving,
        )
        for label, colour, kind, moving in looks
    ]


def matches_looks(matcher: QueryMatcher, looks: Iterable[Sequence]) -> dict[str, float]:
    """{query: strength} that a highlight with these looks gives its matcher's queries (every part in one look set)."""
    objects = objects_from_looks(looks)
    return matcher.match(objects) if objects else {}
