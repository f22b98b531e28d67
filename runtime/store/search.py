"""The history searched by meaning: "a red car" finds the highlights whose objects were red cars.

A stored highlight keeps what its objects looked like (label, colour, ImageNet kind,
moving; runtime/language/looks.py). A search compiles the query once with the live
path's `QueryMatcher` and asks it of each highlight's looks, so the history answers a
query as the frames did. A highlight whose stored query contains the text (the older
substring search) is found too.
"""

from __future__ import annotations

from typing import Any

from vgsum.runtime.language.looks import matches_looks
from vgsum.runtime.language.matcher import QueryMatcher
from vgsum.runtime.store.reader import MAX_LIMIT, HighlightRow, StoreReader

MAX_SCANNED = 20_000  # rows a search reads at most for one page (newest first)


class MeaningSearch:
    """One query, compiled, asked of stored highlights."""

    def __init__(self, text_engine: Any, query: str) -> None:
        self.text = query.strip()
        self.matcher = QueryMatcher(text_engine, [self.text])
        self.notice = next(iter(self.matcher.notices().values()), None)

    def matches(self, row: HighlightRow) -> bool:
        """Whether the highlight's objects answer the query (or its stored query contains the text)."""
        if row.query and self.text.lower() in row.query.lower():
            return True
        return bool(matches_looks(self.matcher, row.looks))


def search_highlights(
    reader: StoreReader, search: MeaningSearch, *, limit: int, before: tuple[float, str] | None = None, **filters: Any
) -> tuple[list[HighlightRow], tuple[float, str] | None]:
    """Up to `limit` matching highlights, newest first, and the key the next page starts before (None at the end)."""
    found: list[HighlightRow] = []
    scanned = 0
    cursor = before
    while len(found) < limit and scanned < MAX_SCANNED:
        rows = reader.highlights(limit=MAX_LIMIT, before=cursor, **filters)
        for row in rows:
            scanned += 1
            cursor = (row.wall_start, row.id)
            if search.matches(row):
                found.append(row)
                if len(found) == limit:
                    return found, cursor
        if len(rows) < MAX_LIMIT:
            return found, None
    return found, cursor if scanned >= MAX_SCANNED else None
