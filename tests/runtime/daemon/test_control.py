"""The control socket of a real daemon over real ZeroMQ sockets: good requests work, bad ones change nothing.

The handler is the one `vgsum serve` gives its control socket: a `SummaryApp`
(real engines, two cameras that nobody serves, so they stay `connecting` and cost
no CPU), with its own control socket bound from its config.
"""

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
from pydantic import ValidationError

from vgsum.runtime.cli import ctl as ctl_cli
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.daemon.app import SummaryApp
from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.runtime.daemon.control import ControlServer
from vgsum.runtime.daemon.curve import CurveServerKeys
from vgsum.runtime.daemon.exposure import is_local_endpoint
from vgsum.runtime.engines.config import EngineConfig
from vgsum.runtime.engines.loader import Engines
from vgsum.runtime.summary.queries import MAX_QUERY_CHARS


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


@pytest.fixture(scope="module")
def engines(engine_folder: Path) -> Engines:
    return Engines.load(EngineConfig(dir=engine_folder, threads=1))


def daemon_config(engine_folder: Path, port: int, **control: object) -> EdgeConfig:
    camera = f"rtsp://127.0.0.1:{port}"  # nothing listens there: the streams keep connecting
    return EdgeConfig(
        streams=[
            {"stream_id": "cam1", "url": f"{camera}/1", "queries": ["person"], "open_timeout_s": 1},
            {"stream_id": "cam2", "url": f"{camera}/2", "open_timeout_s": 1},
        ],
        publish={"endpoints": []},
        engines={"dir": engine_folder, "threads": 1},
        control={"endpoint": "tcp://127.0.0.1:0", **control},
        metrics={"enabled": False},
        web={"port": 0},
    )


@pytest.fixture()
def daemon(engines: Engines, engine_folder: Path, free_tcp_port) -> Iterator[SummaryApp]:
    service = SummaryApp(daemon_config(engine_folder, free_tcp_port()), engines)
    service.start()
    yield service
    service.stop()


@pytest.fixture()
def endpoint(daemon: SummaryApp) -> str:
    assert daemon.control is not None and daemon.control.bound_endpoint
    return daemon.control.bound_endpoint


def _versions(daemon: SummaryApp) -> tuple:
    return tuple(daemon.pipeline.queries.versioned(sid) for sid in ("cam1", "cam2"))


def test_good_requests_round_trip(daemon: SummaryApp, endpoint: str) -> None:
    assert endpoint.startswith("tcp://127.0.0.1:") and not endpoint.endswith(":0")
    assert _ask(endpoint, {"op": "list_streams"}) == {"ok": True, "result": {"streams": ["cam1", "cam2"]}}
    assert _ask(endpoint, {"op": "get_queries", "stream_id": "cam1"})["result"]["queries"] == ["person"]

    version_before = daemon.pipeline.queries.versioned("cam2")[0]
    queries = ["  red car ", "dog", "dog", "vélo 🚲"]
    reply = _ask(endpoint, {"op": "set_queries", "stream_id": "cam2", "queries": queries})
    assert reply["ok"] is True
    assert reply["result"]["queries"] == ["red car", "dog", "vélo 🚲"]
    # the pipeline's own store changed: the next frame of cam2 is scored with these
    assert daemon.pipeline.queries.versioned("cam2") == (version_before + 1, ("red car", "dog", "vélo 🚲"))

    status = _ask(endpoint, {"op": "status"})["result"]["streams"]
    assert list(status) == ["cam1", "cam2"]
    assert status["cam1"]["queries"] == ["person"] and status["cam2"]["queries"] == ["red car", "dog", "vélo 🚲"]
    for one in status.values():
        assert one["state"] in ("connecting", "reconnecting") and one["frames_scored"] == 0
    one = _ask(endpoint, {"op": "status", "stream_id": "cam1"})["result"]["streams"]
    assert list(one) == ["cam1"]
    # an empty list clears the queries
    assert _ask(endpoint, {"op": "set_queries", "stream_id": "cam1", "queries": []})["result"]["queries"] == []
    assert daemon.pipeline.queries.get("cam1") == []


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


def test_bad_requests_get_an_error_and_change_nothing(daemon: SummaryApp, endpoint: str) -> None:
    # one daemon for all of them: each must leave the queries as they were, and the socket serving
    for name, payload, fragment in BAD_REQUESTS:
        before = _versions(daemon)
        reply = _send(endpoint, payload)
        assert reply is not None, name
        assert reply["ok"] is False, name
        assert fragment in reply["error"], (name, reply["error"])
        assert "\n" not in reply["error"], name
        assert _versions(daemon) == before, name
        assert _ask(endpoint, {"op": "list_streams"})["ok"] is True, name
    assert daemon.control is not None and daemon.control.errors == len(BAD_REQUESTS)


