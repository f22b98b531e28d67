"""A stream's queries as the engines see them: embedded once per change, matched against each frame's objects.

Queries change from other threads (the control socket) through `StreamQueries`,
which numbers each stream's queries with a version; the pipeline thread re-embeds
them here only when that version moved, not on every frame.
"""

from __future__ import annotations

import logging

import numpy as np

from vgsum.runtime.engines.perception import FramePerception
from vgsum.runtime.engines.text import TextEncoder
from vgsum.runtime.summary.queries import StreamQueries

log = logging.getLogger(__name__)


class LabelQueryMatch:
    """One stream's queries, embedded: the refiner's sentence-level query rows and the label match."""

    def __init__(self, stream_id: str, registry: StreamQueries, text: TextEncoder, bar: float) -> None:
        self.stream_id = stream_id
        self.registry = registry
        self.text = text
        self.bar = bar  # label-query cosine at or above which a label matches
        self.queries: tuple[str, ...] = ()
        self.vectors = np.zeros((0, text.dim), np.float32)
        self._version = -1

    def sync(self) -> None:
        """Re-embed the queries when they changed since the last frame."""
        version, queries = self.registry.versioned(self.stream_id)
        if version == self._version:
            return
        empty = np.zeros((0, self.text.dim), np.float32)
        self.vectors = np.stack([self.text.embed_query(q) for q in queries]) if queries else empty
        self.queries, self._version = queries, version
        log.info("stream %s: queries now %s", self.stream_id, list(queries) or "(none)")

    def match(self, perceived: FramePerception) -> dict[str, float]:
        """Per query: the best cosine between it and a detected object's label, when at or above the bar."""
        if not self.queries or perceived.count == 0:
            return {}
        labels = self.text.label_embeddings[perceived.classes]  # [n, Dl]
        sims = labels @ self.vectors.T  # [n, Q]
        best = sims.max(axis=0)
        return {q: float(s) for q, s in zip(self.queries, best, strict=True) if s >= self.bar}
