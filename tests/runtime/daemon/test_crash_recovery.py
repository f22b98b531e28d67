"""A daemon killed with -9 while highlights are open ends them at its next start: every `start` gets its `end`.

A real `vgsum serve` on a looped, camera-paced clip (four cameras, so the engines are busy) is killed
mid-highlight; the store then holds highlights that never ended. The next start publishes an `end` for each,
with `reason: interrupted` and the span the store kept, before it scores anything new: the published payloads
(kept byte for byte in the store's messages) and the rows say so, and nothing is left open after a clean stop.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from polling import wait_until

pytestmark = pytest.mark.slow


def _serve(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "vgsum.runtime.cli", "serve", "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _rows(db: Path, sql: str, *args: object) -> list[tuple]:
    if not db.is_file():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:  # the schema is being created
        return []


def test_highlights_left_open_by_a_kill_are_ended_as_interrupted_at_the_next_start(
    tmp_path: Path, engine_folder: Path, bikes_mp4: Path, free_tcp_port
) -> None:
    db = tmp_path / "history.db"
    config = tmp_path / "edge.yaml"
    config.write_text(yaml.safe_dump({
        "streams": [{"stream_id": f"cam{i}", "url": str(bikes_mp4), "realtime": True, "loop": True}
                    for i in range(4)],
        "publish": {"endpoints": [f"pub+bind:tcp://127.0.0.1:{free_tcp_port()}"]},
        "engines": {"dir": str(engine_folder), "threads": 1},
        "control": {"enabled": False},
        "metrics": {"enabled": False},
        "web": {"enabled": False},
        "store": {"path": str(db), "flush_s": 0.1},
    }))
    first = _serve(config)
    try:
        wait_until(lambda: _rows(db, "SELECT id FROM highlights WHERE phase != 'end'"), 120, "an open highlight")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    left_open = {row[0]: row for row in _rows(db, 'SELECT id, stream_id, start, "end" FROM highlights '
                                                  "WHERE phase != 'end'")}
    assert left_open, "the kill came after every highlight had ended: nothing to recover"

    second = _serve(config)
    try:
        def recovered() -> bool:
            ended = {r[0] for r in _rows(db, "SELECT id FROM highlights WHERE phase = 'end'")}
            return set(left_open) <= ended

        wait_until(recovered, 120, "the open highlights ended")
    finally:
        second.send_signal(signal.SIGTERM)
        _, err = second.communicate(timeout=30)
    assert second.returncode == 0, err[-2000:]
    assert "ended" in err and "left open" in err
    payloads = [json.loads(p) for (p,) in _rows(db, "SELECT payload FROM messages WHERE kind = 'event' ORDER BY rowid")]
    interrupted = {p["id"]: p for p in payloads if p.get("reason") == "interrupted"}
    assert set(interrupted) == set(left_open)
    for highlight_id, (_, stream_id, start, end) in left_open.items():
        sent = interrupted[highlight_id]  # the end it never had: the span the store kept, version 4
        assert (sent["stream_id"], sent["phase"], sent["start"], sent["end"]) == (stream_id, "end", start, end)
        assert sent["schema_version"] == 4
    first_new = min((i for i, p in enumerate(payloads) if p["phase"] == "start" and p["id"] not in left_open),
                    default=len(payloads))
    assert all(i < first_new for i, p in enumerate(payloads) if p["id"] in interrupted)  # before any new work
    assert _rows(db, "SELECT id FROM highlights WHERE phase != 'end'") == []  # a clean stop ends the rest