def test_handler_failures_become_error_replies(
    daemon: SummaryApp, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = daemon.pipeline.queries
    real_set = store.set

    def failing_set(stream_id: str, queries: list[str]) -> None:  # fault injection into the real store
        if queries == ["boom"]:
            raise RuntimeError("bug in the pipeline")
        if queries == ["refuse"]:
            raise UserError("query embedding engine missing: run `vgsum export text`")
        real_set(stream_id, queries)

    monkeypatch.setattr(store, "set", failing_set)
    user = _ask(endpoint, {"op": "set_queries", "stream_id": "cam1", "queries": ["refuse"]})
    assert user == {"ok": False, "error": "query embedding engine missing: run `vgsum export text`"}
    bug = _ask(endpoint, {"op": "set_queries", "stream_id": "cam1", "queries": ["boom"]})
    assert bug["ok"] is False and "internal error" in bug["error"] and "bug in" not in bug["error"]
    assert _ask(endpoint, {"op": "set_queries", "stream_id": "cam1", "queries": ["fine"]})["ok"] is True
    assert store.get("cam1") == ["fine"]
    assert daemon.control is not None and daemon.control.errors == 2 and daemon.control.requests == 3


def test_concurrent_clients_all_get_their_reply(daemon: SummaryApp, endpoint: str) -> None:
    replies: list[dict | None] = []

    def client(i: int) -> None:
        payload = json.dumps({"op": "set_queries", "stream_id": "cam1", "queries": [f"q{i}"]}).encode()
        replies.append(_send(endpoint, payload))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(replies) == 8 and all(r is not None and r["ok"] for r in replies)
    assert daemon.pipeline.queries.versioned("cam1")[0] == 8


def test_stop_is_quick_and_releases_the_port(daemon: SummaryApp) -> None:
    srv = ControlServer(daemon, "tcp://127.0.0.1:0")
    ep = srv.start()
    t0 = time.monotonic()
    srv.stop()
    assert time.monotonic() - t0 < 1.0
    again = ControlServer(daemon, ep)
    assert again.start() == ep
    with pytest.raises(UserError, match="cannot bind"):
        ControlServer(daemon, ep).start()
    again.stop()


def test_binding_policy(daemon: SummaryApp) -> None:
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
        ControlServer(daemon, "tcp://0.0.0.0:5571")
    with pytest.raises(UserError):
        ControlServer(daemon, "udp://127.0.0.1:5")


def test_a_daemon_configured_to_listen_off_loopback_without_keys_is_refused_before_binding(
    engine_folder: Path, free_tcp_port
) -> None:
    # refused when the config loads, before any service or socket exists (see test_exposure.py for every mode)
    with pytest.raises(ValidationError, match="refusing to bind tcp://0.0.0.0:0 without CurveZMQ keys"):
        daemon_config(engine_folder, free_tcp_port(), endpoint="tcp://0.0.0.0:0")


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


def test_a_daemon_listening_off_loopback_admits_only_listed_clients(
    curve_keys: dict[str, Path], engines: Engines, engine_folder: Path, free_tcp_port
) -> None:
    curve = {"secret_key_file": str(curve_keys["server_secret"]), "client_keys_dir": str(curve_keys["allowed_dir"])}
    service = SummaryApp(daemon_config(engine_folder, free_tcp_port(), endpoint="tcp://0.0.0.0:0", curve=curve),
                             engines)
    service.start()
    try:
        assert service.control is not None and service.control.bound_endpoint
        port = service.control.bound_endpoint.rsplit(":", 1)[1]
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
    finally:
        service.stop()


def test_key_errors_never_show_key_material(
    curve_keys: dict[str, Path], daemon: SummaryApp, tmp_path: Path
) -> None:
    public_text = curve_keys["server_public"].read_text()
    public_key = zmq.auth.load_certificate(curve_keys["server_public"])[0].decode()
    # a public certificate where the secret one is needed
    with pytest.raises(UserError) as err:
        ControlServer(daemon, "tcp://127.0.0.1:0", curve=CurveServerKeys(curve_keys["server_public"],
                                                                       curve_keys["allowed_dir"])).start()
    assert public_key not in str(err.value) and "key_secret" in str(err.value)
    garbage = tmp_path / "garbage.key_secret"
    garbage.write_text("secret-key = 'not-a-real-key-but-should-stay-private'\n")
    with pytest.raises(UserError) as err:
        ControlServer(daemon, "tcp://127.0.0.1:0", curve=CurveServerKeys(garbage, curve_keys["allowed_dir"])).start()
    assert "should-stay-private" not in str(err.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="no \\*.key"):
        ControlServer(daemon, "tcp://127.0.0.1:0", curve=CurveServerKeys(curve_keys["server_secret"], empty)).start()
    assert public_text  # the files were real certificates


def test_ctl_cli_against_a_live_daemon(endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert ctl_cli.main([endpoint, '{"op": "set_queries", "stream_id": "cam1", "queries": ["dog"]}']) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["result"]["queries"] == ["dog"]
    assert ctl_cli.main([endpoint, '{"op": "get_queries", "stream_id": "nope"}']) == 1
    assert "no stream" in json.loads(capsys.readouterr().out)["error"]
    with pytest.raises(UserError, match="not JSON"):
        ctl_cli.main([endpoint, "{oops"])


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


def test_an_ipv6_loopback_endpoint_binds_and_answers(engines: Engines, engine_folder: Path, free_tcp_port) -> None:
    service = SummaryApp(daemon_config(engine_folder, free_tcp_port(), endpoint="tcp://[::1]:0"), engines)
    service.start()
    try:
        assert service.control is not None and service.control.bound_endpoint
        assert service.control.bound_endpoint.startswith("tcp://[::1]:")
        sock = zmq.Context.instance().socket(zmq.REQ)
        sock.linger = 0
        sock.ipv6 = True
        sock.connect(service.control.bound_endpoint)
        sock.send(b'{"op": "list_streams"}')
        assert sock.poll(3000)
        assert json.loads(sock.recv()) == {"ok": True, "result": {"streams": ["cam1", "cam2"]}}
        sock.close(0)
    finally:
        service.stop()


def test_ctl_refuses_deep_nesting_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UserError, match="nests too deeply"):
        ctl_cli.main(["tcp://127.0.0.1:1", "[" * 100_000 + "]" * 100_000])


def test_summary_settings_change_live_per_stream_and_bad_ones_are_one_line(daemon: SummaryApp, endpoint: str) -> None:
    before = _ask(endpoint, {"op": "get_summary", "stream_id": "cam1"})["result"]["summary"]
    assert before["motion_gain"] == 0.4 and before["events"]["start_above"] == 0.6
    reply = _ask(endpoint, {"op": "set_summary", "stream_id": "cam1",
                            "summary": {"motion_gain": 0.2, "events": {"start_above": 0.7}}})
    assert reply["ok"], reply
    assert reply["result"]["summary"]["motion_gain"] == 0.2
    assert reply["result"]["summary"]["events"] == {**before["events"], "start_above": 0.7}
    assert daemon.pipeline.summary_of("cam1").events.start_above == 0.7  # from cam1's next frame on
    assert daemon.pipeline.summary_of("cam2").motion_gain == 0.4  # the other camera keeps its own
    for changes, fragment in [
        ({"motion_gian": 0.2}, "motion_gian: Extra inputs are not permitted"),
        ({"motion_gain": 2}, "motion_gain: Input should be less than or equal to 1"),
        ({"events": {"end_below": 0.9}}, "end_below must not exceed"),
    ]:
        bad = _ask(endpoint, {"op": "set_summary", "stream_id": "cam1", "summary": changes})
        assert bad["ok"] is False and fragment in bad["error"] and "\n" not in bad["error"], bad
    assert daemon.pipeline.summary_of("cam1").motion_gain == 0.2  # a bad change changes nothing
    restart = _ask(endpoint, {"op": "set_summary", "stream_id": "cam1", "summary": {"window": 32, "stride": 4}})
    assert restart["ok"] and restart["result"]["summary"]["window"] == 32  # the summary starts afresh, next frame
    assert daemon.pipeline.summary_of("cam1").motion_gain == 0.2  # on top of the earlier change
    missing = _ask(endpoint, {"op": "set_summary", "stream_id": "nope", "summary": {}})
    assert missing["ok"] is False and "no stream 'nope'" in missing["error"]


def test_a_query_that_names_nothing_visible_is_kept_with_a_notice(daemon: SummaryApp, endpoint: str) -> None:
    reply = _ask(endpoint, {"op": "set_queries", "stream_id": "cam2", "queries": ["a unicorn", "someone walking"]})
    assert reply["ok"], reply
    assert reply["result"]["queries"] == ["a unicorn", "someone walking"]  # kept, not refused
    notices = reply["result"]["notices"]
    assert list(notices) == ["a unicorn"], notices
    assert "names nothing vgsum can see" in notices["a unicorn"] and "nearest it can see" in notices["a unicorn"]
    assert "\n" not in notices["a unicorn"]
    for bad, fragment in [([""], "empty"), (["x" * 1100], "longer than"), (["a\x07bell"], "control characters")]:
        refused = _ask(endpoint, {"op": "set_queries", "stream_id": "cam2", "queries": bad})
        assert refused["ok"] is False and fragment in refused["error"], refused
