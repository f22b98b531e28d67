"""The daemon's control socket: ZeroMQ REP, one JSON request in, one JSON reply out.

Why a REP socket and a strict schema: operators (and `vgsum ctl`) change what a
running daemon looks for (the user queries) without restarting it, and ask what
it is doing. Anything that reaches this socket is untrusted input, so every
request is size-checked *before* it is parsed, decoded as strict UTF-8, parsed
as JSON and validated by a pydantic model with `extra="forbid"`; a bad request
gets `{"ok": false, "error": "..."}` and changes nothing. A good one gets
`{"ok": true, "result": ...}`.

Requests (field `op` picks the kind)::

    {"op": "set_queries", "stream_id": "cam1", "queries": ["person", "red car"]}
    {"op": "get_queries", "stream_id": "cam1"}
    {"op": "status"}                      # all streams
    {"op": "status", "stream_id": "cam1"}
    {"op": "list_streams"}
    {"op": "highlights", "stream_id": "cam1", "since": 1764000000, "query": "car", "limit": 50}
    {"op": "replay", "stream_id": "cam1", "kind": "event", "from_seq": 12, "to_seq": 20}
    {"op": "recap_now"}                   # the daily recap of every stream's last 24 h, now
    {"op": "recap_now", "stream_id": "cam1"}

`highlights` and `replay` read the daemon's history store (`runtime/store/replay.py`:
bounded replies, the at-least-once contract). `recap_now` queues the daily recap
(runtime/daemon/daily_recap.py) and answers at once with each stream's recap id; each
written recap is announced as a `recap` message, as the daily one is.

The server dispatches to a `ControlHandler` (the daemon's `DaemonControl`, control_handler.py). It
runs in its own thread and owns its socket; `stop()` returns within about a poll
interval.

Binding: 127.0.0.1 by default. Any address that is not loopback (or ipc://,
inproc://) is refused unless CurveZMQ keys are configured (`runtime/daemon/curve.py`;
the rule lives in `runtime/daemon/exposure.py`).

Size: a request over MAX_REQUEST_BYTES gets a one-line size error. libzmq itself
drops, unanswered, a peer whose message exceeds MAX_FRAME_BYTES (far above it).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import zmq
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.json_input import json_object
from vgsum.runtime.daemon.curve import CurveGuard, CurveServerKeys, configure_curve_server
from vgsum.runtime.daemon.exposure import control_refusal
from vgsum.runtime.summary.queries import MAX_QUERIES, clean_queries

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5571"
MAX_REQUEST_BYTES = 16 * 1024
# libzmq drops the connection of a peer whose message is larger than its MAXMSGSIZE
# without reading it, so that peer never gets a reply. The socket limit therefore sits
# far above MAX_REQUEST_BYTES: every request up to it is read and answered with a size
# error. Memory stays bounded: at most RCVHWM messages of this size per peer.
MAX_FRAME_BYTES = 4 * 1024 * 1024
RCVHWM = 4
MAX_STREAM_ID_CHARS = 128
MAX_ERROR_CHARS = 300
POLL_MS = 100


# ---------------------------------------------------------------- request schema


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


StreamId = Annotated[str, Field(min_length=1, max_length=MAX_STREAM_ID_CHARS)]


class SetQueries(_Request):
    """Replace a stream's free-text queries (an empty list clears them)."""

    op: Literal["set_queries"]
    stream_id: StreamId
    queries: list[str] = Field(max_length=MAX_QUERIES)

    @field_validator("queries")
    @classmethod
    def _clean(cls, queries: list[str]) -> list[str]:
        return clean_queries(queries)


class SetSummary(_Request):
    """Change a stream's summary settings while it runs (the keys of `summary:` that a running stream takes)."""

    op: Literal["set_summary"]
    stream_id: StreamId
    summary: dict[str, Any] = Field(max_length=32)


class GetSummary(_Request):
    """The summary settings a stream runs with."""

    op: Literal["get_summary"]
    stream_id: StreamId


class GetQueries(_Request):
    """A stream's current queries."""

    op: Literal["get_queries"]
    stream_id: StreamId


class StatusRequest(_Request):
    """Status of one stream, or of all when `stream_id` is absent."""

    op: Literal["status"]
    stream_id: StreamId | None = None


