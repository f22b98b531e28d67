"""Stress: 10,100 hostile requests against the control socket of a real daemon, over real ZeroMQ.

Every request, whatever it holds (random bytes, random JSON, every op with wrong
arguments, huge, deeply nested), must get exactly one JSON reply within a timeout,
an error reply must be one printable line, nothing may log a traceback, and the
daemon must still answer a good request afterwards. Hypothesis is derandomized, so
CI replays the same requests every run.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vgsum.runtime.daemon.app import SummaryApp
from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.runtime.daemon.control import MAX_ERROR_CHARS, MAX_FRAME_BYTES, MAX_REQUEST_BYTES
from vgsum.runtime.engines.config import EngineConfig
from vgsum.runtime.engines.loader import Engines

pytestmark = pytest.mark.slow

REPLY_TIMEOUT_MS = 5000
OPS = ["set_queries", "get_queries", "status", "list_streams", "highlights", "replay"]
# the history ops' arguments, each fuzzed with any JSON value
HISTORY_ARGS = ("since", "until", "query", "label", "limit", "before", "kind", "from_seq", "to_seq")
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def daemon(engine_folder: Path) -> Iterator[SummaryApp]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    engines = Engines.load(EngineConfig(dir=engine_folder, threads=1))
    camera = f"rtsp://127.0.0.1:{free_port}"  # nothing listens: the streams keep connecting, cost no CPU
    cfg = EdgeConfig(
        streams=[
            {"stream_id": "cam1", "url": f"{camera}/1", "queries": ["person"], "open_timeout_s": 1},
            {"stream_id": "cam2", "url": f"{camera}/2", "open_timeout_s": 1},
        ],
        publish={"endpoints": []},
        engines={"dir": engine_folder, "threads": 1},
        control={"endpoint": "tcp://127.0.0.1:0"},
        metrics={"enabled": False},
        web={"port": 0},
    )
    service = SummaryApp(cfg, engines)
    service.start()
    yield service
    service.stop()


class Client:
    """One REQ socket reused for every request (relaxed, so a lost reply cannot wedge the next one)."""

    def __init__(self, endpoint: str) -> None:
        self.sock = zmq.Context.instance().socket(zmq.REQ)
        self.sock.linger = 0
        self.sock.setsockopt(zmq.REQ_RELAXED, 1)
        self.sock.setsockopt(zmq.REQ_CORRELATE, 1)
        self.sock.connect(endpoint)
        self.sent = 0

    def ask(self, payload: bytes | list[bytes], timeout_ms: int = REPLY_TIMEOUT_MS) -> dict | None:
        if isinstance(payload, list):
            self.sock.send_multipart(payload)
        else:
            self.sock.send(payload)
        self.sent += 1
        if not self.sock.poll(timeout_ms):
            return None
        return json.loads(self.sock.recv())

    def close(self) -> None:
        self.sock.close(0)


@pytest.fixture(scope="module")
def client(daemon: SummaryApp) -> Iterator[Client]:
    assert daemon.control is not None and daemon.control.bound_endpoint
    one = Client(daemon.control.bound_endpoint)
    yield one
    one.close()


@pytest.fixture(scope="module", autouse=True)
def control_log() -> Iterator[list[logging.LogRecord]]:
    """Every record the control socket logs during the module (a handler of our own: caplog is per test)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("vgsum.runtime.daemon.control")
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def check_reply(reply: dict | None, payload: object) -> None:
    shown = repr(payload)[:200]
    assert reply is not None, f"no reply to {shown}"
    assert isinstance(reply, dict) and isinstance(reply.get("ok"), bool), (shown, reply)
    if reply["ok"]:
        assert "result" in reply, shown
    else:
        error = reply["error"]
        assert isinstance(error, str) and error, shown
        assert error.isprintable() and len(error) <= MAX_ERROR_CHARS, (shown, error)


def still_serving(client: Client) -> None:
    reply = client.ask(b'{"op": "list_streams"}')
    assert reply == {"ok": True, "result": {"streams": ["cam1", "cam2"]}}


# ---------------------------------------------------------------- strategies

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=25,
)
# arguments of the right name with any value, plus keys nobody asked for
bad_requests = st.builds(
    lambda op, args, extra: {"op": op, **args, **extra},
    st.sampled_from(OPS) | st.text(max_size=12) | json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "stream_id": json_values | st.sampled_from(["cam1", "cam2", "", "cam9", "x" * 500]),
            "queries": json_values
            | st.lists(st.text(max_size=300), max_size=20)
            | st.lists(json_values, max_size=4),
            **{name: json_values for name in HISTORY_ARGS},
        },
    ),
    st.dictionaries(
        st.text(min_size=1, max_size=20).filter(lambda k: k not in ("op", "stream_id", "queries", *HISTORY_ARGS)),
        json_values,
        max_size=2,
    ),
)


