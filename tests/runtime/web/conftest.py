"""A real store file for the page's tests, filled as the daemon fills it, and a real run to fill it from.

`real_run` is the real CLI on the bundled sample: it writes its own store through
the daemon's writer (highlights with clips and thumbnails, final scores), which
`fill_from_run` copies into a test's store. `StoreFiller` writes single rows with
plain SQL through `schema.connect`, for the cases a test stages by hand (a
highlight that appears while the page is open, gaps in a timeline).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from vgsum.runtime.store.reader import StoreReader
from vgsum.runtime.store.schema import connect


class StoreFiller:
    """Writes streams, highlights and scores into a real SQLite store file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = connect(path)

    def close(self) -> None:
        self.conn.close()

    def stream(self, stream_id: str, url: str, state: str, *, last_error: str | None = None) -> None:
        now = time.time()
        with self.conn:
            self.conn.execute(
                "INSERT INTO streams VALUES (?, ?, ?, ?, ?) ON CONFLICT (stream_id) DO UPDATE SET "
                "url = excluded.url, state = excluded.state, last_error = excluded.last_error, "
                "updated_at = excluded.updated_at",
                (stream_id, url, state, last_error, now),
            )
            self.conn.execute(
                "INSERT INTO stream_states (stream_id, wall_time, state, last_error) VALUES (?, ?, ?, ?)",
                (stream_id, now, state, last_error),
            )

    def highlight(
        self,
        highlight_id: str,
        stream_id: str,
        *,
        start: float,
        end: float,
        wall0: float,
        score: float,
        objects: dict[str, int] | None = None,
        query: str | None = None,
        clip: Path | None = None,
        thumbnail: Path | None = None,
        phase: str = "end",
        updated_at: float | None = None,
    ) -> None:
        """One highlight at stream time [start, end] of a stream whose time 0 was wall time `wall0`."""
        now = time.time() if updated_at is None else updated_at
        with self.conn:
            self.conn.execute(
                'INSERT INTO highlights (id, stream_id, phase, start, "end", wall_start, wall_end, score, objects, '
                "query, clip, thumbnail, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                'ON CONFLICT (id) DO UPDATE SET phase = excluded.phase, "end" = excluded."end", '
                "wall_end = excluded.wall_end, score = excluded.score, objects = excluded.objects, "
                "clip = excluded.clip, thumbnail = excluded.thumbnail, updated_at = excluded.updated_at",
                (highlight_id, stream_id, phase, start, end, wall0 + start, wall0 + end, score,
                 json.dumps(objects or {}), query, None if clip is None else str(clip),
                 None if thumbnail is None else str(thumbnail), now, now),
            )

    def scores(self, stream_id: str, wall0: float, points: list[tuple[float, float]]) -> None:
        """Final scores as (stream time, score)."""
        with self.conn:
            self.conn.executemany(
                "INSERT INTO scores (stream_id, wall_time, t, score) VALUES (?, ?, ?, ?)",
                [(stream_id, wall0 + t, t, s) for t, s in points],
            )


def thumbnail_of(clip: Path, out: Path) -> Path:
    """A JPEG of the clip's first frame, 320 px wide, as the daemon stores one per highlight."""
    import av

    with av.open(str(clip)) as container:
        frame = next(container.decode(video=0))
    image = frame.to_image()
    image.thumbnail((320, 320))
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, "JPEG", quality=80)
    return out


@dataclass(frozen=True)
class RealRun:
    """What one `vgsum run --clips` on the bundled sample wrote: its report folder and its highlights."""

    report: Path
    store: Path
    stream_id: str
    highlights: list[dict]


@pytest.fixture(scope="session")
def real_run(tmp_path_factory: pytest.TempPathFactory, engine_folder: Path, bikes_mp4: Path) -> RealRun:
    """The real CLI on bikes.mp4 with clips: the highlights and H.264 clips the page shows."""
    root = tmp_path_factory.mktemp("web-run")
    out = root / "report"
    code = "import sys; from vgsum.runtime.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run(
        [sys.executable, "-c", code, "run", str(bikes_mp4), "--engines", str(engine_folder), "--clips",
         "--out", str(out), "--no-png", "--quiet"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "VGSUM_DATA": str(root / "data")},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    highlights = json.loads((out / "highlights.json").read_text())["highlights"]
    assert highlights and all(Path(h["clip"]).is_file() for h in highlights)
    store = root / "data" / "history.db"
    with StoreReader(store) as reader:
        (stream,) = reader.streams()
        stored = reader.highlights(stream_id=stream.stream_id)
    assert sorted(h.id for h in stored) == sorted(h["id"] for h in highlights)
    assert all(h.thumbnail and Path(h.thumbnail).is_file() for h in stored)
    return RealRun(out, store, stream.stream_id, highlights)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private VGSUM_DATA: nothing here writes the user's real data folder."""
    folder = tmp_path / "vgsum-data"
    folder.mkdir()
    monkeypatch.setenv("VGSUM_DATA", str(folder))
    return folder


@pytest.fixture
def store(data_dir: Path) -> Iterator[StoreFiller]:
    filler = StoreFiller(data_dir / "history.db")
    try:
        yield filler
    finally:
        filler.close()


def fill_from_run(store: StoreFiller, run: RealRun) -> list[str]:
    """The run's stream, final scores and highlights, as its writer stored them, copied into `store`; their ids."""
    conn = store.conn
    conn.execute("ATTACH DATABASE ? AS run", (str(run.store),))
    try:
        for table in ("streams", "highlights", "scores"):
            conn.execute(f"INSERT OR REPLACE INTO main.{table} SELECT * FROM run.{table}")
    finally:
        conn.execute("DETACH DATABASE run")
    return [h["id"] for h in run.highlights]
