"""`StoreWriter`: the one thread that writes the history, fed with the messages the daemon publishes.

Why messages: the daemon (`Publisher.observers`), `vgsum collect` (a subscriber of
several daemons) and catch-up all hold the same published messages, so one
writer turns any of them into the same rows. `record` is called on the
publishing thread (the pipeline's): it filters by kind and puts a tuple in a
bounded queue, never waiting; a full queue counts the record as dropped, per
stream, so scoring never stalls on SQLite.

The thread commits a transaction every `batch` records or `flush_s` seconds.
Rows per kind:

- `status`: the `streams` row, and a `stream_states` row when the state or error changed;
- `event`: the `highlights` row (start inserts, update/end update), and its payload in `messages`;
- `highlight`: its payload in `messages` (catch-up replays both kinds);
- `score`: final ones only, one point per second of stream time per stream (the second's peak);
- `recap`: the `recaps` row (the daily recap's files, range, length and parts), and its payload in `messages`.

On PostgreSQL (`store.url`) a lost server is not the end of the history: the batch in
hand is kept, the queue goes on filling up to its bound (then drops, counted), and
the thread reconnects with backoff (`reconnect_s` doubling to `reconnect_max_s`)
and commits the kept batch first. SQLite errors stay final, as before.

Wall times of a highlight come from its latest message: `wall_time - (media_time - start)`.
A stream marked `anchor(stream_id)` (a file read faster than real time) maps
stream time onto the wall clock from its first message instead, so its timeline
keeps the video's proportions.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vgsum.runtime.common.jpeg import encode_jpeg
from vgsum.runtime.store.postgres import PostgresTarget, scrub
from vgsum.runtime.store.schema import connect
from vgsum.stream.messages import (
    EventMessage,
    HighlightMessage,
    MessageBase,
    RecapMessage,
    ScoreMessage,
    StatusMessage,
)
from vgsum.stream.redact import redact_text
from vgsum.stream.stage_cpu import STAGE_CPU

log = logging.getLogger(__name__)

STORED_KINDS = frozenset({"status", "event", "highlight", "score", "recap"})
REPLAYED_KINDS = ("highlight", "event", "recap")  # the kinds kept in `messages` for catch-up by seq


class _StoppedWhileAway(Exception):
    """`stop()` came while the writer waited for the PostgreSQL server to come back."""


@dataclass
class _Bucket:
    second: int
    t: float
    score: float
    wall: float


class StoreWriter:
    """Bounded queue in, SQLite (or PostgreSQL) out, on one thread. `start()` opens it (UserError when unusable)."""

    def __init__(
        self,
        path: Path | PostgresTarget,
        *,
        thumbnails_dir: Path | None = None,
        queue_size: int = 10_000,
        batch: int = 500,
        flush_s: float = 0.5,
        daemon_id: str | None = None,
        reconnect_s: float = 0.5,
        reconnect_max_s: float = 10.0,
    ) -> None:
        self.path = path
        if thumbnails_dir is None:
            if isinstance(path, PostgresTarget):
                raise ValueError("a PostgreSQL store needs its thumbnails_dir")
            thumbnails_dir = path.parent / "thumbnails"
        self.thumbnails_dir = thumbnails_dir
        self.daemon_id = daemon_id
        self.reconnect_s = reconnect_s
        self.reconnect_max_s = reconnect_max_s
        self.reconnects = 0  # PostgreSQL sessions reopened after the server went away
        self.connected = True
        self.batch = batch
        self.flush_s = flush_s
        self._queue: queue.Queue[tuple] = queue.Queue(maxsize=queue_size)
        self._conn: Any = None  # sqlite3.Connection, or PgConnection
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._anchors: dict[str, float | None] = {}  # stream -> wall time at stream time 0 (None: not yet seen)
        self._buckets: dict[str, _Bucket] = {}
        self._states: dict[str, tuple[str, str | None]] = {}
        self._claimed: set[str] = set()  # streams whose `stream_daemons` row this run wrote
        self.dropped: Counter[str] = Counter()  # stream id -> records lost (queue full, or not written at stop)
        self.written = 0
        self.commits = 0
        self.busy_s = 0.0  # the writer thread's time in transactions (benchmarks)
        self.thread_cpu_s = 0.0  # the writer thread's CPU time, set when it ends (benchmarks)
        self.failure: str | None = None

    # -- life cycle -------------------------------------------------------------------
    def open(self) -> StoreWriter:
        """Open (and migrate) the database: a file that is not a usable store is a UserError of one line."""
        if self._conn is None:
            self._conn = connect(self.path)
        return self

    def start(self) -> StoreWriter:
        """Open the database if needed, then start the thread."""
        self.open()
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 1.0) -> None:
        """Write what is queued within `timeout_s`; what is left counts as dropped (logged once)."""
        if self._thread is None:  # opened, never started: only the connection to close
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            return
        self._stop.set()
        with contextlib.suppress(queue.Full):  # wakes a thread idling in `get`, so an idle stop takes no time
            self._queue.put_nowait(("buckets",))
        self._thread.join(timeout_s)
        left = self._discard_queue()
        if left:
            log.warning("store: %d records not written before the stop deadline", left)
        self._thread = None

    def max_seqs(self) -> dict[tuple[str, str], int]:
        """The highest stored seq per (stream, kind) of the replayed kinds (the publisher resumes after them)."""
        conn = self.open()._conn
        assert conn is not None
        rows = conn.execute("SELECT stream_id, kind, MAX(seq) FROM messages GROUP BY stream_id, kind").fetchall()
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def anchor(self, stream_id: str) -> None:
        """Map this stream's time onto the wall clock from its first message on (files faster than real time)."""
        self._anchors[stream_id] = None

    # -- the caller's side: never waits -------------------------------------------------
    def record(self, message: MessageBase, payload: str | None = None) -> None:
        """Queue a published message (the kinds the store keeps; others are ignored). `payload`: its JSON as sent."""
        kind = message.kind
        if kind not in STORED_KINDS or (kind == "score" and not message.final):  # type: ignore[attr-defined]
            return
        self._put(message.stream_id, ("msg", message, payload))

    def thumbnail(self, stream_id: str, highlight_id: str, rgb: np.ndarray) -> None:
        """Queue a highlight's picture (after its event): `<thumbnails>/<stream>/<id>.jpg`, replaced by later ones."""
        self._put(stream_id, ("thumb", stream_id, highlight_id, rgb))

    def looks(self, stream_id: str, highlight_id: str, looks: list) -> None:
        """Queue what a highlight's objects looked like (after its event), for history search by meaning."""
        self._put(stream_id, ("looks", stream_id, highlight_id, looks))

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until everything queued so far is committed (tests, `vgsum run` before it reports)."""
        done = threading.Event()
        self._put("", ("flush", done))
        return done.wait(timeout_s)

    def _put(self, stream_id: str, item: tuple) -> None:
        if self._thread is None or self._stop.is_set():
            self.dropped[stream_id] += 1
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped[stream_id] += 1

    # -- the thread ------------------------------------------------------------------------
    def _run(self) -> None:
        assert self._conn is not None
        conn = self._conn
        pg = isinstance(self.path, PostgresTarget)
        try:
            while True:
                items = self._take()
                if items:
                    self._commit_retrying(conn, items) if pg else self._commit(conn, items)
                elif self._stop.is_set():
                    break
            self._commit(conn, [("buckets",)])
        except _StoppedWhileAway:
            log.warning("store: stopped while the database was unreachable; the records in hand count as dropped")
        except Exception as err:  # a full disk or a broken file: history stops, scoring goes on
            if pg:  # psycopg's texts hold no password, but the rule is: none reaches a log, scrubbed regardless
                self.failure = scrub(f"{type(err).__name__}: {err}", self.path)[:200]
                log.error("store: writing failed; no more history is kept in this run: %s", self.failure)
            else:
                self.failure = redact_text(f"{type(err).__name__}: {err}")[:200]
                log.exception("store: writing failed; no more history is kept in this run")
            self._stop.set()
        finally:
            with contextlib.suppress(Exception):
                conn.close()
            self.thread_cpu_s = time.thread_time()  # the writer thread's whole CPU, for `vgsum bench pipeline`
            STAGE_CPU.add("store", self.thread_cpu_s)

    def _commit_retrying(self, conn: Any, items: list[tuple]) -> None:
        """Commit on PostgreSQL; a lost server keeps `items`, waits with backoff, reconnects and commits them then.

        Only the thread waits: `record` never does, and the queue drops past its bound.
        The per-stream state the batch moved (score buckets, last states) is restored
        before a retry, so the retried batch writes the rows the lost one would have.
        """
        import psycopg

        from vgsum.runtime.common.errors import UserError

        delay = self.reconnect_s
        while True:
            saved = copy.deepcopy((self._buckets, self._states, self._anchors, self._claimed))
            try:
                self._commit(conn, items)
                self.connected = True
                return
            except (psycopg.OperationalError, psycopg.InterfaceError, UserError) as err:
                if not conn.broken and not isinstance(err, UserError):
                    raise
                self._buckets, self._states, self._anchors, self._claimed = saved
                if self.connected:
                    log.warning("store: the database went away (%s); keeping up to %d records, reconnecting",
                                scrub(str(err), self.path)[:160], self._queue.maxsize)
                self.connected = False
            if self._stop.wait(delay):
                for item in items:  # stopping while the server is away: the batch in hand is lost, counted
                    if item[0] == "flush":
                        item[1].set()
                    elif item[0] != "buckets":
                        self.dropped[item[1].stream_id if item[0] == "msg" else item[1]] += 1
                raise _StoppedWhileAway
            delay = min(delay * 2, self.reconnect_max_s)
            try:
                conn.reconnect()
            except UserError:
                continue
            self.reconnects += 1
            log.info("store: reconnected to %s", self.path)

    def _take(self) -> list[tuple]:
        """Up to `batch` records, waiting at most `flush_s` after the first."""
        try:
            items = [self._queue.get(timeout=0.05 if self._stop.is_set() else self.flush_s)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.flush_s
        while len(items) < self.batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._stop.is_set():
                try:
                    items.append(self._queue.get_nowait())
                    continue
                except queue.Empty:
                    break
            try:
                items.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        return items

    def _commit(self, conn: Any, items: list[tuple]) -> None:
        waiting: list[threading.Event] = []
        started = time.perf_counter()
        conn.execute("BEGIN")
        try:
            with conn.batch() if getattr(conn, "postgres", False) else contextlib.nullcontext():
                self._apply_items(conn, items, waiting)
                conn.execute("COMMIT")
        except BaseException:
            if not self._retryable(conn):
                conn.execute("ROLLBACK")
            raise
        self.written += len(items)
        self.commits += 1
        self.busy_s += time.perf_counter() - started
        for event in waiting:
            event.set()

    def _apply_items(self, conn: Any, items: list[tuple], waiting: list[threading.Event]) -> None:
        """One transaction's rows; flush requests are collected into `waiting`, to be set once it commits."""
        for item in items:
            tag = item[0]
            if tag == "msg":
                self._apply(conn, item[1], item[2])
            elif tag == "thumb":
                self._write_thumbnail(conn, *item[1:])
            elif tag == "looks":
                conn.execute("UPDATE highlights SET looks = ? WHERE id = ?", (json.dumps(item[3]), item[2]))
            elif tag == "flush":
                self._flush_buckets(conn)
                waiting.append(item[1])
            elif tag == "buckets":
                self._flush_buckets(conn)

    @staticmethod
    def _retryable(conn: Any) -> bool:
        """A PostgreSQL session that died mid-transaction cannot roll back; the server already did."""
        return getattr(conn, "postgres", False) and conn.broken

    def _discard_queue(self) -> int:
        left = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return left
            if item[0] == "flush":
                continue
            left += 1
            self.dropped[item[1].stream_id if item[0] == "msg" else item[1]] += 1

    # -- rows ------------------------------------------------------------------------------
    def _wall(self, message: MessageBase, t: float) -> float:
        """Wall time of stream time `t`, from a message sent at (wall_time, media_time)."""
        sid = message.stream_id
        if sid in self._anchors:
            anchor = self._anchors[sid]
            if anchor is None:
                anchor = self._anchors[sid] = message.wall_time - (message.media_time or 0.0)
            return anchor + t
        return message.wall_time - ((message.media_time if message.media_time is not None else t) - t)

    def _apply(self, conn: Any, message: MessageBase, payload: str | None) -> None:
        sid = message.stream_id
        if isinstance(message, StatusMessage):
            self._status(conn, message)
            return
        if isinstance(message, ScoreMessage):
            self._score(conn, message)
            return
        if isinstance(message, EventMessage | HighlightMessage | RecapMessage):
            self._ensure_stream(conn, sid, message.wall_time)
            conn.execute(
                "INSERT OR IGNORE INTO messages (stream_id, kind, seq, wall_time, payload) VALUES (?, ?, ?, ?, ?)",
                (sid, message.kind, message.seq, message.wall_time, payload or message.model_dump_json()),
            )
        if isinstance(message, EventMessage):
            self._highlight(conn, message)
        elif isinstance(message, RecapMessage):
            self._recap(conn, message)

    def _ensure_stream(self, conn: Any, stream_id: str, wall: float) -> None:
        conn.execute(
            "INSERT OR IGNORE INTO streams (stream_id, url, state, last_error, updated_at) VALUES (?, '', ?, NULL, ?)",
            (stream_id, "unknown", wall),
        )
        self._claim(conn, stream_id, wall)

    def _claim(self, conn: Any, stream_id: str, wall: float) -> None:
        """Record once per run that this daemon writes the stream (`stream_daemons`), when it has an id."""
        if self.daemon_id is None or stream_id in self._claimed:
            return
        self._claimed.add(stream_id)
        conn.execute(
            "INSERT INTO stream_daemons (stream_id, daemon_id, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(stream_id) DO UPDATE SET daemon_id = excluded.daemon_id, updated_at = excluded.updated_at",
            (stream_id, self.daemon_id, wall),
        )

    def _status(self, conn: Any, message: StatusMessage) -> None:
        state = message.state.value
        error = redact_text(message.last_error) if message.last_error else None
        if self._states.get(message.stream_id) == (state, error):
            return
        self._states[message.stream_id] = (state, error)
        conn.execute(
            "INSERT INTO streams (stream_id, url, state, last_error, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(stream_id) DO UPDATE SET url = excluded.url, state = excluded.state, "
            "last_error = excluded.last_error, updated_at = excluded.updated_at",
            (message.stream_id, message.url, state, error, message.wall_time),
        )
        conn.execute(
            "INSERT INTO stream_states (stream_id, wall_time, state, last_error) VALUES (?, ?, ?, ?)",
            (message.stream_id, message.wall_time, state, error),
        )
        self._claim(conn, message.stream_id, message.wall_time)

    def _score(self, conn: Any, message: ScoreMessage) -> None:
        second = int(message.t // 1)
        bucket = self._buckets.get(message.stream_id)
        if bucket is not None and bucket.second == second:
            if message.score > bucket.score:
                bucket.t, bucket.score, bucket.wall = message.t, message.score, self._wall(message, message.t)
            return
        if bucket is not None:
            self._write_bucket(conn, message.stream_id, bucket)
        self._buckets[message.stream_id] = _Bucket(second, message.t, message.score, self._wall(message, message.t))

    def _write_bucket(self, conn: Any, stream_id: str, bucket: _Bucket) -> None:
        conn.execute(
            "INSERT INTO scores (stream_id, wall_time, t, score) VALUES (?, ?, ?, ?)",
            (stream_id, bucket.wall, bucket.t, bucket.score),
        )

    def _flush_buckets(self, conn: Any) -> None:
        for stream_id, bucket in self._buckets.items():
            self._write_bucket(conn, stream_id, bucket)
        self._buckets.clear()

    def _highlight(self, conn: Any, m: EventMessage) -> None:
        now = time.time()
        if m.reason == "interrupted":  # ended at a restart: its stored span and times stand as the last run left them
            conn.execute("UPDATE highlights SET phase = 'end', updated_at = ? WHERE id = ?", (now, m.id))
            return
        objects = json.dumps(m.objects, sort_keys=True)
        conn.execute(
            'INSERT INTO highlights (id, stream_id, phase, start, "end", wall_start, wall_end, score, objects, query, '
            "clip, thumbnail, created_at, updated_at, zones) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?) "
            'ON CONFLICT(id) DO UPDATE SET phase = excluded.phase, "end" = excluded."end", '
            "wall_start = excluded.wall_start, wall_end = excluded.wall_end, score = excluded.score, "
            "objects = excluded.objects, zones = excluded.zones, "
            "query = COALESCE(excluded.query, highlights.query), clip = COALESCE(excluded.clip, highlights.clip), "
            "updated_at = excluded.updated_at "
            "WHERE highlights.phase != 'end' OR excluded.phase = 'end'",
            (m.id, m.stream_id, m.phase, m.start, m.end, self._wall(m, m.start), self._wall(m, m.end), m.score,
             objects, m.query, m.clip, now, now, json.dumps(sorted(m.zones))),
        )

    def _recap(self, conn: Any, m: RecapMessage) -> None:
        """The recap's row; its JSON of reasons lies beside the video (runtime/recap/build.py writes both)."""
        conn.execute(
            "INSERT OR REPLACE INTO recaps (id, stream_id, since, until, path, json_path, duration, parts, query, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (m.id, m.stream_id, m.since, m.until, m.path, str(Path(m.path).with_suffix(".json")), m.duration,
             m.parts, m.query, m.created_at),
        )

    def _write_thumbnail(self, conn: Any, stream_id: str, highlight_id: str, rgb: Any) -> None:
        path = self.thumbnails_dir / stream_id / f"{highlight_id}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = rgb if isinstance(rgb, bytes) else encode_jpeg(np.asarray(rgb, np.uint8))
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(path)  # a reader never sees half a picture
        conn.execute("UPDATE highlights SET thumbnail = ? WHERE id = ?", (str(path), highlight_id))
