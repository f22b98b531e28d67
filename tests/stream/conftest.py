"""Real parts for the stream tests: an ingest-to-ZeroMQ harness (the RTSP server is in tests/conftest.py)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from vgsum.runtime.daemon.config import EdgeConfig, PublishConfig
from vgsum.runtime.live.config import CameraConfig
from vgsum.stream.config import StreamConfig
from vgsum.stream.messages import MessageBase, StatusMessage


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
    from vgsum.runtime.daemon.ingest_service import IngestService
    from vgsum.runtime.daemon.publisher import build_publisher
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
        endpoints = ["pub+bind:tcp://127.0.0.1:*"]
        # the daemon's streams are CameraConfigs (a StreamConfig and its summary changes): validated again from the
        # fields, so a stream's credentials are checked and read as the daemon would
        cameras = [CameraConfig.model_validate(dict(stream)) for stream in streams]
        cfg = EdgeConfig(streams=cameras, publish=PublishConfig(endpoints=endpoints, sndhwm=sndhwm, **publish))
        publisher = build_publisher(cfg.publish, sndbuf=sndbuf)
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
