"""Retention: how long highlights stay, how much disk their clips take, and files nobody points to.

Per stream (`StoreConfig.retention_for`):

- highlights whose span ended more than `keep_days` ago go, with their clip and
  thumbnail files, and so do that stream's older scores, states and messages;
- past `clips_max_gb` of clips, the oldest highlights lose their clip (the file is
  deleted, the row keeps its span, objects and thumbnail, `clip` becomes NULL);
- recaps (the daily recap videos, `recaps` rows) written more than `recaps_keep_days`
  ago go, with their video, captions and JSON (the daemon's `recap.keep_days`);
- at start (`orphans=True`), files with no row are deleted: only clips named like
  the stream's (`<stream>_*.mp4`) in its clip folder, pictures in the store's
  own `thumbnails/<stream>/`, and daily recap files named as the daemon names them
  in `recaps_dir`; nothing else is ever touched.

It runs on its own connection; WAL and the busy timeout let it share the file with
the writer thread. On a database several daemons share (PostgreSQL), each daemon
passes `only=` its own stream ids: it prunes its streams' rows, files and recaps,
never another daemon's.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from vgsum.runtime.store.config import StoreConfig
from vgsum.runtime.store.schema import connect

log = logging.getLogger(__name__)

DAY_S = 86_400.0
GB = 1024**3


@dataclass
class RetentionReport:
    """What one pass removed."""

    highlights: int = 0
    clips: int = 0
    orphans: int = 0
    recaps: int = 0
    bytes_freed: int = 0


def _unlink(path: str | None, report: RetentionReport) -> bool:
    if not path:
        return False
    file = Path(path)
    try:
        size = file.stat().st_size
        file.unlink()
    except FileNotFoundError:
        return False
    except OSError as err:
        log.warning("retention: cannot delete %s: %s", file, err.strerror)
        return False
    report.bytes_freed += size
    return True


def apply_retention(
    cfg: StoreConfig,
    clips_dirs: Mapping[str, Path] | None = None,
    *,
    now: float | None = None,
    orphans: bool = False,
    recaps_keep_days: float | None = None,
    recaps_dir: Path | None = None,
    only: Collection[str] | None = None,
) -> RetentionReport:
    """One pass over every stream in the store (and every stream with a clip folder), and over the recaps.

    `recaps_keep_days` None keeps every recap; `recaps_dir` is where the daily recaps are written (orphans).
    `only`: these streams alone (a shared database), None: every stream in it.
    """
    now = time.time() if now is None else now
    report = RetentionReport()
    clips_dirs = dict(clips_dirs or {})
    conn = connect(cfg.target)
    try:
        streams = {r[0] for r in conn.execute("SELECT DISTINCT stream_id FROM highlights")}
        streams |= {r[0] for r in conn.execute("SELECT stream_id FROM streams")}
        if only is not None:
            streams &= set(only)
        for stream_id in sorted(streams):
            rule = cfg.retention_for(stream_id)
            if rule.keep_days is not None:
                _expire(conn, stream_id, now - rule.keep_days * DAY_S, report)
            if rule.clips_max_gb is not None:
                _cap_clips(conn, stream_id, int(rule.clips_max_gb * GB), report)
        if recaps_keep_days is not None:
            _expire_recaps(conn, now - recaps_keep_days * DAY_S, report, only)
        if orphans:
            _remove_orphans(conn, cfg.thumbnails_dir, clips_dirs, None if only is None else set(only), report)
            if recaps_dir is not None:
                _remove_recap_orphans(conn, recaps_dir, report)
    finally:
        conn.close()
    if report.highlights or report.clips or report.orphans or report.recaps:
        log.info(
            "retention: %d highlights expired, %d clips over the cap, %d recaps expired, %d orphan files; "
            "%.1f MB freed",
            report.highlights, report.clips, report.recaps, report.orphans, report.bytes_freed / 1e6,
        )
    return report


def _expire(conn, stream_id: str, cutoff: float, report: RetentionReport) -> None:
    rows = conn.execute(
        "SELECT id, clip, thumbnail FROM highlights WHERE stream_id = ? AND wall_end < ?", (stream_id, cutoff)
    ).fetchall()
    with conn:
        conn.execute("BEGIN")
        conn.execute("DELETE FROM highlights WHERE stream_id = ? AND wall_end < ?", (stream_id, cutoff))
        conn.execute("DELETE FROM scores WHERE stream_id = ? AND wall_time < ?", (stream_id, cutoff))
        conn.execute("DELETE FROM stream_states WHERE stream_id = ? AND wall_time < ?", (stream_id, cutoff))
        # the newest message of each kind stays: the publisher resumes its seq after it
        conn.execute(
            "DELETE FROM messages WHERE stream_id = ? AND wall_time < ? AND seq < "
            "(SELECT MAX(seq) FROM messages AS m WHERE m.stream_id = messages.stream_id AND m.kind = messages.kind)",
            (stream_id, cutoff),
        )
    for _id, clip, thumb in rows:  # files after the commit: a crash in between leaves orphans, never dangling rows
        report.clips += _unlink(clip, report)
        _unlink(thumb, report)
    report.highlights += len(rows)


def _cap_clips(conn, stream_id: str, cap_bytes: int, report: RetentionReport) -> None:
    rows = conn.execute(
        "SELECT id, clip FROM highlights WHERE stream_id = ? AND clip IS NOT NULL ORDER BY wall_start DESC, id DESC",
        (stream_id,),
    ).fetchall()
    total = 0
    over: list[tuple[str, str]] = []
    for highlight_id, clip in rows:
        try:
            size = Path(clip).stat().st_size
        except OSError:
            size = 0
        total += size
        if total > cap_bytes:
            over.append((highlight_id, clip))
    if not over:
        return
    with conn:
        conn.execute("BEGIN")
        conn.executemany("UPDATE highlights SET clip = NULL WHERE id = ?", [(h,) for h, _ in over])
    for _id, clip in over:
        report.clips += _unlink(clip, report)


def _remove_orphans(
    conn, thumbnails_dir: Path, clips_dirs: Mapping[str, Path], streams: set[str] | None, report: RetentionReport
) -> None:
    """`streams` None: every stream's thumbnail folder, else only theirs (a shared folder holds other daemons')."""
    known = {str(Path(p).resolve()) for (p,) in conn.execute("SELECT clip FROM highlights WHERE clip IS NOT NULL")}
    known |= {
        str(Path(p).resolve()) for (p,) in conn.execute("SELECT thumbnail FROM highlights WHERE thumbnail IS NOT NULL")
    }
    candidates: list[Path] = []
    for stream_id, folder in clips_dirs.items():
        if folder.is_dir():
            ours = re.compile(re.escape(stream_id) + r"_\d+\.\d+\.mp4")
            candidates += [p for p in folder.iterdir() if ours.fullmatch(p.name) and p.is_file()]
    if thumbnails_dir.is_dir():
        for folder in thumbnails_dir.iterdir():
            if folder.is_dir() and (streams is None or folder.name in streams):
                candidates += [p for p in folder.iterdir() if p.is_file() and p.suffix in (".jpg", ".part")]
    for path in candidates:
        if str(path.resolve()) not in known and _unlink(str(path), report):
            report.orphans += 1


# how the daemon names a daily recap's files (runtime/daemon/daily_recap.py): <stream>_<YYYY-mm-dd_HHMM>_<id>.<ext>
RECAP_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*_\d{4}-\d{2}-\d{2}_\d{4}_[0-9a-f]{16}\.(mp4|vtt|json)(\.part)?")


def recap_files(path: str, json_path: str | None) -> list[str]:
    """A recap's files: the video, its WebVTT captions beside it and its JSON of reasons."""
    video = Path(path)
    return [str(video), str(video.with_suffix(".vtt")), json_path or str(video.with_suffix(".json"))]


