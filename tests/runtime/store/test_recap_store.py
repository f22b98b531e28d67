"""Daily recaps in the store: migration 4 on an older file, the row the writer keeps from a `recap` message, reads,
and retention of recaps with their files (and of recap files no row points to)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from vgsum.runtime.daemon.daily_recap import recap_file_name
from vgsum.runtime.store.config import StoreConfig
from vgsum.runtime.store.reader import StoreReader
from vgsum.runtime.store.retention import DAY_S, RECAP_FILE, apply_retention
from vgsum.runtime.store.schema import SCHEMA_VERSION, connect, current_version, migrate
from vgsum.runtime.store.writer import StoreWriter
from vgsum.stream.messages import RecapMessage
from vgsum.stream.publish import Publisher

NOW = 1_800_000_000.0


def test_a_version_3_store_gains_the_recaps_table_and_keeps_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    old = sqlite3.connect(db, isolation_level=None)
    assert migrate(old, target=3) == 3  # exactly what the version-3 vgsum left
    old.execute(
        'INSERT INTO highlights (id, stream_id, phase, start, "end", wall_start, wall_end, score, objects, query, '
        "clip, thumbnail, created_at, updated_at, zones, looks) VALUES ('h1', 'cam', 'end', 1, 4, 100, 103, 0.9, "
        "'{\"person\": 1}', NULL, NULL, NULL, 100, 103, '[\"door\"]', '[]')"
    )
    assert old.execute("SELECT name FROM sqlite_master WHERE name = 'recaps'").fetchone() is None
    old.close()
    conn = connect(db)  # a writer's connection migrates
    assert current_version(conn) == SCHEMA_VERSION == 5
    conn.close()
    with StoreReader(db) as reader:  # a reader of this version opens it, recaps and highlights alike
        assert reader.recaps() == [] and reader.recap("nope") is None
        (row,) = reader.highlights(stream_id="cam")
        assert row.objects == {"person": 1} and row.zones == ["door"]


def test_the_writer_keeps_a_recap_row_from_its_message_and_resumes_its_seq(tmp_path: Path) -> None:
    writer = StoreWriter(tmp_path / "history.db", flush_s=0.05).start()
    video = tmp_path / "recaps" / recap_file_name("cam1", NOW, "0123456789abcdef")
    fields = dict(id="0123456789abcdef", since=NOW - DAY_S, until=NOW, duration=42.5, parts=7, query="a red car",
                  path=str(video), url="/recaps/0123456789abcdef.mp4", created_at=NOW + 3)
    with Publisher(["pub+bind:tcp://127.0.0.1:*"]) as publisher:
        publisher.observers.append(writer.record)
        sent = publisher.publish(RecapMessage, "cam1", **fields)
        assert writer.flush()
    assert writer.max_seqs()[("cam1", "recap")] == sent.seq == 0  # the next daemon continues after it
    writer.stop()
    with StoreReader(tmp_path / "history.db") as reader:
        row = reader.recap("0123456789abcdef")
        assert row is not None and row.as_dict() == {
            "id": "0123456789abcdef", "stream_id": "cam1", "since": NOW - DAY_S, "until": NOW, "path": str(video),
            "json_path": str(video.with_suffix(".json")), "duration": 42.5, "parts": 7, "query": "a red car",
            "created_at": NOW + 3,
        }
        assert [r.id for r in reader.recaps(stream_id="cam1")] == ["0123456789abcdef"]
        assert reader.recaps(stream_id="cam2") == [] and reader.recaps(since=NOW + 4) == []
        (payload,) = reader.messages("cam1", "recap", 0)
        assert json.loads(payload) == json.loads(sent.model_dump_json())  # replayable as published
        assert [s.stream_id for s in reader.streams()] == ["cam1"]


def _recap(
    conn: sqlite3.Connection, folder: Path, recap_id: str, stream: str, age_days: float, now: float = NOW
) -> list[Path]:
    """A recap row written `age_days` before `now`, with its three files (100 bytes each)."""
    created = now - age_days * DAY_S
    video = folder / recap_file_name(stream, created, recap_id)
    files = [video, video.with_suffix(".vtt"), video.with_suffix(".json")]
    for file in files:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(b"\0" * 100)
    conn.execute(
        "INSERT INTO recaps (id, stream_id, since, until, path, json_path, duration, parts, query, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 30, 3, NULL, ?)",
        (recap_id, stream, created - DAY_S, created, str(video), str(files[2]), created),
    )
    return files


def test_old_recaps_go_with_their_files_and_orphans_named_like_recaps_go_at_start(tmp_path: Path) -> None:
    cfg = StoreConfig.model_validate({"path": tmp_path / "history.db"})
    folder = tmp_path / "recaps"
    conn = connect(cfg.db_path)
    old = _recap(conn, folder, "a" * 16, "cam1", 20)
    new = _recap(conn, folder, "b" * 16, "cam1", 2)
    other = _recap(conn, folder, "c" * 16, "gate", 13.9)
    conn.close()
    orphan = folder / recap_file_name("cam1", NOW - 3 * DAY_S, "d" * 16)  # a crash before its row was written
    orphan.write_bytes(b"\0" * 50)
    assert RECAP_FILE.fullmatch(orphan.name)
    notes = folder / "notes.txt"  # not ours: never touched
    notes.write_text("mine\n")
    page = folder / "page" / ("e" * 16 + ".mp4")  # the page's recaps are the recap service's own
    page.parent.mkdir()
    page.write_bytes(b"\0")

    report = apply_retention(cfg, now=NOW, recaps_keep_days=None, recaps_dir=folder)
    assert report.recaps == 0 and all(f.exists() for f in old)  # None keeps every recap; orphans only at start

    report = apply_retention(cfg, now=NOW, recaps_keep_days=14, recaps_dir=folder, orphans=True)
    assert report.recaps == 1 and report.orphans == 1 and report.bytes_freed == 350
    with StoreReader(cfg.db_path) as reader:
        assert sorted(r.id for r in reader.recaps()) == ["b" * 16, "c" * 16]
    assert not any(f.exists() for f in old) and not orphan.exists()
    assert all(f.exists() for f in new + other) and notes.exists() and page.exists()


def test_recaps_expire_on_the_daemons_retention_loop(tmp_path: Path) -> None:
    import threading

    from vgsum.runtime.daemon.retention import RetentionLoop

    cfg = StoreConfig.model_validate({"path": tmp_path / "history.db"})
    conn = connect(cfg.db_path)
    old = _recap(conn, tmp_path / "recaps", "a" * 16, "cam1", 15, now=time.time())
    conn.close()
    RetentionLoop(cfg, {}, threading.Event(), recaps_keep_days=14, recaps_dir=tmp_path / "recaps").apply()
    assert not any(f.exists() for f in old)
    with StoreReader(cfg.db_path) as reader:
        assert reader.recaps() == []