class ListStreams(_Request):
    """The ids of the streams this daemon serves."""

    op: Literal["list_streams"]


class HighlightsRequest(_Request):
    """Stored highlights, newest first; `before` ([wall_start, id] from the last reply) pages on."""

    op: Literal["highlights"]
    stream_id: StreamId | None = None
    since: float | None = Field(None, description="unix seconds")
    until: float | None = Field(None, description="unix seconds")
    query: str | None = Field(None, max_length=200)
    label: str | None = Field(None, max_length=64)
    zone: str | None = Field(None, max_length=64)
    limit: int = Field(100, ge=1, le=500)
    before: list[float | Annotated[str, Field(max_length=64)]] | None = Field(None, min_length=2, max_length=2)

    @field_validator("before")
    @classmethod
    def _key(cls, before: list[float | str] | None) -> list[float | str] | None:
        if before is not None and not (isinstance(before[0], int | float) and isinstance(before[1], str)):
            raise ValueError("before must be [wall_start, id] from the previous reply")
        return before


class ReplayRequest(_Request):
    """Published `highlight`/`event`/`recap` messages of one stream by seq range (catch-up after a gap)."""

    op: Literal["replay"]
    stream_id: StreamId
    kind: Literal["highlight", "event", "recap"]
    from_seq: int = Field(ge=0)
    to_seq: int | None = Field(None, ge=0)


class RecapNow(_Request):
    """Make the daily recap now: of one stream, or of every stream it covers (`recap.streams`)."""

    op: Literal["recap_now"]
    stream_id: StreamId | None = None


REQUESTS: dict[str, type[_Request]] = {
    "set_queries": SetQueries,
    "get_queries": GetQueries,
    "set_summary": SetSummary,
    "get_summary": GetSummary,
    "status": StatusRequest,
    "list_streams": ListStreams,
    "highlights": HighlightsRequest,
    "replay": ReplayRequest,
    "recap_now": RecapNow,
}


class RequestError(Exception):
    """A request that gets an error reply; its message is the reply's `error` (one line, no secrets)."""


def _validation_message(err: ValidationError) -> str:
    parts = []
    for item in err.errors()[:3]:
        where = ".".join(str(p) for p in item["loc"]) or "request"
        msg = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}")
    more = err.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def parse_request(raw: bytes, max_bytes: int = MAX_REQUEST_BYTES) -> _Request:
    """Size check, strict UTF-8, JSON object, known `op`, then the op's schema. Raises RequestError."""
    try:
        data = json_object(raw, max_bytes, "request", "request must be a JSON object with an 'op' field")
    except ValueError as err:
        raise RequestError(str(err)) from None
    op = data.get("op")
    if not isinstance(op, str) or op not in REQUESTS:
        shown = op if isinstance(op, str) and len(op) <= 40 else type(op).__name__
        raise RequestError(f"unknown op {shown!r}; one of: {', '.join(REQUESTS)}")
    try:
        return REQUESTS[op].model_validate(data)
    except ValidationError as err:
        raise RequestError(f"{op}: {_validation_message(err)}") from None
    except RecursionError:
        raise RequestError(f"{op}: request nests too deeply") from None


# ---------------------------------------------------------------- handlers


