"""The store's tables, their version, and the migrations that bring an older file up to date.

Why a version table and numbered steps: a daemon upgraded in place opens the
database its previous release wrote; each step in `MIGRATIONS` moves a file one
version up inside one transaction, so an interrupted upgrade leaves the old
version intact. The version is `max(version)` of `schema_version`.

Times: `wall_*` columns are unix seconds; `start`, `end` and `t` are seconds of
stream time (media time), as in the ZeroMQ messages.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from vgsum.runtime.store.postgres import PgConnection, PostgresTarget, scrub, translate_ddl
from vgsum.stream.errors import UserError

SCHEMA_VERSION = 5

_V1 = """
CREATE TABLE streams (
    stream_id   TEXT PRIMARY KEY,
    url         TEXT NOT NULL,              -- credentials masked
    state       TEXT NOT NULL,              -- the latest StreamState
    last_error  TEXT,                       -- redacted
    updated_at  REAL NOT NULL
);
CREATE TABLE stream_states (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id   TEXT NOT NULL,
    wall_time   REAL NOT NULL,
    state       TEXT NOT NULL,
    last_error  TEXT
);
CREATE INDEX stream_states_by_time ON stream_states (stream_id, wall_time);
CREATE TABLE highlights (
    id          TEXT PRIMARY KEY,           -- the event id, the same in all its messages
    stream_id   TEXT NOT NULL,
    phase       TEXT NOT NULL,              -- start | update | end: the latest message's phase
    start       REAL NOT NULL,
    "end"       REAL NOT NULL,
    wall_start  REAL NOT NULL,              -- unix seconds at stream time `start`
    wall_end    REAL NOT NULL,
    score       REAL NOT NULL,
    objects     TEXT NOT NULL DEFAULT '{}', -- JSON: label -> count
    query       TEXT,
    clip        TEXT,                       -- path of the clip file, if written
    thumbnail   TEXT,                       -- path of a JPEG, if written
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE INDEX highlights_by_stream_time ON highlights (stream_id, wall_start);
CREATE INDEX highlights_by_time ON highlights (wall_start);
CREATE TABLE scores (
    stream_id   TEXT NOT NULL,
    wall_time   REAL NOT NULL,
    t           REAL NOT NULL,
    score       REAL NOT NULL               -- final scores only, downsampled for timelines
);
CREATE INDEX scores_by_stream_time ON scores (stream_id, wall_time);
CREATE TABLE messages (
    stream_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,              -- highlight | event
    seq         INTEGER NOT NULL,
    wall_time   REAL NOT NULL,
    payload     TEXT NOT NULL,              -- the JSON exactly as published
    PRIMARY KEY (stream_id, kind, seq)
);
CREATE INDEX messages_by_time ON messages (wall_time);
"""

# 2: a highlight's zones (the camera's named areas its objects and activity were in)
_V2 = """
ALTER TABLE highlights ADD COLUMN zones TEXT NOT NULL DEFAULT '[]';  -- JSON: zone names, sorted
"""

# 3: what a highlight's objects looked like, so the history can be searched by meaning ("a red car")
_V3 = """
ALTER TABLE highlights ADD COLUMN looks TEXT NOT NULL DEFAULT '[]';  -- JSON: [label, colour, kind, moving] each
"""

# 4: the daily recaps (runtime/recap/): one row per stream and recap video, written from its `recap` message
_V4 = """
CREATE TABLE recaps (
    id          TEXT PRIMARY KEY,           -- the recap's id, as in its message and on the page
    stream_id   TEXT NOT NULL,
    since       REAL NOT NULL,              -- unix seconds: the recapped range
    until       REAL NOT NULL,
    path        TEXT NOT NULL,              -- the MP4 (its .vtt captions beside it)
    json_path   TEXT,                       -- the parts and why each was chosen
    duration    REAL NOT NULL,              -- seconds of video
    parts       INTEGER NOT NULL,
    query       TEXT,                       -- only highlights answering it were recapped, if set
    created_at  REAL NOT NULL
);
CREATE INDEX recaps_by_stream_time ON recaps (stream_id, created_at);
CREATE INDEX recaps_by_time ON recaps (created_at);
"""

# 5: several daemons may write one (PostgreSQL) database, each under its own stream ids: which daemon writes a stream
# (a table of its own, so `streams` keeps its columns for every older reader and tool)
_V5 = """
CREATE TABLE stream_daemons (
    stream_id   TEXT PRIMARY KEY,
    daemon_id   TEXT NOT NULL,              -- store.daemon_id of the daemon that last wrote the stream
    updated_at  REAL NOT NULL
);
"""

# version reached -> the script that reaches it from the version before
MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2, 3: _V3, 4: _V4, 5: _V5}


def current_version(conn: sqlite3.Connection | PgConnection) -> int:
    """0 for an empty file, else the highest applied migration."""
    if isinstance(conn, PgConnection):
        exists = conn.execute("SELECT to_regclass('schema_version')").fetchone()[0] is not None
    else:
        exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone()
    if not exists:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection | PgConnection, target: int = SCHEMA_VERSION) -> int:
    """Apply every missing step up to `target`, each in its own transaction; returns the version reached.

    On PostgreSQL several daemons may start at once against one database: a session
    advisory lock makes one of them migrate while the others wait, then find it done.
    """
    if not isinstance(conn, PgConnection):
        return _migrate(conn, target)
    conn.execute("SELECT pg_advisory_lock(?)", (_MIGRATION_LOCK,))
    try:
        return _migrate(conn, target)
    finally:
        conn.execute("SELECT pg_advisory_unlock(?)", (_MIGRATION_LOCK,))


_MIGRATION_LOCK = 0x76677375  # "vgsu": the advisory lock key of store migrations


def _migrate(conn: sqlite3.Connection | PgConnection, target: int) -> int:
    pg = isinstance(conn, PgConnection)
    version = current_version(conn)
    if version > SCHEMA_VERSION:
        raise UserError(
            f"the history database is schema version {version}, newer than this vgsum knows ({SCHEMA_VERSION}); "
            "upgrade vgsum or point store.path (store.url) elsewhere"
        )
    if version == 0:
        create = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at REAL NOT NULL)"
        conn.execute(translate_ddl(create) if pg else create)
    for step in range(version + 1, target + 1):
        with conn:  # a step commits whole or not at all: a crash mid-upgrade leaves the version before it
            conn.execute("BEGIN")
            for statement in _statements(MIGRATIONS[step]):
                conn.execute(translate_ddl(statement) if pg else statement)
            conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (step, time.time()))
        version = step
    return version


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (no `;` inside strings in ours), dropping `--` comments."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def connect(path: Path | PostgresTarget, *, readonly: bool = False) -> Any:
    """A connection in WAL mode with the schema up to date (a read-only one never migrates).

    A file that is not a SQLite database, or is damaged, is one UserError line. A
    `PostgresTarget` gives a `PgConnection` (same API, same schema); an unreachable
    server is one UserError line.
    """
    if isinstance(path, PostgresTarget):
        return _connect_postgres(path, readonly=readonly)
    try:
        if readonly:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA busy_timeout = 5000")
        _ready(conn, path, readonly)
    except sqlite3.DatabaseError as err:
        raise UserError(f"history database {path} cannot be used: {err}") from None
    conn.row_factory = sqlite3.Row
    return conn


def _ready(conn: Any, where: object, readonly: bool) -> None:
    """Migrate a writable connection; a read-only one must already hold this build's schema (one UserError line)."""
    if not readonly:
        migrate(conn)
        return
    version = current_version(conn)
    if version != SCHEMA_VERSION:
        raise UserError(f"history database {where}: schema version {version}, expected {SCHEMA_VERSION}")


def _connect_postgres(target: PostgresTarget, *, readonly: bool) -> PgConnection:
    from vgsum.runtime.store.postgres import connect as pg_connect

    conn = pg_connect(target)
    try:
        _ready(conn, target, readonly)
    except UserError:
        conn.close()
        raise
    except Exception as err:  # psycopg's errors: one line, scrubbed of the password
        conn.close()
        raise UserError(f"history database {target} cannot be used: {scrub(str(err), target)}") from None
    return conn
