"""A subscriber client: filter by kind and stream, validate payloads, detect seq gaps.

A gap in `seq` for one (stream, kind) means messages were lost between the
publisher and us (a slow subscriber past its high-water mark, a reconnect); a
seq that goes back means the publisher restarted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import zmq
from pydantic import ValidationError

from vgsum.stream.errors import UserError
from vgsum.stream.messages import KINDS, SCHEMA_VERSION, TOPIC_PREFIX, MessageBase, parse_message, payload_version

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gap:
    """Messages `expected`..`got-1` of (stream_id, kind) never arrived."""

    stream_id: str
    kind: str
    expected: int
    got: int

    @property
    def missing(self) -> int:
        """How many messages were lost."""
        return self.got - self.expected


@dataclass
class Received:
    """One validated message, with the gap (if any) found just before it."""

    topic: str
    message: MessageBase
    gap: Gap | None = None
    restarted: bool = False


@dataclass
class GapTracker:
    """Per (stream, kind) expected next seq; counts gaps, missing messages and publisher restarts."""

    next_seq: dict[tuple[str, str], int] = field(default_factory=dict)
    gaps: list[Gap] = field(default_factory=list)
    restarts: int = 0

    def check(self, message: MessageBase) -> tuple[Gap | None, bool]:
        """Record `message`; return (gap before it or None, whether the sender restarted)."""
        key = (message.stream_id, message.kind)
        expected = self.next_seq.get(key)
        self.next_seq[key] = message.seq + 1
        if expected is None or message.seq == expected:
            return None, False
        if message.seq < expected:
            self.restarts += 1
            return None, True
        gap = Gap(message.stream_id, message.kind, expected, message.seq)
        self.gaps.append(gap)
        return gap, False

    @property
    def missing(self) -> int:
        """Messages lost in all gaps."""
        return sum(g.missing for g in self.gaps)


def _address(endpoint: str) -> tuple[str, str]:
    """`tcp://...` or `sub+connect:tcp://...` -> (connect, addr); `sub+bind:tcp://...` -> (bind, addr)."""
    for mode in ("connect", "bind"):
        prefix = f"sub+{mode}:"
        if endpoint.startswith(prefix):
            return mode, endpoint[len(prefix) :]
    if endpoint.startswith("pub+bind:"):  # the publisher's own spelling: connect to it
        return "connect", endpoint[len("pub+bind:") :]
    if "://" in endpoint and "+" not in endpoint.split("://", 1)[0]:
        return "connect", endpoint
    raise UserError(f"endpoint {endpoint!r}: write it as tcp://HOST:PORT, sub+connect:ADDR or sub+bind:ADDR")


class Subscriber:
    """ZeroMQ SUB that yields validated messages of the chosen kinds and streams."""

    def __init__(
        self,
        endpoints: str | Iterable[str],
        kinds: Iterable[str] = (),
        streams: Iterable[str] = (),
        *,
        rcvhwm: int = 1000,
        rcvbuf: int | None = None,
        context: zmq.Context | None = None,
    ) -> None:
        self.kinds = tuple(kinds)
        self.streams = frozenset(streams)
        for kind in self.kinds:
            if kind not in KINDS:
                raise UserError(f"unknown message kind {kind!r}; one of: {', '.join(KINDS)}")
        self.tracker = GapTracker()
        self.invalid = 0
        self.newer = 0  # invalid because a newer schema_version than this code knows
        self._ctx = context or zmq.Context.instance()
        self._socket = self._ctx.socket(zmq.SUB)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.RCVHWM, rcvhwm)
        if rcvbuf is not None:
            self._socket.setsockopt(zmq.RCVBUF, rcvbuf)
        # ZeroMQ filters by prefix; exact stream ids are checked again on receipt.
        prefixes = [f"{TOPIC_PREFIX}.{k}." for k in self.kinds] or [f"{TOPIC_PREFIX}."]
        if self.streams:
            prefixes = (
                [f"{p}{s}" for p in prefixes for s in self.streams]
                if self.kinds
                else [f"{TOPIC_PREFIX}.{k}.{s}" for k in KINDS for s in self.streams]
            )
        for prefix in prefixes:
            self._socket.setsockopt_string(zmq.SUBSCRIBE, prefix)
        targets = [endpoints] if isinstance(endpoints, str) else list(endpoints)
        try:
            for target in targets:
                mode, address = _address(target)
                (self._socket.bind if mode == "bind" else self._socket.connect)(address)
        except zmq.ZMQError as err:
            self._socket.close(0)
            raise UserError(f"subscribe endpoint {target!r}: {err.strerror}") from None
        self._poller = zmq.Poller()
        self._poller.register(self._socket, zmq.POLLIN)

    def recv(self, timeout_s: float | None = None) -> Received | None:
        """The next matching valid message, or None when `timeout_s` passes without one."""
        import time

        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._poller.poll(None if remaining is None else int(remaining * 1000)):
                return None
            parts = self._socket.recv_multipart()
            if len(parts) != 2:
                self.invalid += 1
                log.warning("dropped a message with %d parts (want [topic, payload])", len(parts))
                continue
            topic = parts[0].decode("utf-8", "replace")
            try:
                message = parse_message(parts[1])
            except ValidationError as err:
                self.invalid += 1
                version = payload_version(parts[1])
                if version is not None and version > SCHEMA_VERSION:
                    self.newer += 1
                    log.warning(
                        "message on %s has schema_version %d, newer than this subscriber's %d: "
                        "upgrade vgsum to read it",
                        topic,
                        version,
                        SCHEMA_VERSION,
                    )
                else:
                    log.warning("invalid payload on %s: %s", topic, err.errors()[0]["msg"])
                continue
            if self.streams and message.stream_id not in self.streams:
                continue
            gap, restarted = self.tracker.check(message)
            return Received(topic, message, gap, restarted)

    def __iter__(self) -> Iterator[Received]:
        while True:
            received = self.recv()
            if received is not None:
                yield received

    def close(self) -> None:
        """Close the socket (idempotent)."""
        if not self._socket.closed:
            self._socket.close(0)

    def __enter__(self) -> Subscriber:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_until_subscribed(publisher: object, subscriber: Subscriber, timeout_s: float = 5.0) -> bool:
    """Beat ZeroMQ's slow joiner: send heartbeats until `subscriber` receives one (True) or time runs out.

    A SUB that has just connected misses what the PUB sends before the subscription
    arrives; tools that publish and subscribe in one process call this first. The
    handshake heartbeats are then forgotten by the gap tracker.
    """
    import time

    from vgsum.stream.messages import DAEMON_STREAM_ID, HeartbeatMessage

    deadline = time.monotonic() + timeout_s
    ok = False
    while time.monotonic() < deadline and not ok:
        publisher.publish(HeartbeatMessage, DAEMON_STREAM_ID, uptime_s=0.0, streams_live=0)  # type: ignore[attr-defined]
        ok = subscriber.recv(timeout_s=0.05) is not None
    # Drain the rest of the handshake so it does not look like data.
    while subscriber.recv(timeout_s=0.05) is not None:
        pass
    subscriber.tracker.next_seq.clear()
    return ok