# ---------------------------------------------------------------- the fuzz: 5,800 + 1,800 + 2,200 + 300 requests


@settings(FUZZ, max_examples=5800)
@given(payload=st.binary(max_size=2048))
def test_random_bytes(client: Client, payload: bytes) -> None:
    check_reply(client.ask(payload), payload)


@settings(FUZZ, max_examples=1800)
@given(value=json_values)
def test_random_json(client: Client, value: object) -> None:
    payload = json.dumps(value).encode()
    check_reply(client.ask(payload), value)


@settings(FUZZ, max_examples=2200)
@given(request=bad_requests, ascii_only=st.booleans())
def test_every_op_with_bad_arguments(client: Client, request: dict, ascii_only: bool) -> None:
    payload = json.dumps(request, ensure_ascii=ascii_only).encode()
    check_reply(client.ask(payload), request)


@settings(FUZZ, max_examples=300)
@given(depth=st.integers(1, 20_000), opener=st.sampled_from(["[", '{"a":', '{"op": "status", "stream_id": [']))
def test_deep_nesting(client: Client, depth: int, opener: str) -> None:
    closer = {"[": "]", '{"a":': "}", '{"op": "status", "stream_id": [': "]"}[opener]
    tail = "}" if opener.startswith('{"op"') else ""
    payload = (opener * depth + "1" + closer * depth + tail).encode()
    if len(payload) > MAX_FRAME_BYTES:
        payload = payload[:MAX_FRAME_BYTES]
    check_reply(client.ask(payload), payload[:60])


# ---------------------------------------------------------------- the edges, one by one


@pytest.mark.parametrize(
    "size",
    [MAX_REQUEST_BYTES, MAX_REQUEST_BYTES + 1, 64 * 1024, 128 * 1024 + 1, 1024 * 1024, MAX_FRAME_BYTES],
)
def test_every_size_up_to_the_socket_limit_gets_a_reply(client: Client, size: int) -> None:
    head = b'{"op": "list_streams", "pad": "'
    payload = head + b"x" * (size - len(head) - 2) + b'"}'
    assert len(payload) == size
    reply = client.ask(payload)
    check_reply(reply, payload[:40])
    if size > MAX_REQUEST_BYTES:
        assert reply is not None and reply["ok"] is False and f"the limit is {MAX_REQUEST_BYTES}" in reply["error"]
    else:
        assert reply is not None and reply["ok"] is False and "pad" in reply["error"]  # read, parsed, refused
    still_serving(client)


def test_past_the_socket_limit_the_peer_is_dropped_and_the_daemon_serves_on(
    daemon: SummaryApp, client: Client
) -> None:
    assert daemon.control is not None and daemon.control.bound_endpoint
    rogue = Client(daemon.control.bound_endpoint)
    try:
        assert rogue.ask(b"x" * (MAX_FRAME_BYTES + 1), timeout_ms=1000) is None  # libzmq never reads it
    finally:
        rogue.close()
    still_serving(client)


def test_nesting_past_the_recursion_limit_is_one_line(client: Client) -> None:
    for payload in (b"[" * 8000 + b"]" * 8000, b'{"a":' * 2500 + b"1" + b"}" * 2500):
        assert len(payload) <= MAX_REQUEST_BYTES  # read and parsed, not refused for its size
        reply = client.ask(payload)
        assert reply is not None and reply["ok"] is False and reply["error"] == "request nests too deeply"


def test_multi_frame_and_empty_requests(client: Client) -> None:
    for payload in ([b"", b""], [b'{"op": "status"}'] * 3, b"", b"\x00", b"null", b"{}"):
        check_reply(client.ask(payload), payload)


def test_the_daemon_is_whole_afterwards(
    daemon: SummaryApp, client: Client, control_log: list[logging.LogRecord]
) -> None:
    still_serving(client)
    reply = client.ask(json.dumps({"op": "set_queries", "stream_id": "cam2", "queries": ["a dog"]}).encode())
    assert reply is not None and reply["result"]["queries"] == ["a dog"]
    assert daemon.pipeline.queries.get("cam2") == ["a dog"]
    # no traceback for anything a client sent, and every log line is one bounded line
    assert not [r for r in control_log if r.exc_info], [r.getMessage()[:200] for r in control_log if r.exc_info][:3]
    for record in control_log:
        message = record.getMessage()
        assert "\n" not in message and len(message) <= MAX_ERROR_CHARS + 100, message[:300]
