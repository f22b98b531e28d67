"""Real parts for the stream tests: a GStreamer RTSP server subprocess and an ingest-to-ZeroMQ harness.

The RTSP server runs under the SYSTEM python3 (it needs `gi`, which the venv does
not have). Where GStreamer is missing the RTSP tests skip with the reason, except
under CI (`CI=true`), where a missing server is a failure.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from vgsum.runtime.config import EdgeConfig, PublishConfig
from vgsum.stream.config import StreamConfig
from vgsum.stream.messages import MessageBase, StatusMessage

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
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


def fast_stream(stream_id: str, url: str, **overrides: object) -> StreamConfig:
    """A StreamConfig with test-sized timeouts and backoff so faults resolve in seconds."""
    values: dict[str, object] = dict(
        stream_id=stream_id,
        url=url,
        open_timeout_s=3.0,
        read_timeout_s=3.0,
        stall_after_s=3.0,
        backoff_initial_s=0.2,
        backoff_max_s=1.0,
        backoff_jitter=0.1,
        max_retries=2,
    )
    values.update(overrides)
    return StreamConfig(**values)


@dataclass
class Harness:
    """A running IngestService publishing on a free local port, and a Subscriber listening to it."""

    service: object
    subscriber: object
    endpoint: str
    messages: list[MessageBase] = field(default_factory=list)

    def collect(self, until: Callable[[list[MessageBase]], bool], timeout_s: float) -> bool:
        """Receive into `messages` until `until(messages)` holds (True) or the timeout passes (False)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if until(self.messages):
                return True
            received = self.subscriber.recv(timeout_s=min(0.2, max(0.0, deadline - time.monotonic())))
            if received is not None:
                self.messages.append(received.message)
        return until(self.messages)

    def of(self, kind: str, stream_id: str | None = None) -> list[MessageBase]:
        """Collected messages of one kind (and stream)."""
        return [m for m in self.messages if m.kind == kind and (stream_id is None or m.stream_id == stream_id)]

    def states(self, stream_id: str) -> list[str]:
        """The sequence of distinct states seen in status messages of a stream."""
        out: list[str] = []
        for m in self.of("status", stream_id):
            assert isinstance(m, StatusMessage)
            if not out or out[-1] != m.state.value:
                out.append(m.state.value)
        return out


@pytest.fixture
def ingest() -> Iterator[Callable[..., Harness]]:
    """Factory: `ingest(stream_cfgs, **publish_opts)` starts a service + subscriber; all stopped after."""
    from vgsum.runtime.ingest_service import IngestService
    from vgsum.stream.publish import Publisher
    from vgsum.stream.subscribe import Subscriber, wait_until_subscribed

    started: list[Harness] = []

    def start(
        streams: list[StreamConfig],
        rcvhwm: int = 100_000,
        rcvbuf: int | None = None,
        sndhwm: int = 100_000,
        sndbuf: int | None = None,
        **publish: object,
    ) -> Harness:
        publish.setdefault("status_interval_s", 0.5)
        publish.setdefault("heartbeat_interval_s", 0.5)
        cfg = EdgeConfig(streams=streams, publish=PublishConfig(endpoints=["pub+bind:tcp://127.0.0.1:*"], **publish))
        publisher = Publisher(cfg.publish.endpoints, sndhwm=sndhwm, sndbuf=sndbuf)
        endpoint = publisher.endpoints[0]
        subscriber = Subscriber(endpoint, rcvhwm=rcvhwm, rcvbuf=rcvbuf)
        assert wait_until_subscribed(publisher, subscriber), "subscriber never connected"
        service = IngestService(cfg, publisher)
        harness = Harness(service, subscriber, endpoint)
        started.append(harness)
        service.start()
        return harness

    yield start
    for harness in started:
        harness.service.stop()
        harness.subscriber.close()


def vgsum_cmd(*args: str) -> list[str]:
    """The `vgsum` CLI of this interpreter, as a subprocess command."""
    return [sys.executable, "-m", "vgsum.runtime.cli", *args]


@pytest.fixture(name="fast_stream")
def fast_stream_fixture() -> Callable[..., StreamConfig]:
    """`fast_stream(stream_id, url, **overrides)` as a fixture (test modules here are not a package)."""
    return fast_stream
