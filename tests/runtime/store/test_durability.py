"""The store file under faults: SIGKILL mid-write, an older schema, a newer one, a file that is not a database."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.store import schema
from vgsum.runtime.store.reader import StoreReader
from vgsum.runtime.store.writer import StoreWriter

WRITER_LOOP = """
import sys, time
from pathlib import Path
from vgsum.runtime.store.writer import StoreWriter
from vgsum.stream.messages import EventMessage, ScoreMessage
writer = StoreWriter(Path(sys.argv[1]), batch=50, flush_s=0.01).start()
i = 0
while True:  # as fast as it goes until SIGKILL: highlights and scores, many transactions
    now = time.time()
    writer.record(EventMessage(stream_id="cam", seq=i, media_time=i, wall_time=now, id=f"h{i}", phase="end",
                               start=i, end=i + 0.5, score=0.5, objects={"car": 1}))
    writer.record(ScoreMessage(stream_id="cam", seq=i, media_time=i, wall_time=now, t=float(i), score=0.4, final=True))
    i += 1
    if i % 200 == 0:
        time.sleep(0.001)
"""


@pytest.mark.slow
def test_sigkill_mid_write_leaves_a_consistent_readable_store(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    proc = subprocess.Popen([sys.executable, "-c", WRITER_LOOP, str(db)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        rows = 0
        while time.monotonic() < deadline and rows < 2000:
            time.sleep(0.2)
            if db.exists():
                try:
                    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                        rows = conn.execute("SELECT COUNT(*) FROM highlights").fetchone()[0]
                except sqlite3.OperationalError:
                    rows = 0
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert rows >= 2000, "the writer did not get going"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert (tmp_path / "history.db-wal").exists()  # killed with work in its log, not cleanly closed
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    highlights, messages = conn.execute(
        "SELECT (SELECT COUNT(*) FROM highlights), (SELECT COUNT(*) FROM messages)"
    ).fetchone()
    conn.close()
    assert highlights >= rows and messages == highlights  # whole transactions only: a row and its message
    with StoreReader(db) as reader:
        assert len(reader.highlights(stream_id="cam", limit=10)) == 10
    writer = StoreWriter(db).start()  # and the next run goes on writing
    assert writer.flush()
    writer.stop()


def _v1_file(path: Path) -> None:
    """A store as the first release wrote it: version-1 tables, one row each."""
    conn = sqlite3.connect(path)
    conn.executescript(
        schema.MIGRATIONS[1]
        + """
        CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at REAL NOT NULL);
        INSERT INTO schema_version VALUES (1, 0);
        INSERT INTO streams VALUES ('cam', 'rtsp://***@cam', 'streaming', NULL, 10);
        INSERT INTO highlights VALUES
            ('old', 'cam', 'end', 1, 5, 100, 104, 0.9, '{"dog": 1}', NULL, NULL, NULL, 100, 104);
        INSERT INTO messages VALUES ('cam', 'event', 7, 104, '{}');
        """
    )
    conn.close()


def test_an_older_file_opens_keeps_its_rows_and_takes_new_ones(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    _v1_file(db)
    writer = StoreWriter(db).open()
    assert writer.max_seqs() == {("cam", "event"): 7}
    writer.start()
    writer.stop()
    with StoreReader(db) as reader:
        assert reader.highlight("old").objects == {"dog": 1}
    conn = sqlite3.connect(db)
    assert schema.current_version(conn) == schema.SCHEMA_VERSION
    conn.close()


def test_an_empty_file_is_migrated_from_version_zero(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    db.touch()
    StoreWriter(db).start().stop()
    with StoreReader(db) as reader:
        assert reader.highlights() == []


def test_a_newer_schema_is_one_clear_line(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    _v1_file(db)
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, 0)")
    conn.close()
    with pytest.raises(UserError, match="schema version 99, newer than this vgsum knows") as err:
        StoreWriter(db).open()
    assert "\n" not in str(err.value)


def test_a_file_that_is_not_a_database_is_one_clear_line(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    db.write_bytes(b"this is not SQLite\x00" * 500)
    with pytest.raises(UserError, match=r"history database .*history.db cannot be used") as err:
        StoreWriter(db).open()
    assert "\n" not in str(err.value)
