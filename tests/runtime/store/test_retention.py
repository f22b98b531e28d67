"""Retention on real files: expiry by age with clip and thumbnail, the clip cap per stream, orphans at start."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from vgsum.runtime.store.config import StoreConfig
from vgsum.runtime.store.reader import StoreReader
from vgsum.runtime.store.retention import DAY_S, apply_retention
from vgsum.runtime.store.schema import connect

NOW = 1_800_000_000.0


def _highlight(conn: sqlite3.Connection, hid: str, stream: str, age_days: float, clip: Path | None, thumb: Path | None):
    wall = NOW - age_days * DAY_S
    conn.execute(
        'INSERT INTO highlights (id, stream_id, phase, start, "end", wall_start, wall_end, score, objects, query, '
        "clip, thumbnail, created_at, updated_at) VALUES (?, ?, 'end', 0, 5, ?, ?, 0.5, '{}', NULL, ?, ?, ?, ?)",
        (hid, stream, wall - 5, wall, None if clip is None else str(clip), None if thumb is None else str(thumb),
         wall, wall),
    )


def _file(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)
    return path


def test_old_highlights_go_with_their_files_and_per_stream_rules_apply(tmp_path: Path) -> None:
    cfg = StoreConfig.model_validate(
        {"path": tmp_path / "history.db", "retention": {"keep_days": 7, "clips_max_gb": None},
         "retention_streams": {"door": {"keep_days": 1, "clips_max_gb": None}}}
    )
    clips = tmp_path / "clips"
    conn = connect(cfg.db_path)
    files = {}
    rows = [("cam-old", "cam", 8), ("cam-new", "cam", 6), ("door-old", "door", 2), ("door-new", "door", 0.5)]
    for hid, stream, age in rows:
        clip = _file(clips / f"{stream}_{age:09.2f}.mp4", 1000)
        files[hid] = (clip, _file(cfg.thumbnails_dir / stream / f"{hid}.jpg", 10))
        _highlight(conn, hid, stream, age, *files[hid])
    conn.execute("INSERT INTO scores VALUES ('cam', ?, 0, 0.5), ('cam', ?, 0, 0.5)", (NOW - 8 * DAY_S, NOW - DAY_S))
    conn.close()

    report = apply_retention(cfg, {"cam": clips, "door": clips}, now=NOW)

    assert (report.highlights, report.clips) == (2, 2)
    with StoreReader(cfg.db_path) as reader:
        assert sorted(h.id for h in reader.highlights()) == ["cam-new", "door-new"]
        assert len(reader.scores("cam")) == 1
    for hid, (clip, thumb) in files.items():
        kept = hid.endswith("new")
        assert clip.exists() == kept and thumb.exists() == kept, hid


def test_clips_past_the_cap_go_oldest_first_and_the_rows_stay(tmp_path: Path) -> None:
    cfg = StoreConfig.model_validate(
        {"path": tmp_path / "history.db", "retention": {"keep_days": None, "clips_max_gb": 2500 / 1024**3}}
    )
    conn = connect(cfg.db_path)
    clips = [_file(tmp_path / "clips" / f"cam_{i:09.2f}.mp4", 1000) for i in range(4)]
    for i, clip in enumerate(clips):  # clip 0 is the oldest
        _highlight(conn, f"h{i}", "cam", 4 - i, clip, None)
    conn.close()
    apply_retention(cfg, now=NOW)
    assert [c.exists() for c in clips] == [False, False, True, True]
    with StoreReader(cfg.db_path) as reader:
        assert {h.id: h.clip is not None for h in reader.highlights()} == {"h0": False, "h1": False, "h2": True,
                                                                           "h3": True}


def test_orphans_are_removed_only_at_start_and_only_what_the_store_owns(tmp_path: Path) -> None:
    cfg = StoreConfig.model_validate({"path": tmp_path / "data" / "history.db"})
    clips = tmp_path / "clips"
    conn = connect(cfg.db_path)
    kept_clip = _file(clips / "cam_000001.00.mp4", 10)
    kept_thumb = _file(cfg.thumbnails_dir / "cam" / "h1.jpg", 10)
    _highlight(conn, "h1", "cam", 0, kept_clip, kept_thumb)
    conn.close()
    orphan_clip = _file(clips / "cam_000009.00.mp4", 10)
    orphan_thumb = _file(cfg.thumbnails_dir / "cam" / "gone.jpg", 10)
    others = [_file(clips / "holiday.mp4", 10), _file(clips / "camx_000001.00.mp4", 10), _file(clips / "notes.txt", 1)]

    apply_retention(cfg, {"cam": clips}, now=time.time())  # periodic pass: orphans stay
    assert orphan_clip.exists() and orphan_thumb.exists()

    report = apply_retention(cfg, {"cam": clips}, now=time.time(), orphans=True)
    assert report.orphans == 2
    assert not orphan_clip.exists() and not orphan_thumb.exists()
    assert kept_clip.exists() and kept_thumb.exists() and all(p.exists() for p in others)
