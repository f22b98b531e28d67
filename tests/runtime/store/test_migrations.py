"""A store written by the version-1 schema opens, moves to the current version (zones, looks, recaps), and keeps
every row readable."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from vgsum.runtime.store.reader import StoreReader
from vgsum.runtime.store.schema import MIGRATIONS, SCHEMA_VERSION, connect, current_version


def test_a_version_1_store_migrates_and_its_highlights_read_with_no_zones(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    old = sqlite3.connect(db)
    old.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at REAL NOT NULL)")
    old.executescript(MIGRATIONS[1])  # exactly what the version-1 vgsum created
    old.execute("INSERT INTO schema_version VALUES (1, 0)")
    old.execute(
        'INSERT INTO highlights (id, stream_id, phase, start, "end", wall_start, wall_end, score, objects, query, '
        "clip, thumbnail, created_at, updated_at) VALUES ('h1', 'cam', 'end', 1, 4, 100, 103, 0.9, "
        "'{\"person\": 1}', NULL, NULL, NULL, 100, 103)"
    )
    old.commit()
    old.close()
    conn = connect(db)  # a writer's connection migrates
    assert current_version(conn) == SCHEMA_VERSION == 5
    conn.execute("UPDATE highlights SET zones = '[\"door\"]' WHERE id = 'h1'")
    conn.close()
    with StoreReader(db) as reader:
        (row,) = reader.highlights(stream_id="cam")
        assert row.objects == {"person": 1} and row.zones == ["door"] and row.looks == []
        assert [r.id for r in reader.highlights(zone="door")] == ["h1"]
        assert reader.highlights(zone="street") == []
