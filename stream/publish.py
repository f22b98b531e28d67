"""ZeroMQ PUB for all messages of one process: `[topic, json]` multipart, per (stream, kind) seq.

One socket, guarded by one lock: seq numbers are assigned and sent under the lock,
so the order on the wire is the seq order and there are no gaps at the sender.
PUB never blocks: a subscriber that falls past its high-water mark loses messages,
and it sees that as a seq gap.

Endpoints are written `pub+bind:tcp://host:port` or `pub+connect:tcp://host:port`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import zmq

from vgsum.stream.errors import UserError
from vgsum.stream.messages import MessageBase, topic_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Endpoint:
    """A parsed endpoint: `mode` is bind or connect, `address` the ZeroMQ address."""

    mode: str
    address: str

    @classmethod
    def parse(cls, text: str, role: str = "pub") -> Endpoint:
        """Parse `<role>+bind:ADDR` / `<role>+connect:ADDR`; raise UserError naming the allowed forms."""
        for mode in ("bind", "connect"):
            prefix = f"{role}+{mode}:"
            if text.startswith(prefix):
                address = text[len(prefix) :]
                if "://" not in address:
                    break
                return cls(mode, address)
        raise UserError(f"endpoint {text!r}: write it as {role}+bind:tcp://HOST:PORT or {role}+connect:tcp://HOST:PORT")

    def __str__(self) -> str:
        return f"{self.mode}:{self.address}"


class SocketSecurity(Protocol):
    """Configures a socket before it binds or connects (CurveZMQ keys), so the stream layer needs no key handling."""

    def apply(self, socket: zmq.Socket, server: bool) -> None:
        """Set CURVE_* options on `socket`; `server` is True for the side that holds the server key."""


class Publisher:
    """Thread-safe ZeroMQ PUB: `publish(kind, stream_id, **fields)` fills the common fields."""

    def __init__(
        self,
        endpoints: Iterable[str],
        *,
        sndhwm: int = 1000,
        sndbuf: int | None = None,
        security: SocketSecurity | None = None,
        context: zmq.Context | None = None,
    ) -> None:
        parsed = [Endpoint.parse(text) for text in endpoints]
        # A context of its own unless given one: closing can then wait for the last messages to leave.
        self._own_context = context is None
        self._ctx = context or zmq.Context()
        self._socket = self._ctx.socket(zmq.PUB)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.SNDHWM, sndhwm)
        if sndbuf is not None:
            self._socket.setsockopt(zmq.SNDBUF, sndbuf)
        if any("://[" in ep.address for ep in parsed):  # libzmq is IPv4-only unless told (tcp://[::1]:5556)
            self._socket.setsockopt(zmq.IPV6, 1)
        if security is not None:
            security.apply(self._socket, server=True)  # keys must be set before bind, or peers connect in plain text
        self._lock = threading.Lock()
        self._seq: dict[tuple[str, str], int] = {}
        self.sent = 0
        # called with each message and its JSON, under the lock (so in seq order); they must not block
        self.observers: list[Callable[[MessageBase, str], None]] = []
        self.endpoints: list[str] = []
        try:
            for ep in parsed:
                if ep.mode == "bind":
                    self._socket.bind(ep.address)
                    self.endpoints.append(self._socket.getsockopt_string(zmq.LAST_ENDPOINT))
                else:
                    self._socket.connect(ep.address)
                    self.endpoints.append(ep.address)
        except zmq.ZMQError as err:
            self._socket.close(0)
            self._release()
            self._term_context()
            raise UserError(f"publish endpoint {ep}: {err.strerror}") from None

    def publish(
        self, model: type[MessageBase], stream_id: str, *, media_time: float | None = None, **fields: Any
    ) -> MessageBase:
        """Build, validate and send one message of `model`'s kind; returns it (with its seq)."""
        kind = model.model_fields["kind"].default
        with self._lock:
            key = (stream_id, kind)
            seq = self._seq.get(key, 0)
            message = model(stream_id=stream_id, seq=seq, media_time=media_time, wall_time=time.time(), **fields)
            if self._socket.closed:
                raise RuntimeError("publisher is closed")
            payload = message.model_dump_json()
            self._socket.send_multipart([topic_for(kind, stream_id).encode(), payload.encode()])
            self._seq[key] = seq + 1
            self.sent += 1
            for observer in self.observers:
                observer(message, payload)
        return message

    def resume(self, last_seqs: Mapping[tuple[str, str], int]) -> None:
        """Continue each (stream, kind) after the seq a previous run ended on, so seqs stay unique across restarts."""
        with self._lock:
            for key, seq in last_seqs.items():
                self._seq[key] = max(self._seq.get(key, 0), seq + 1)

    def close(self, linger_s: float = 0.0) -> None:
        """Close the socket (idempotent); messages not yet sent get `linger_s` to leave, then are dropped.

        0 makes shutdown immediate; a daemon that has just flushed its last scores passes
        a fraction of a second. With its own context, close returns once they left.
        """
        with self._lock:
            if self._socket.closed:
                return
            self._socket.close(linger=max(0, int(linger_s * 1000)))
        self._release()
        self._term_context()

    def _release(self) -> None:
        """What must close after the socket and before its context ends (a ZAP handler)."""

    def _term_context(self) -> None:
        if self._own_context and not self._ctx.closed:
            self._ctx.term()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
