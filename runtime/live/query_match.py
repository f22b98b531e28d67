"""A stream's queries as the engines see them, and what each frame's objects say about them.

Queries change from other threads (the control socket, MQTT) through `StreamQueries`,
which numbers each stream's queries with a version; the pipeline thread re-reads them
here only when that version moved, not on every frame. Two things follow from a change:

- the refiner's sentence-level query rows (each query embedded whole by the text engine);
- the query matcher (`summary.query_matcher`): `language` (the default) reads each query
  phrase by phrase against the detector's labels and the ImageNet kinds of each object,
  its colour and whether it moves (runtime/language/), and keeps only objects seen with
  enough confidence or on enough frames; `phrases` does the same without the ImageNet
  kinds; `lookup` compares the whole query with the 80 label names (the older rule,
  kept as the benchmark's baseline).

A query that names nothing vgsum can see is kept, and gets one line saying so (the log,
the control reply, `vgsum run`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from vgsum.runtime.engines.perception import FramePerception
from vgsum.runtime.engines.text import TextEncoder
from vgsum.runtime.language.looks import Look, looks_of
from vgsum.runtime.language.stream_language import StreamLanguage
from vgsum.runtime.summary.queries import StreamQueries

log = logging.getLogger(__name__)

LOOKUP_BAR = 0.5  # `lookup`: label-query cosine at or above which a label matches


@dataclass
class FrameWords:
    """What one frame's objects say: the labels that count (a highlight's `objects`) and the matched queries."""

    labels: list[str]
    matches: dict[str, float] = field(default_factory=dict)  # query -> strength in (0, 1]
    looks: frozenset[Look] = frozenset()  # what the counted objects looked like (label, colour, kind, moving)


class StreamQueryMatch:
    """One stream's queries: the refiner's query rows, the matcher, and the notices of queries that see nothing."""

    def __init__(self, stream_id: str, registry: StreamQueries, text: TextEncoder, matcher: str = "language") -> None:
        self.stream_id = stream_id
        self.registry = registry
        self.text = text
        self.matcher = matcher
        self.queries: tuple[str, ...] = ()
        self.vectors = np.zeros((0, text.dim), np.float32)
        self.language = None if matcher == "lookup" else StreamLanguage(text, (), head=matcher == "language")
        self.notices: dict[str, str] = {}
        self._version = -1

    def sync(self) -> None:
        """Re-read the queries when they changed since the last frame."""
        version, queries = self.registry.versioned(self.stream_id)
        if version == self._version:
            return
        empty = np.zeros((0, self.text.dim), np.float32)
        self.vectors = np.stack([self.text.embed_query(q) for q in queries]) if queries else empty
        self.queries, self._version = queries, version
        self.notices = self.language.set_queries(queries) if self.language is not None else {}
        log.info("stream %s: queries now %s", self.stream_id, list(queries) or "(none)")
        for line in self.notices.values():
            log.warning("stream %s: %s", self.stream_id, line)

    def reset(self) -> None:
        """Forget recent frames (a reconnect may bring another view)."""
        if self.language is not None:
            self.language.reset()

    def frame(self, perceived: FramePerception, rgb: np.ndarray, changed: np.ndarray | None) -> FrameWords:
        """The labels that count in this frame and the queries its objects match."""
        if self.language is None:
            looks = frozenset((label, None, None, None) for label in perceived.labels)
            return FrameWords(list(perceived.labels), self._lookup(perceived), looks)
        said = self.language.frame(perceived, rgb, changed=changed)
        return FrameWords([o.label for o in said.kept], said.matches, looks_of(said.kept))

    def _lookup(self, perceived: FramePerception) -> dict[str, float]:
        """Per query: the best cosine between it and a detected object's label, when at or above the bar."""
        if not self.queries or perceived.count == 0:
            return {}
        labels = self.text.label_embeddings[perceived.classes]  # [n, Dl]
        best = (labels @ self.vectors.T).max(axis=0)  # [Q]
        return {q: float(s) for q, s in zip(self.queries, best, strict=True) if s >= LOOKUP_BAR}


def query_notices(text: TextEncoder, queries: list[str], matcher: str = "language") -> dict[str, str]:
    """The notices `queries` would get on a stream (compiled here, on the caller's thread: a control reply)."""
    if matcher == "lookup" or not queries:
        return {}
    return StreamLanguage(text, queries, head=matcher == "language").notices()