def _expire_recaps(conn, cutoff: float, report: RetentionReport, only: Collection[str] | None = None) -> None:
    rows = conn.execute("SELECT id, path, json_path, stream_id FROM recaps WHERE created_at < ?", (cutoff,)).fetchall()
    if only is not None:
        rows = [r for r in rows if r[3] in only]
    if not rows:
        return
    with conn:
        conn.execute("BEGIN")
        if only is None:
            conn.execute("DELETE FROM recaps WHERE created_at < ?", (cutoff,))
        else:
            conn.executemany("DELETE FROM recaps WHERE id = ?", [(r[0],) for r in rows])
    for _id, path, json_path, _stream in rows:  # files after the commit, as for highlights
        for file in recap_files(path, json_path):
            _unlink(file, report)
    report.recaps += len(rows)


def _remove_recap_orphans(conn, folder: Path, report: RetentionReport) -> None:
    if not folder.is_dir():
        return
    known = {
        str(Path(f).resolve())
        for path, json_path in conn.execute("SELECT path, json_path FROM recaps")
        for f in recap_files(path, json_path)
    }
    for file in folder.iterdir():
        if RECAP_FILE.fullmatch(file.name) and file.is_file() and str(file.resolve()) not in known:
            report.orphans += _unlink(str(file), report)
