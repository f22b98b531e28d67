"""One stream's language state in one object: its compiled queries, its noise filter, its motion memory.

The pipeline holds one `StreamLanguage` per stream and calls `frame(...)` for each of its
frames in order: the objects that count (for a highlight's `objects`) and the queries they
match come back together. `set_queries` recompiles on a change (the control socket's
`set_queries`), `reset` forgets the scene on a reconnect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vgsum.runtime.engines.perception import FramePerception
from vgsum.runtime.language.kinds import ImageNetHead
from vgsum.runtime.language.matcher import QueryHit, QueryMatcher
from vgsum.runtime.language.motion import FrameChange
from vgsum.runtime.language.persistence import FilterSettings, ObjectFilter
from vgsum.runtime.language.seen import SeenObject, label_counts, seen_objects
from vgsum.runtime.language.tracks import TrackLabels


@dataclass
class FrameLanguage:
    """What one frame's objects say: those that count, their label counts, and the matched queries."""

    objects: list[SeenObject]  # every detected object, as the language layer sees it
    kept: list[SeenObject]  # those that count (the persistence filter's verdict)
    counts: dict[str, int]  # label -> how many of `kept`
    matches: dict[str, float]  # query -> strength in (0, 1]
    hits: dict[str, QueryHit] = field(default_factory=dict)  # query -> strength and indices into `kept`


class StreamLanguage:
    """A stream's queries, noise filter and motion memory; feed every frame in order."""

    def __init__(
        self,
        text_engine: Any,
        queries: Sequence[str] = (),
        *,
        head: ImageNetHead | None | bool = True,
        settings: FilterSettings | None = None,
    ) -> None:
        """`head`: the ImageNet classifier (True: the one beside the text engine, when there is one)."""
        self.text_engine = text_engine
        self.matcher = QueryMatcher(text_engine, queries, head=head)
        self.head = self.matcher.head
        self.filter = ObjectFilter(settings, vocabulary=self.matcher.vocabulary if self.head is not None else None)
        self.change = FrameChange()
        self.tracks = TrackLabels(self.filter.settings.overlap)

    @property
    def queries(self) -> list[str]:
        """The stream's queries as compiled (cleaned, duplicates removed)."""
        return self.matcher.queries

    def set_queries(self, queries: Sequence[str]) -> dict[str, str]:
        """Compile new queries (a UserError for a bad one, the old ones kept then); return their notices."""
        self.matcher = QueryMatcher(self.text_engine, queries, head=self.head or False)
        return self.matcher.notices()

    def notices(self) -> dict[str, str]:
        """query -> one line for the operator, for queries asking for what vgsum cannot see."""
        return self.matcher.notices()

    def reset(self) -> None:
        """Forget recent frames (a reconnect may bring another view)."""
        self.filter.reset()
        self.change.reset()
        self.tracks.reset()

    def frame(self, perceived: FramePerception, rgb: np.ndarray, changed: np.ndarray | None = None) -> FrameLanguage:
        """The next frame: build its objects, filter the noise, match the queries.

        `changed`: the changed-foreground mask of the stream's foreground model when the
        caller has one; else this object's own frame difference is used.
        """
        mask = changed if changed is not None else self.change.update(rgb)  # the caller's, else our own difference
        vocabulary = self.matcher.vocabulary if self.head is not None else None
        objects = seen_objects(perceived, rgb, self.head, changed=mask, vocabulary=vocabulary)
        kept = self.filter.filter(objects)
        if self.matcher.compiled:
            kept = self.tracks.carry(kept)  # only queries read the tracks' labels
            hits = self.matcher.match_objects(kept)
        else:
            self.tracks.reset()  # a query set later chains from its own first frame, not from a stale one
            hits = {}
        return FrameLanguage(
            objects=objects,
            kept=kept,
            counts=label_counts(kept),
            matches={query: hit.strength for query, hit in hits.items()},
            hits=hits,
        )
