"""A store with real clips: stream `cam1` holds the sample's five GOPs as highlights an hour ago."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from recap_history import BIKES_GOPS, History, cut_clip
from web_history import StoreFiller


@pytest.fixture(scope="session")
def bikes_gops(bikes_mp4: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("gops")
    return [cut_clip(bikes_mp4, a, b, folder / f"gop{i}.mp4") for i, (a, b) in enumerate(BIKES_GOPS)]


@pytest.fixture
def history(tmp_path: Path, bikes_gops: list[Path]) -> Iterator[History]:
    """cam1: one highlight per GOP (its clip is that GOP), 10 s apart, scores rising to a peak in each."""
    filler = StoreFiller(tmp_path / "history.db")
    wall0 = time.time() - 3600
    filler.stream("cam1", "rtsp://cam1/stream", "running")
    ids = []
    for i, clip in enumerate(bikes_gops):
        (a, b), start = BIKES_GOPS[i], 10.0 * i
        filler.highlight(f"h{i}", "cam1", start=start, end=start + (b - a), wall0=wall0, score=0.5 + 0.1 * i,
                         objects={"person": 1, "bicycle": 1}, clip=clip)
        filler.scores("cam1", wall0, [(start + k * 0.5, 0.3 + 0.1 * i) for k in range(int((b - a) * 2))])
        ids.append(f"h{i}")
    try:
        yield History(filler, bikes_gops, wall0, ids)
    finally:
        filler.close()