class ControlHandler(Protocol):
    """What the control socket needs from the pipeline. Called from the control thread: be thread-safe.

    Raise `UserError` for a request that cannot be applied (its message goes back to
    the client); anything else is logged and answered with a generic error.
    """

    def stream_ids(self) -> list[str]:
        """Ids of the streams served, in config order."""
        ...

    def get_queries(self, stream_id: str) -> list[str]:
        """The stream's current queries."""
        ...

    def set_queries(self, stream_id: str, queries: list[str]) -> None:
        """Replace the stream's queries (already validated and cleaned); all or nothing."""
        ...

    def query_notices(self, stream_id: str) -> dict[str, str]:
        """query -> one line for each of the stream's queries that names nothing vgsum can see."""
        ...

    def get_summary(self, stream_id: str) -> dict[str, Any]:
        """The stream's summary settings (the whole `summary:` section as it runs)."""
        ...

    def set_summary(self, stream_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change the stream's summary settings; returns them whole. UserError (one line) for a bad change."""
        ...

    def stream_status(self, stream_id: str) -> Mapping[str, Any]:
        """A JSON-able status of the stream (state, fps, drops, ...)."""
        ...

    def store_path(self) -> Path | None:
        """The history database, or None when this daemon keeps no history."""
        ...

    def recap_now(self, stream_id: str | None) -> dict[str, Any]:
        """Queue the daily recap of the last 24 h now (one stream, or all); UserError when there are no recaps."""
        ...


def _require_stream(handler: ControlHandler, stream_id: str) -> None:
    ids = handler.stream_ids()
    if stream_id not in ids:
        shown = stream_id if len(stream_id) <= 40 else stream_id[:40] + "..."
        raise RequestError(f"no stream {shown!r}; streams: {', '.join(ids) or '(none)'}")


def dispatch(handler: ControlHandler, request: _Request) -> Any:
    """Run one validated request against the handler; returns the reply's `result`."""
    if isinstance(request, ListStreams):
        return {"streams": handler.stream_ids()}
    if isinstance(request, StatusRequest):
        if request.stream_id is None:
            return {"streams": {sid: dict(handler.stream_status(sid)) for sid in handler.stream_ids()}}
        _require_stream(handler, request.stream_id)
        return {"streams": {request.stream_id: dict(handler.stream_status(request.stream_id))}}
    if isinstance(request, GetQueries):
        _require_stream(handler, request.stream_id)
        return {"stream_id": request.stream_id, "queries": handler.get_queries(request.stream_id)}
    if isinstance(request, SetQueries):
        _require_stream(handler, request.stream_id)
        handler.set_queries(request.stream_id, list(request.queries))
        return {
            "stream_id": request.stream_id,
            "queries": handler.get_queries(request.stream_id),
            "notices": handler.query_notices(request.stream_id),  # kept all the same: a camera may see it later
        }
    if isinstance(request, GetSummary):
        _require_stream(handler, request.stream_id)
        return {"stream_id": request.stream_id, "summary": handler.get_summary(request.stream_id)}
    if isinstance(request, SetSummary):
        _require_stream(handler, request.stream_id)
        return {"stream_id": request.stream_id, "summary": handler.set_summary(request.stream_id, request.summary)}
    if isinstance(request, HighlightsRequest | ReplayRequest):
        return _history(handler, request)
    if isinstance(request, RecapNow):
        if request.stream_id is not None:
            _require_stream(handler, request.stream_id)
        return handler.recap_now(request.stream_id)
    raise AssertionError(f"unhandled request {type(request).__name__}")


def one_line(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """`text` as one printable line of at most `limit` characters: an error reply echoes client input (keys)."""
    flat = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _history(handler: ControlHandler, request: HighlightsRequest | ReplayRequest) -> Any:
    from vgsum.runtime.store.reader import StoreReader
    from vgsum.runtime.store.replay import highlights_reply, replay_reply

    path = handler.store_path()
    if path is None:
        raise RequestError(f"{request.op}: this daemon keeps no history (store.enabled is false)")
    with StoreReader(path) as reader:
        if isinstance(request, ReplayRequest):
            return replay_reply(reader, request.stream_id, request.kind, request.from_seq, request.to_seq)
        filters = request.model_dump(exclude={"op", "limit", "before"})
        before = None if request.before is None else (float(request.before[0]), str(request.before[1]))
        return highlights_reply(reader, limit=request.limit, before=before, **filters)


def handle_message(handler: ControlHandler, raw: bytes, max_bytes: int = MAX_REQUEST_BYTES) -> dict[str, Any]:
    """One request in, one reply dict out; never raises for anything a client can send."""
    op = "request"
    try:
        request = parse_request(raw, max_bytes)
        op = getattr(request, "op", op)
        return {"ok": True, "result": dispatch(handler, request)}
    except RequestError as err:
        return {"ok": False, "error": one_line(str(err))}
    except UserError as err:
        return {"ok": False, "error": one_line(str(err)) if str(err) else "rejected"}
    except Exception:
        log.exception("control: handler failed on %s", op)
        return {"ok": False, "error": f"internal error while handling {op}; see the daemon log"}


def encode_reply(reply: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON (ASCII-escaped, so no string can break the encoding)."""
    return json.dumps(reply, ensure_ascii=True, default=str).encode("ascii")


# ---------------------------------------------------------------- binding policy


def enable_ipv6(sock: zmq.Socket, endpoint: str) -> None:
    """libzmq binds and connects IPv4 only unless told: turn IPv6 on for a bracketed address (tcp://[::1]:5571)."""
    if "://[" in endpoint:
        sock.setsockopt(zmq.IPV6, 1)


def _bind_address(endpoint: str) -> str:
    # Port 0 means "any free port", spelled '*' for libzmq.
    if endpoint.startswith("tcp://") and endpoint.endswith(":0"):
        return endpoint[:-2] + ":*"
    return endpoint


# ---------------------------------------------------------------- server


@dataclass
class _Started:
    endpoint: str | None = None
    error: BaseException | None = None


class ControlServer:
    """The REP socket in its own thread. `start()` binds (errors raise there), `stop()` shuts down.

    `endpoint` may end in `:0` for a free port; `bound_endpoint` is the real one.
    """

    def __init__(
        self,
        handler: ControlHandler,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        curve: CurveServerKeys | None = None,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        context: zmq.Context | None = None,
    ) -> None:
        refusal = control_refusal(endpoint, curve is not None)
        if refusal is not None:
            raise UserError(refusal)
        self.handler = handler
        self.endpoint = endpoint
        self.curve = curve
        self.max_request_bytes = max_request_bytes
        self._own_context = context is None
        self._context = context or zmq.Context()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.bound_endpoint: str | None = None
        self.requests = 0
        self.errors = 0

    def start(self, timeout: float = 5.0) -> str:
        """Bind and serve in a background thread; returns the bound endpoint. Raises UserError if binding fails."""
        if self._thread is not None:
            raise RuntimeError("control server already started")
        started = _Started()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started, ready), name="vgsum-control", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            self.stop()
            raise UserError(f"control socket: binding {self.endpoint} did not finish within {timeout:.0f} s")
        if started.error is not None:
            self._thread.join(timeout)
            self._thread = None
            self._close_context()
            if isinstance(started.error, UserError):
                raise started.error
            raise UserError(f"control socket: cannot bind {self.endpoint}: {started.error}") from None
        self.bound_endpoint = started.endpoint
        log.info("control socket listening on %s%s", self.bound_endpoint, " (CurveZMQ)" if self.curve else "")
        return self.bound_endpoint or self.endpoint

    def _run(self, started: _Started, ready: threading.Event) -> None:
        guard: CurveGuard | None = None
        sock = self._context.socket(zmq.REP)
        try:
            sock.linger = 0
            sock.setsockopt(zmq.MAXMSGSIZE, max(MAX_FRAME_BYTES, self.max_request_bytes))
            sock.setsockopt(zmq.RCVHWM, RCVHWM)
            enable_ipv6(sock, self.endpoint)
            if self.curve is not None:
                guard = configure_curve_server(sock, self.curve)
            sock.bind(_bind_address(self.endpoint))
            started.endpoint = sock.getsockopt_string(zmq.LAST_ENDPOINT)
        except (zmq.ZMQError, UserError) as err:
            started.error = err
            sock.close(0)
            if guard is not None:
                guard.release()
            ready.set()
            return
        ready.set()
        try:
            self._serve(sock)
        finally:
            sock.close(0)
            if guard is not None:
                guard.release()

    def _serve(self, sock: zmq.Socket) -> None:
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        while not self._stop.is_set():
            if not poller.poll(POLL_MS):
                continue
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                continue
            except zmq.ContextTerminated:
                return
            if len(frames) != 1:
                reply: dict[str, Any] = {"ok": False, "error": f"request must be one frame, got {len(frames)}"}
            else:
                reply = handle_message(self.handler, frames[0], self.max_request_bytes)
            self.requests += 1
            if not reply["ok"]:
                self.errors += 1
                log.info("control: rejected request: %s", reply["error"])
            try:
                sock.send(encode_reply(reply))
            except zmq.ZMQError as err:  # the client went away; REP resets on the next recv
                log.warning("control: could not send reply: %s", err)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop serving, close the socket (and the context when this server made it). Idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._close_context()

    def _close_context(self) -> None:
        if self._own_context and not self._context.closed:
            self._context.term()

    def __enter__(self) -> ControlServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
