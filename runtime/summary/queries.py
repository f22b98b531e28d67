"""Each stream's free-text queries: how they are checked, and the one place that holds them while it runs.

Queries come from the config, from `vgsum run --query` and from the control
socket while the pipeline runs, so one function checks them all (`clean_queries`)
and one thread-safe store (`StreamQueries`) holds them. The store numbers each
stream's queries with a version that grows on every change: the pipeline thread
re-embeds a stream's queries only when its version moved, not on every frame.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from vgsum.runtime.common.errors import UserError

MAX_QUERIES = 16
MAX_QUERY_CHARS = 200


def clean_queries(queries: Iterable[str]) -> list[str]:
    """Strip, check and de-duplicate free-text queries; raises ValueError naming the bad one by position.

    A query must be non-empty after stripping, at most MAX_QUERY_CHARS characters,
    encodable as UTF-8 (JSON `\\ud800` escapes are not) and free of control characters.
    """
    queries = list(queries)
    if len(queries) > MAX_QUERIES:
        raise ValueError(f"at most {MAX_QUERIES} queries, got {len(queries)}")
    cleaned: list[str] = []
    for i, raw in enumerate(queries):
        text = raw.strip()
        if not text:
            raise ValueError(f"query {i} is empty")
        if len(text) > MAX_QUERY_CHARS:
            raise ValueError(f"query {i} is longer than {MAX_QUERY_CHARS} characters")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"query {i} is not valid Unicode (lone surrogate escape)") from None
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise ValueError(f"query {i} contains control characters")
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


class StreamQueries:
    """Every stream's current queries with a version number; safe to read and change from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queries: dict[str, tuple[int, tuple[str, ...]]] = {}

    def add(self, stream_id: str, queries: Iterable[str] = ()) -> None:
        """Register a stream with its first queries (version 0)."""
        cleaned = tuple(clean_queries(queries))
        with self._lock:
            self._queries[stream_id] = (0, cleaned)

    def stream_ids(self) -> list[str]:
        """The registered streams, in the order they were added."""
        with self._lock:
            return list(self._queries)

    def get(self, stream_id: str) -> list[str]:
        """A stream's current queries."""
        return list(self.versioned(stream_id)[1])

    def versioned(self, stream_id: str) -> tuple[int, tuple[str, ...]]:
        """(version, queries) of a stream; UserError for a stream that was never added."""
        with self._lock:
            try:
                return self._queries[stream_id]
            except KeyError:
                raise UserError(f"no stream {stream_id!r}") from None

    def set(self, stream_id: str, queries: Iterable[str]) -> None:
        """Replace a stream's queries (all or nothing: a bad query raises ValueError and changes nothing)."""
        cleaned = tuple(clean_queries(queries))
        with self._lock:
            if stream_id not in self._queries:
                raise UserError(f"no stream {stream_id!r}")
            version, _ = self._queries[stream_id]
            self._queries[stream_id] = (version + 1, cleaned)
