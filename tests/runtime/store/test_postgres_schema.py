"""The store's schema on a real PostgreSQL: fresh, from older versions, several daemons starting at once, a newer
schema refused; migration 5 (the daemon id) on old SQLite files; `store.url` config rules."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from pydantic import BaseModel

from vgsum.runtime.common.configfile import parse_config
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.store.config import StoreConfig
from vgsum.runtime.store.postgres import PostgresTarget, translate, translate_ddl
from vgsum.runtime.store.postgres import connect as pg_connect
from vgsum.runtime.store.reader import StoreReader
from vgsum.runtime.store.schema import MIGRATIONS, SCHEMA_VERSION, _statements, connect, current_version
from vgsum.runtime.store.writer import StoreWriter
from vgsum.stream.messages import EventMessage


def _columns(conn, table: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return {name: kind for name, kind in rows}


def test_a_fresh_database_gets_every_table_with_8_byte_numbers(pg_target: PostgresTarget) -> None:
    conn = connect(pg_target)
    assert current_version(conn) == SCHEMA_VERSION == 5
    assert _columns(conn, "scores") == {"stream_id": "text", "wall_time": "double precision", "t": "double precision",
                                        "score": "double precision"}
    assert _columns(conn, "messages")["seq"] == "bigint" and _columns(conn, "stream_states")["id"] == "bigint"
    assert _columns(conn, "stream_daemons") == {"stream_id": "text", "daemon_id": "text",
                                                "updated_at": "double precision"}
    assert list(_columns(conn, "highlights"))[-2:] == ["zones", "looks"]  # the column order SQLite has
    conn.close()
    again = connect(pg_target)  # a second open migrates nothing
    assert [r[0] for r in again.execute("SELECT version FROM schema_version ORDER BY version")] == [1, 2, 3, 4, 5]
    again.close()


def test_daemons_starting_at_once_migrate_once(pg_target: PostgresTarget) -> None:
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            connect(pg_target).close()
        except BaseException as err:  # noqa: BLE001 - the test reports whatever went wrong
            errors.append(err)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    conn = connect(pg_target)
    assert [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")] == [1, 2, 3, 4, 5]
    conn.close()


@pytest.mark.parametrize("old", [1, 4])
def test_an_older_postgresql_store_migrates_and_keeps_its_rows(pg_target: PostgresTarget, old: int) -> None:
    raw = pg_connect(pg_target)  # what that older vgsum created, statement by statement
    raw.execute(translate_ddl("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at REAL NOT NULL)"))
    for step in range(1, old + 1):
        for statement in _statements(MIGRATIONS[step]):
            raw.execute(translate_ddl(statement))
        raw.execute("INSERT INTO schema_version VALUES (?, 0)", (step,))
    raw.execute(
        'INSERT INTO highlights (id, stream_id, phase, start, "end", wall_start, wall_end, score, objects, query, '
        "clip, thumbnail, created_at, updated_at) VALUES ('h1', 'cam', 'end', 1, 4, 100, 103, 0.9, "
        "'{\"person\": 1}', NULL, NULL, NULL, 100, 103)"
    )
    raw.execute("INSERT INTO streams VALUES ('cam', 'rtsp://***@cam/1', 'streaming', NULL, 100)")
    with pytest.raises(UserError, match=f"schema version {old}, expected {SCHEMA_VERSION}"):
        StoreReader(pg_target)  # a reader never migrates
    raw.close()
    conn = connect(pg_target)
    assert current_version(conn) == SCHEMA_VERSION
    conn.close()
    with StoreReader(pg_target) as reader:
        (row,) = reader.highlights(stream_id="cam")
        assert row.objects == {"person": 1} and row.zones == [] and row.looks == []
        assert reader.highlights(label="person")[0].id == "h1"
        (stream,) = reader.streams()
        assert stream.daemon_id is None and stream.state == "streaming"


def test_a_newer_postgresql_schema_is_one_clear_line(pg_target: PostgresTarget) -> None:
    connect(pg_target).close()
    raw = pg_connect(pg_target)
    raw.execute("INSERT INTO schema_version VALUES (99, 0)")
    raw.close()
    with pytest.raises(UserError, match="schema version 99, newer than this vgsum knows") as err:
        connect(pg_target)
    assert "\n" not in str(err.value)


def test_a_version_4_sqlite_file_gets_the_daemon_table(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    old = sqlite3.connect(db)
    old.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at REAL NOT NULL)")
    for step in range(1, 5):
        old.executescript(MIGRATIONS[step])
        old.execute("INSERT INTO schema_version VALUES (?, 0)", (step,))
    old.execute("INSERT INTO streams VALUES ('cam', 'file.mp4', 'ended', NULL, 100)")
    old.commit()
    old.close()
    connect(db).close()
    with StoreReader(db) as reader:
        (stream,) = reader.streams()
        assert (stream.stream_id, stream.daemon_id) == ("cam", None)
    writer = StoreWriter(db, daemon_id="edge-1").start()  # a daemon with an id claims the stream it writes
    writer.record(EventMessage(stream_id="cam", seq=1, media_time=10.0, wall_time=200.0, id="h1", phase="end",
                               start=1.0, end=10.0, score=0.9, objects={}, query=None))
    writer.stop(5.0)
    with StoreReader(db) as reader:
        assert [(s.stream_id, s.state, s.daemon_id) for s in reader.streams()] == [("cam", "ended", "edge-1")]


def test_the_sql_rewrites() -> None:
    assert translate("SELECT * FROM t WHERE a = ? AND b LIKE ? ESCAPE '\\'") == (
        "SELECT * FROM t WHERE a = %s AND b ILIKE %s ESCAPE '\\'"
    )
    assert translate("INSERT OR IGNORE INTO m (a, b) VALUES (?, ?)") == (
        "INSERT INTO m (a, b) VALUES (%s, %s) ON CONFLICT DO NOTHING"
    )
    assert translate("INSERT OR REPLACE INTO recaps (id, a, b) VALUES (?, ?, ?)") == (
        "INSERT INTO recaps (id, a, b) VALUES (%s, %s, %s) "
        "ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a, b = EXCLUDED.b"
    )
    assert translate_ddl("id INTEGER PRIMARY KEY AUTOINCREMENT, x REAL, n INTEGER") == (
        "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, x DOUBLE PRECISION, n BIGINT"
    )


@pytest.mark.parametrize(
    ("data", "expect"),
    [
        ({"url": "postgresql://vg:s3cret-pw@db:5432/history"}, "store.url: must not hold a password"),
        ({"url": "postgresql://vg@db/history?password=s3cret-pw"}, "store.url: must not hold a password"),
        ({"url": "mysql://vg@db/history"}, "store.url: must be a postgresql://"),
        ({"url": "postgresql://vg@db:5432"}, "store.url: names no database"),
        ({"url": "postgresql://vg@db/h", "path": "/tmp/h.db"}, "not both"),
        ({"url": "postgresql://vg@db/h", "password_file": "/p", "password_env": "P"}, "not both"),
        ({"password_env": "P"}, "go with store.url"),
    ],
)
def test_store_url_config_errors_are_one_line_without_the_secret(data: dict, expect: str) -> None:
    with pytest.raises(UserError) as err:
        parse_config({"store": data}, _Edge, where=None)
    assert expect in str(err.value) and "\n" not in str(err.value)
    assert "s3cret-pw" not in str(err.value)


def test_a_postgresql_store_keeps_its_files_in_the_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VGSUM_DATA", str(tmp_path))
    cfg = StoreConfig(url="postgresql://vg@db:5432/history", password_env="VGSUM_DB_PASSWORD", daemon_id="edge-7")
    assert cfg.target == PostgresTarget("postgresql://vg@db:5432/history", None, "VGSUM_DB_PASSWORD")
    assert cfg.thumbnails_dir == tmp_path.resolve() / "thumbnails" and cfg.clips_dir == tmp_path.resolve() / "clips"
    assert cfg.daemon == "edge-7" and StoreConfig().daemon  # default: the host name
    assert StoreConfig().target == StoreConfig().db_path  # SQLite stays the default


class _Edge(BaseModel):
    """A config holding a `store:` section, as the daemon's does (key paths read `store.url`)."""

    store: StoreConfig
