"""Every read of the store: streams, highlights by filter, score timelines, states, published messages and recaps.

One module so that the CLI (`vgsum highlights`), the control socket (replay,
catch-up) and the web page ask the same questions the same way. Reads use their
own connection; WAL lets them run while the daemon's writer commits. The same
queries run on PostgreSQL (`store.url`): its connection translates the SQL, and the
few that differ beyond text come from `postgres.PG_SQL`.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vgsum.runtime.store.postgres import PG_SQL, PostgresTarget
from vgsum.runtime.store.schema import connect

DEFAULT_LIMIT = 200
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class StreamRow:
    stream_id: str
    url: str
    state: str
    last_error: str | None
    updated_at: float
    daemon_id: str | None = None  # the daemon that last wrote the stream (store.daemon_id)


@dataclass(frozen=True)
class HighlightRow:
    id: str
    stream_id: str
    phase: str
    start: float
    end: float
    wall_start: float
    wall_end: float
    score: float
    objects: dict[str, int]
    query: str | None
    clip: str | None
    thumbnail: str | None
    created_at: float
    updated_at: float
    zones: list[str] = field(default_factory=list)
    looks: list[list] = field(default_factory=list)  # [label, colour, kind, moving] of its objects

    @property
    def closed(self) -> bool:
        """A highlight is closed once its `end` message was stored."""
        return self.phase == "end"

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__} | {"closed": self.closed}


@dataclass(frozen=True)
class ScorePoint:
    wall_time: float
    t: float
    score: float


@dataclass(frozen=True)
class StateRow:
    stream_id: str
    wall_time: float
    state: str
    last_error: str | None


@dataclass(frozen=True)
class RecapRow:
    """A daily recap video the daemon wrote (runtime/daemon/daily_recap.py), as its `recap` message announced it."""

    id: str
    stream_id: str
    since: float
    until: float
    path: str
    json_path: str | None
    duration: float
    parts: int
    query: str | None
    created_at: float

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _highlight(row: sqlite3.Row) -> HighlightRow:
    fields = dict(row)
    fields["objects"] = json.loads(fields["objects"] or "{}")
    fields["zones"] = json.loads(fields.get("zones") or "[]")
    fields["looks"] = json.loads(fields.get("looks") or "[]")
    return HighlightRow(**fields)


class StoreReader:
    """Read-only queries over one store file (or PostgreSQL database)."""

    def __init__(self, path: Path | PostgresTarget) -> None:
        self.path = path
        self._conn = connect(path, readonly=True)
        self._pg = isinstance(path, PostgresTarget)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> StoreReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def streams(self) -> list[StreamRow]:
        rows = self._conn.execute(
            "SELECT streams.*, stream_daemons.daemon_id FROM streams "
            "LEFT JOIN stream_daemons ON stream_daemons.stream_id = streams.stream_id ORDER BY streams.stream_id"
        ).fetchall()
        return [StreamRow(**dict(r)) for r in rows]

    def highlights(
        self,
        *,
        stream_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        query: str | None = None,
        label: str | None = None,
        zone: str | None = None,
        limit: int = DEFAULT_LIMIT,
        before: tuple[float, str] | None = None,
    ) -> list[HighlightRow]:
        """Highlights overlapping [since, until) in wall time, newest first.

        `query` matches the stored query text (substring, case-insensitive); `label`
        one object label exactly; `zone` one zone name exactly. `before` is the (wall_start, id) of the last row
        of the previous page, for keyset paging.
        """
        where: list[str] = []
        args: list[Any] = []
        if stream_id is not None:
            where.append("stream_id = ?")
            args.append(stream_id)
        if since is not None:
            where.append("wall_end >= ?")
            args.append(since)
        if until is not None:
            where.append("wall_start < ?")
            args.append(until)
        if query is not None:
            where.append("query LIKE ? ESCAPE '\\'")
            args.append("%" + _escape_like(query) + "%")
        if label is not None:
            where.append(PG_SQL["label"] if self._pg else
                         "EXISTS (SELECT 1 FROM json_each(highlights.objects) WHERE json_each.key = ?)")
            args.append(label)
        if zone is not None:
            where.append(PG_SQL["zone"] if self._pg else
                         "EXISTS (SELECT 1 FROM json_each(highlights.zones) WHERE json_each.value = ?)")
            args.append(zone)
        if before is not None:
            where.append("(wall_start, id) < (?, ?)")
            args.extend(before)
        sql = "SELECT * FROM highlights"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY wall_start DESC, id DESC LIMIT ?"
        args.append(max(1, min(int(limit), MAX_LIMIT)))
        return [_highlight(r) for r in self._conn.execute(sql, args).fetchall()]

    def open_highlights(self, stream_ids: list[str]) -> list[HighlightRow]:
        """Highlights of these streams whose `end` was never stored (a run that died), oldest first."""
        if not stream_ids:
            return []
        marks = ", ".join("?" * len(stream_ids))
        rows = self._conn.execute(
            f"SELECT * FROM highlights WHERE phase != 'end' AND stream_id IN ({marks}) ORDER BY wall_start, id",
            list(stream_ids),
        ).fetchall()
        return [_highlight(r) for r in rows]

    def highlights_changed(self, after: float, limit: int = DEFAULT_LIMIT) -> list[HighlightRow]:
        """Highlights written or updated at or after `after` (unix seconds), oldest change first.

        The web page's live feed: it asks again with the newest `updated_at` it saw.
        """
        rows = self._conn.execute(
            "SELECT * FROM highlights WHERE updated_at >= ? ORDER BY updated_at, id LIMIT ?",
            (after, max(1, min(int(limit), MAX_LIMIT))),
        ).fetchall()
        return [_highlight(r) for r in rows]

    def highlight(self, highlight_id: str) -> HighlightRow | None:
        row = self._conn.execute("SELECT * FROM highlights WHERE id = ?", (highlight_id,)).fetchone()
        return None if row is None else _highlight(row)

    def scores(
        self, stream_id: str, *, since: float | None = None, until: float | None = None, max_points: int = 2000
    ) -> list[ScorePoint]:
        """Final scores of one stream in wall-time order, thinned to at most `max_points` by bucket maxima.

        Buckets are equal spans of wall time, each kept as its peak (highlights are
        peaks), computed by SQLite so a day of points never crosses into Python.
        """
        where, args = _stream_window(stream_id, since, until)
        max_points = max(1, int(max_points))
        count, low, high = self._conn.execute(
            f"SELECT COUNT(*), MIN(wall_time), MAX(wall_time) FROM scores WHERE {where}", args
        ).fetchone()
        if count <= max_points:
            rows = self._conn.execute(
                f"SELECT wall_time, t, score FROM scores WHERE {where} ORDER BY wall_time", args
            ).fetchall()
            return [ScorePoint(*r) for r in rows]
        scale = max_points / max(high - low, 1e-9)
        if self._pg:
            rows = self._conn.execute(PG_SQL["thinned"].format(where=where), [low, scale, max_points - 1, *args])
            return [ScorePoint(*r) for r in rows.fetchall()]
        # SQLite returns the other columns of the row that holds MAX(score) (its documented bare-column rule)
        rows = self._conn.execute(
            f"SELECT wall_time, t, MAX(score) FROM scores WHERE {where} "
            "GROUP BY MIN(CAST((wall_time - ?) * ? AS INTEGER), ?) ORDER BY wall_time",
            [*args, low, scale, max_points - 1],
        ).fetchall()
        return [ScorePoint(*r) for r in rows]

    def states(self, stream_id: str, *, since: float | None = None, until: float | None = None) -> list[StateRow]:
        where, args = _stream_window(stream_id, since, until)
        sql = f"SELECT stream_id, wall_time, state, last_error FROM stream_states WHERE {where} ORDER BY wall_time"
        return [StateRow(*r) for r in self._conn.execute(sql, args).fetchall()]

    def messages(self, stream_id: str, kind: str, from_seq: int, to_seq: int | None = None) -> list[str]:
        """Published payloads of one (stream, kind) with from_seq <= seq <= to_seq, in seq order."""
        sql = "SELECT payload FROM messages WHERE stream_id = ? AND kind = ? AND seq >= ?"
        args: list[Any] = [stream_id, kind, from_seq]
        if to_seq is not None:
            sql += " AND seq <= ?"
            args.append(to_seq)
        return [r[0] for r in self._conn.execute(sql + " ORDER BY seq LIMIT ?", [*args, MAX_LIMIT]).fetchall()]

    def recaps(
        self, *, stream_id: str | None = None, since: float | None = None, limit: int = DEFAULT_LIMIT
    ) -> list[RecapRow]:
        """Recaps, newest first: of one stream or all, written at or after `since` (unix seconds) when given."""
        where: list[str] = []
        args: list[Any] = []
        if stream_id is not None:
            where.append("stream_id = ?")
            args.append(stream_id)
        if since is not None:
            where.append("created_at >= ?")
            args.append(since)
        sql = "SELECT * FROM recaps" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        args.append(max(1, min(int(limit), MAX_LIMIT)))
        return [RecapRow(**dict(r)) for r in self._conn.execute(sql, args).fetchall()]

    def recap(self, recap_id: str) -> RecapRow | None:
        row = self._conn.execute("SELECT * FROM recaps WHERE id = ?", (recap_id,)).fetchone()
        return None if row is None else RecapRow(**dict(row))


def _stream_window(stream_id: str, since: float | None, until: float | None) -> tuple[str, list[Any]]:
    """The WHERE clause and arguments of one stream's rows with since <= wall_time < until."""
    where = "stream_id = ?"
    args: list[Any] = [stream_id]
    if since is not None:
        where += " AND wall_time >= ?"
        args.append(since)
    if until is not None:
        where += " AND wall_time < ?"
        args.append(until)
    return where, args


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
