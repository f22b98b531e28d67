"""The page's JSON questions, answered through `StoreReader`.

The store file is opened on first use and kept: the daemon's writer may create it
after the page server starts, and a missing or unusable file is not fatal here.
The page then shows the live stream states and says why there is no history.
One reader connection serves every request thread, under a lock (SQLite reads are
a few milliseconds; a connection per thread would hold one per SSE client).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vgsum.runtime.common.times import parse_time
from vgsum.runtime.store.postgres import PostgresTarget
from vgsum.runtime.store.reader import MAX_LIMIT, HighlightRow, StoreReader
from vgsum.runtime.store.search import MeaningSearch, search_highlights
from vgsum.stream.errors import UserError

# stream id -> its current state (a StreamState or its value); the daemon's live view
LiveStates = Callable[[], Mapping[str, Any]]
# stream id -> {"masks": [polygon], "zones": [{"name", "polygon"}]}: what the daemon's config draws on each camera
Regions = Callable[[], Mapping[str, Mapping[str, Any]]]
PAGE_LIMIT = 100
MAX_SCORE_POINTS = 5000


class BadRequest(ValueError):
    """A query parameter the API cannot use (HTTP 400, the message is the body)."""


class StoreAccess:
    """The one reader of the page server, opened lazily and shared under a lock."""

    def __init__(self, path: Path | PostgresTarget, text_engine: Any | None = None) -> None:
        self.path = path
        self.text_engine = text_engine  # reads the query box by meaning when given (the daemon's text engine)
        self._lock = threading.Lock()
        self._reader: StoreReader | None = None
        self.problem: str | None = None

    @contextmanager
    def reader(self) -> Iterator[StoreReader | None]:
        """The reader, or None (with `problem` saying why) while the store cannot be read."""
        with self._lock:
            if self._reader is None:
                if isinstance(self.path, Path) and not self.path.is_file():  # PostgreSQL: its connect says
                    self.problem = f"no history yet: {self.path} does not exist"
                else:
                    try:
                        self._reader = StoreReader(self.path)
                        self.problem = None
                    except UserError as err:
                        self.problem = str(err)
            yield self._reader

    def close(self) -> None:
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None


def highlight_json(row: HighlightRow) -> dict[str, Any]:
    """A highlight as the page sees it: file paths become URLs of this server."""
    data = row.as_dict()
    data["clip_url"] = f"/clips/{row.id}" if data.pop("clip") else None
    data["thumbnail_url"] = f"/thumbnails/{row.id}" if data.pop("thumbnail") else None
    return data


def streams(access: StoreAccess, live: LiveStates | None, regions: Regions | None = None) -> dict[str, Any]:
    """Every stream the store or the daemon knows, with its live state where the daemon runs it, and its masks and
    zones over its latest highlight's picture, so an owner can check where they lie."""
    drawn = dict(regions()) if regions is not None else {}
    with access.reader() as reader:
        rows = {r.stream_id: r for r in reader.streams()} if reader is not None else {}
        pictures = {}
        for stream_id in drawn:
            latest = [h for h in reader.highlights(stream_id=stream_id, limit=20) if h.thumbnail] if reader else []
            pictures[stream_id] = f"/thumbnails/{latest[0].id}" if latest else None
    now = dict(live()) if live is not None else {}
    out = []
    for stream_id in sorted(set(rows) | set(now)):
        row = rows.get(stream_id)
        state = now.get(stream_id)
        out.append(
            {
                "stream_id": stream_id,
                "url": row.url if row else None,
                "state": str(getattr(state, "value", state)) if state is not None else (row.state if row else None),
                "live": state is not None,
                "last_error": row.last_error if row else None,
                "updated_at": row.updated_at if row else None,
                "regions": drawn.get(stream_id),
                "picture_url": pictures.get(stream_id),
            }
        )
    return {"streams": out, "history": access.problem}


def highlights(access: StoreAccess, query: Mapping[str, list[str]]) -> dict[str, Any]:
    """One page of highlights, newest first; `next` is the `before` of the following page."""
    limit = _integer(query, "limit", PAGE_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be 1..{MAX_LIMIT}")
    before = _one(query, "before")
    cursor = None
    if before:
        wall, comma, last_id = before.partition(",")
        try:
            cursor = (float(wall), last_id)
        except ValueError:
            raise BadRequest("before must be WALL_START,ID as given in `next`") from None
        if not comma:
            raise BadRequest("before must be WALL_START,ID as given in `next`")
    as_of = time.time()  # the live feed starts here: rows changed later come over /api/events
    text = _one(query, "query")
    filters = dict(
        stream_id=_one(query, "stream"), since=_time(query, "since"), until=_time(query, "until"),
        label=_one(query, "object"), zone=_one(query, "zone"),
    )
    with access.reader() as reader:
        if reader is None:
            rows, after = [], None
        elif text and access.text_engine is not None:  # by meaning: the objects answer it (store/search.py)
            rows, after = search_highlights(reader, MeaningSearch(access.text_engine, text), limit=limit,
                                            before=cursor, **filters)
        else:
            rows = reader.highlights(query=text, limit=limit, before=cursor, **filters)
            after = (rows[-1].wall_start, rows[-1].id) if len(rows) == limit else None
    following = f"{after[0]!r},{after[1]}" if after is not None else None
    return {"highlights": [highlight_json(r) for r in rows], "next": following, "as_of": as_of,
            "history": access.problem}


def scores(access: StoreAccess, query: Mapping[str, list[str]]) -> dict[str, Any]:
    """A stream's final scores as [wall_time, t, score] triples: the peak of each of `max_points` time slices."""
    stream_id = _one(query, "stream")
    if not stream_id:
        raise BadRequest("stream is required")
    max_points = _integer(query, "max_points", 1500)
    if not 1 <= max_points <= MAX_SCORE_POINTS:
        raise BadRequest(f"max_points must be 1..{MAX_SCORE_POINTS}")
    with access.reader() as reader:
        points = [] if reader is None else reader.scores(
            stream_id, since=_time(query, "since"), until=_time(query, "until"), max_points=max_points
        )
    return {"stream": stream_id, "points": [[p.wall_time, p.t, p.score] for p in points]}


def clip_path(access: StoreAccess, highlight_id: str, kind: str) -> Path | None:
    """The file the store recorded for this highlight (`clip` or `thumbnail`), if it still exists."""
    with access.reader() as reader:
        row = None if reader is None else reader.highlight(highlight_id)
    recorded = None if row is None else getattr(row, kind)
    if not recorded:
        return None
    path = Path(recorded)
    return path if path.is_file() else None


def _one(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name) or []
    value = values[-1].strip() if values else ""
    return value or None


def _number(query: Mapping[str, list[str]], name: str) -> float | None:
    value = _one(query, name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise BadRequest(f"{name} must be a number, not {value[:40]!r}") from None


def _integer(query: Mapping[str, list[str]], name: str, default: int) -> int:
    value = _number(query, name)
    return default if value is None else int(value)


def _time(query: Mapping[str, list[str]], name: str) -> float | None:
    """A time in any form `vgsum highlights` takes (runtime/common/times.py), or None when not given."""
    value = _one(query, name)
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as err:
        raise BadRequest(f"{name} {value[:40]!r}: {err}") from None
