"""A real RTSP camera on 127.0.0.1 that can lose power, hang and come back: for the tests and `vgsum bench soak`.

The server is GStreamer's rtsp-server (`rtsp_camera_server.py`), run by the SYSTEM
python3 because it needs `gi`, which the venv does not have. `RtspCamera` is its
controller: start, kill (SIGKILL, as a camera losing power), freeze (SIGSTOP: the
sockets stay open and nothing comes) and restart on the same port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).with_name("rtsp_camera_server.py")
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


def missing_rtsp_server() -> str | None:
    """Why the RTSP camera cannot run here (with the apt packages that fix it), or None when it can."""
    if not os.path.exists(SYSTEM_PYTHON):
        return f"{SYSTEM_PYTHON} is absent"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", _PROBE], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        return "system python3 lacks gi/GstRtspServer (apt: python3-gi gir1.2-gst-rtsp-server-1.0)"
    if probe.stdout.strip():
        return f"GStreamer elements missing: {probe.stdout.strip()} (apt: gstreamer1.0-plugins-*)"
    return None


class RtspCamera:
    """The GStreamer RTSP server subprocess on a fixed port: /live (test pattern) and /clip (`clip`, real time)."""

    def __init__(self, clip: Path, auth: str | Sequence[str] | None = None) -> None:
        """`auth`: `USER:PASS` (split at the first ':'), or several, each a user the server lets in."""
        self.port = free_port()
        self.clip = clip
        self.auth = [auth] if isinstance(auth, str) else list(auth or ())
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout_s: float = 20.0) -> None:
        """Start (or restart on the same port) and wait for READY."""
        cmd = [SYSTEM_PYTHON, str(SERVER_SCRIPT), str(self.port), str(self.clip)]
        for user_password in self.auth:
            cmd += ["--auth", user_password]
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
