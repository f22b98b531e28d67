"""The control socket over real ZeroMQ sockets on 127.0.0.1: good requests work, bad ones change nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq
import zmq.auth

from vgsum.runtime.cli import ctl as ctl_cli
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.daemon.control import MAX_QUERY_CHARS, ControlServer, QueryBook, is_local_endpoint
from vgsum.runtime.daemon.curve import CurveServerKeys


def _send(
    endpoint: str, payload: bytes | list[bytes], timeout_ms: int = 3000, curve: tuple | None = None
) -> dict | None:
    """One REQ round trip; None when no reply came within the timeout."""
    context = zmq.Context.instance()
    sock = context.socket(zmq.REQ)
    sock.linger = 0
    if curve is not None:
        server_public, client_public, client_secret = curve
        sock.curve_serverkey = server_public
        sock.curve_publickey = client_public
        sock.curve_secretkey = client_secret
    sock.connect(endpoint)
    try:
        if isinstance(payload, list):
            sock.send_multipart(payload)
        else:
            sock.send(payload)
        if not sock.poll(timeout_ms):
            return None
        return json.loads(sock.recv())
    finally:
        sock.close(0)


def _ask(endpoint: str, request: dict) -> dict:
    reply = _send(endpoint, json.dumps(request).encode())
    assert reply is not None, "no reply"
    return reply


@pytest.fixture()
def book() -> QueryBook:
    states = {"cam1": "streaming", "cam2": "reconnecting"}
    return QueryBook({"cam1": ["person"], "cam2": []}, status=lambda sid: {"state": states[sid]})


@pytest.fixture()
def server(book: QueryBook) -> Iterator[ControlServer]:
    srv = ControlServer(book, "tcp://127.0.0.1:0")
    srv.start()
    yield srv
    srv.stop()


def test_good_requests_round_trip(server: ControlServer, book: QueryBook) -> None:
    ep = server.bound_endpoint
    assert ep and ep.startswith("tcp://127.0.0.1:") and not ep.endswith(":0")
    assert _ask(ep, {"op": "list_streams"}) == {"ok": True, "result": {"streams": ["cam1", "cam2"]}}
    assert _ask(ep, {"op": "get_queries", "stream_id": "cam1"})["result"]["queries"] == ["person"]

    version_before = book.queries("cam2")[0]
    reply = _ask(ep, {"op": "set_queries", "stream_id": "cam2", "queries": ["  red car ", "dog", "dog", "vélo 🚲"]})
    assert reply["ok"] is True
    assert reply["result"]["queries"] == ["red car", "dog", "vélo 🚲"]
    assert book.queries("cam2") == (version_before + 1, ("red car", "dog", "vélo 🚲"))

    status = _ask(ep, {"op": "status"})["result"]["streams"]
    assert status == {
        "cam1": {"state": "streaming", "queries": ["person"]},
        "cam2": {"state": "reconnecting", "queries": ["red car", "dog", "vélo 🚲"]},
    }
    one = _ask(ep, {"op": "status", "stream_id": "cam1"})["result"]["streams"]
    assert list(one) == ["cam1"]
    # an empty list clears the queries
    assert _ask(ep, {"op": "set_queries", "stream_id": "cam1", "queries": []})["result"]["queries"] == []


BAD_REQUESTS: list[tuple[str, bytes | list[bytes], str]] = [
    ("not utf-8", b'{"op": "set_queries", "stream_id": "cam1", "queries": ["\xff\xfe"]}', "UTF-8"),
    ("not json", b"{op: set_queries", "not JSON"),
    ("json but not an object", b'["set_queries"]', "JSON object"),
    ("unknown op", b'{"op": "reboot"}', "unknown op"),
    ("missing op", b'{"stream_id": "cam1"}', "unknown op"),
    ("extra field", b'{"op": "set_queries", "stream_id": "cam1", "queries": ["x"], "admin": true}', "admin"),
    ("empty query", b'{"op": "set_queries", "stream_id": "cam1", "queries": ["ok", "   "]}', "query 1 is empty"),
    ("lone surrogate", b'{"op": "set_queries", "stream_id": "cam1", "queries": ["\\ud800"]}', "Unicode"),
    ("control chars", b'{"op": "set_queries", "stream_id": "cam1", "queries": ["a\\u0000b"]}', "control"),
    (
        "too long",
        json.dumps({"op": "set_queries", "stream_id": "cam1", "queries": ["x" * (MAX_QUERY_CHARS + 1)]}).encode(),
        "longer than",
    ),
    ("too many", json.dumps({"op": "set_queries", "stream_id": "cam1", "queries": list("abcdefghijklmnopq")}).encode(),
     "queries"),
    ("not a list", b'{"op": "set_queries", "stream_id": "cam1", "queries": "person"}', "queries"),
    ("unknown stream", b'{"op": "set_queries", "stream_id": "cam9", "queries": ["x"]}', "no stream 'cam9'"),
    ("unknown stream get", b'{"op": "get_queries", "stream_id": "cam9"}', "no stream"),
    ("unknown stream status", b'{"op": "status", "stream_id": "cam9"}', "no stream"),
    ("oversized", b'{"op": "list_streams", "pad": "' + b"x" * 20000 + b'"}', "limit"),
    ("two frames", [b'{"op": "list_streams"}', b"more"], "one frame"),
]


@pytest.mark.parametrize(("name", "payload", "fragment"), BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_bad_request_gets_error_and_changes_nothing(
    server: ControlServer, book: QueryBook, name: str, payload: bytes | list[bytes], fragment: str
) -> None:
    ep = server.bound_endpoint
    assert ep is not None
    before = (book.queries("cam1"), book.queries("cam2"))
    reply = _send(ep, payload)
    assert reply is not None
    assert reply["ok"] is False
    assert fragment in reply["error"], reply["error"]
    assert "\n" not in reply["error"]
    assert (book.queries("cam1"), book.queries("cam2")) == before
    # and the server is still serving
    assert _ask(ep, {"op": "list_streams"})["ok"] is True


class _FlakyHandler(QueryBook):
    def set_queries(self, stream_id: str, queries: list[str]) -> None:
        if queries == ["boom"]:
            raise RuntimeError("bug in the pipeline")
        if queries == ["refuse"]:
            raise UserError("query embedding engine missing: run `vgsum export text`")
        super().set_queries(stream_id, queries)


def test_handler_failures_become_error_replies() -> None:
    with ControlServer(_FlakyHandler({"cam1": []}), "tcp://127.0.0.1:0") as srv:
        ep = srv.bound_endpoint
        assert ep is not None
        user = _ask(ep, {"op": "set_queries", "stream_id": "cam1", "queries": ["refuse"]})
        assert user == {"ok": False, "error": "query embedding engine missing: run `vgsum export text`"}
        bug = _ask(ep, {"op": "set_queries", "stream_id": "cam1", "queries": ["boom"]})
        assert bug["ok"] is False and "internal error" in bug["error"] and "bug in" not in bug["error"]
        assert _ask(ep, {"op": "set_queries", "stream_id": "cam1", "queries": ["fine"]})["ok"] is True
        assert srv.errors == 2 and srv.requests == 3


def test_concurrent_clients_all_get_their_reply(server: ControlServer) -> None:
    ep = server.bound_endpoint
    assert ep is not None
    replies: list[dict | None] = []

    def client(i: int) -> None:
        replies.append(_send(ep, json.dumps({"op": "set_queries", "stream_id": "cam1", "queries": [f"q{i}"]}).encode()))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(replies) == 8 and all(r is not None and r["ok"] for r in replies)


def test_stop_is_quick_and_releases_the_port(book: QueryBook) -> None:
    srv = ControlServer(book, "tcp://127.0.0.1:0")
    ep = srv.start()
    t0 = time.monotonic()
    srv.stop()
    assert time.monotonic() - t0 < 1.0
    again = ControlServer(book, ep)
    assert again.start() == ep
    with pytest.raises(UserError, match="cannot bind"):
        ControlServer(book, ep).start()
    again.stop()


def test_binding_policy() -> None:
    assert is_local_endpoint("tcp://127.0.0.1:5571")
    assert is_local_endpoint("tcp://127.0.0.2:5571")
    assert is_local_endpoint("tcp://localhost:5571")
    assert is_local_endpoint("tcp://[::1]:5571")
    assert is_local_endpoint("ipc:///tmp/vgsum.ctl")
    assert not is_local_endpoint("tcp://0.0.0.0:5571")
    assert not is_local_endpoint("tcp://*:5571")
    assert not is_local_endpoint("tcp://192.168.1.10:5571")
    assert not is_local_endpoint("tcp://eth0:5571")
    with pytest.raises(UserError, match="refusing to bind"):
        ControlServer(QueryBook({}), "tcp://0.0.0.0:5571")
    with pytest.raises(UserError):
        ControlServer(QueryBook({}), "udp://127.0.0.1:5")


@pytest.fixture()
def curve_keys(tmp_path: Path) -> dict[str, Path]:
    server_dir, allowed_dir, other_dir = tmp_path / "server", tmp_path / "allowed", tmp_path / "other"
    for d in (server_dir, allowed_dir, other_dir):
        d.mkdir()
    server_public, server_secret = zmq.auth.create_certificates(server_dir, "server")
    client_public, client_secret = zmq.auth.create_certificates(allowed_dir, "client")
    _, stranger_secret = zmq.auth.create_certificates(other_dir, "stranger")
    return {
        "server_public": Path(server_public),
        "server_secret": Path(server_secret),
        "allowed_dir": allowed_dir,
        "client_secret": Path(client_secret),
        "stranger_secret": Path(stranger_secret),
    }


def _curve_tuple(server_public: Path, client_secret: Path) -> tuple[bytes, bytes, bytes]:
    server_pub, _ = zmq.auth.load_certificate(server_public)
    pub, sec = zmq.auth.load_certificate(client_secret)
    assert sec is not None
    return server_pub, pub, sec


def test_curve_server_admits_only_listed_clients(curve_keys: dict[str, Path], book: QueryBook) -> None:
    keys = CurveServerKeys(curve_keys["server_secret"], curve_keys["allowed_dir"])
    with ControlServer(book, "tcp://0.0.0.0:0", curve=keys) as srv:
        port = srv.bound_endpoint.rsplit(":", 1)[1]  # type: ignore[union-attr]
        ep = f"tcp://127.0.0.1:{port}"
        allowed = _curve_tuple(curve_keys["server_public"], curve_keys["client_secret"])
        reply = _send(ep, b'{"op": "list_streams"}', curve=allowed)
        assert reply == {"ok": True, "result": {"streams": ["cam1", "cam2"]}}
        stranger = _curve_tuple(curve_keys["server_public"], curve_keys["stranger_secret"])
        assert _send(ep, b'{"op": "list_streams"}', timeout_ms=500, curve=stranger) is None
        assert _send(ep, b'{"op": "list_streams"}', timeout_ms=500) is None  # plain text client

        # the CLI client with the allowed keys (a directory holding one *.key_secret works too)
        code = ctl_cli.main(
            [ep, '{"op": "list_streams"}', "--timeout", "3",
             "--curve-server-key", str(curve_keys["server_public"]),
             "--curve-client-keys", str(curve_keys["client_secret"])]
        )
        assert code == 0


def test_key_errors_never_show_key_material(curve_keys: dict[str, Path], book: QueryBook, tmp_path: Path) -> None:
    public_text = curve_keys["server_public"].read_text()
    public_key = zmq.auth.load_certificate(curve_keys["server_public"])[0].decode()
    # a public certificate where the secret one is needed
    with pytest.raises(UserError) as err:
        ControlServer(book, "tcp://127.0.0.1:0", curve=CurveServerKeys(curve_keys["server_public"],
                                                                     curve_keys["allowed_dir"])).start()
    assert public_key not in str(err.value) and "key_secret" in str(err.value)
    garbage = tmp_path / "garbage.key_secret"
    garbage.write_text("secret-key = 'not-a-real-key-but-should-stay-private'\n")
    with pytest.raises(UserError) as err:
        ControlServer(book, "tcp://127.0.0.1:0", curve=CurveServerKeys(garbage, curve_keys["allowed_dir"])).start()
    assert "should-stay-private" not in str(err.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="no \\*.key"):
        ControlServer(book, "tcp://127.0.0.1:0", curve=CurveServerKeys(curve_keys["server_secret"], empty)).start()
    assert public_text  # the files were real certificates


def test_ctl_cli_against_a_live_server(server: ControlServer, capsys: pytest.CaptureFixture[str]) -> None:
    ep = server.bound_endpoint
    assert ep is not None
    assert ctl_cli.main([ep, '{"op": "set_queries", "stream_id": "cam1", "queries": ["dog"]}']) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["result"]["queries"] == ["dog"]
    assert ctl_cli.main([ep, '{"op": "get_queries", "stream_id": "nope"}']) == 1
    assert "no stream" in json.loads(capsys.readouterr().out)["error"]
    with pytest.raises(UserError, match="not JSON"):
        ctl_cli.main([ep, "{oops"])


def test_ctl_cli_unreachable_daemon_is_one_line_after_the_timeout() -> None:
    # a port nobody listens on: bind and release one
    probe = zmq.Context.instance().socket(zmq.REP)
    port = probe.bind_to_random_port("tcp://127.0.0.1")
    probe.close(0)
    t0 = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "vgsum.runtime.cli", "ctl", f"tcp://127.0.0.1:{port}", '{"op": "status"}',
         "--timeout", "0.5"],
        capture_output=True, text=True, timeout=30,
    )
    elapsed = time.monotonic() - t0
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"vgsum ctl: no reply from tcp://127.0.0.1:{port} within 0.5 s (is the daemon running?)"]
    assert elapsed < 10


def test_pub_socket_with_curve_shares_the_zap_handler_with_the_control_socket(
    curve_keys: dict[str, Path], book: QueryBook
) -> None:
    """How stream/publish.py can secure its PUB socket: `configure_curve_server(sock, keys)` before bind."""
    from vgsum.runtime.daemon.curve import configure_curve_server

    context = zmq.Context()
    keys = CurveServerKeys(curve_keys["server_secret"], curve_keys["allowed_dir"])
    control = ControlServer(book, "tcp://127.0.0.1:0", curve=keys, context=context)
    control.start()
    pub = context.socket(zmq.PUB)
    pub.linger = 0
    guard = configure_curve_server(pub, keys)
    port = pub.bind_to_random_port("tcp://127.0.0.1")

    def subscriber(secret: Path) -> zmq.Socket:
        sub = context.socket(zmq.SUB)
        sub.linger = 0
        server_pub, client_pub, client_sec = _curve_tuple(curve_keys["server_public"], secret)
        sub.curve_serverkey, sub.curve_publickey, sub.curve_secretkey = server_pub, client_pub, client_sec
        sub.setsockopt(zmq.SUBSCRIBE, b"vgsum.")
        sub.connect(f"tcp://127.0.0.1:{port}")
        return sub

    friend, stranger = subscriber(curve_keys["client_secret"]), subscriber(curve_keys["stranger_secret"])
    try:
        got = None
        deadline = time.monotonic() + 5
        while got is None and time.monotonic() < deadline:  # PUB drops until the handshake is done
            pub.send_multipart([b"vgsum.score.cam1", b'{"score": 0.5}'])
            if friend.poll(100):
                got = friend.recv_multipart()
        assert got == [b"vgsum.score.cam1", b'{"score": 0.5}']
        assert stranger.poll(300) == 0
        # the control socket in the same context still authenticates its clients
        allowed = _curve_tuple(curve_keys["server_public"], curve_keys["client_secret"])
        assert _send(control.bound_endpoint or "", b'{"op": "list_streams"}', curve=allowed)["ok"] is True  # type: ignore[index]
    finally:
        for s in (friend, stranger, pub):
            s.close(0)
        guard.release()
        control.stop()
        context.term()


def test_curve_security_plugs_into_the_ingest_publisher(curve_keys: dict[str, Path]) -> None:
    """stream/publish.py's `security=` hook with runtime/curve.py's CurveSecurity: only listed clients get messages."""
    from vgsum.runtime.daemon.curve import CurveSecurity
    from vgsum.stream.messages import ScoreMessage
    from vgsum.stream.publish import Publisher

    security = CurveSecurity(server=CurveServerKeys(curve_keys["server_secret"], curve_keys["allowed_dir"]))
    context = zmq.Context()
    publisher = Publisher(["pub+bind:tcp://127.0.0.1:*"], security=security, context=context)
    sub = context.socket(zmq.SUB)
    sub.linger = 0
    server_pub, client_pub, client_sec = _curve_tuple(curve_keys["server_public"], curve_keys["client_secret"])
    sub.curve_serverkey, sub.curve_publickey, sub.curve_secretkey = server_pub, client_pub, client_sec
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(publisher.endpoints[0])
    plain = context.socket(zmq.SUB)
    plain.linger = 0
    plain.setsockopt(zmq.SUBSCRIBE, b"")
    plain.connect(publisher.endpoints[0])
    try:
        got = None
        deadline = time.monotonic() + 5
        while got is None and time.monotonic() < deadline:
            publisher.publish(ScoreMessage, "cam1", media_time=1.0, t=1.0, score=0.5, final=False)
            if sub.poll(100):
                got = sub.recv_multipart()
        assert got is not None and got[0] == b"vgsum.score.cam1"
        assert json.loads(got[1])["score"] == 0.5
        assert plain.poll(300) == 0
    finally:
        sub.close(0)
        plain.close(0)
        publisher.close()
        security.release()
        context.term()
