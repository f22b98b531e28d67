"""`vgsum serve` as a user runs it: config errors in one line, publishing, encryption, clean stop, exit status."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
import zmq
import zmq.auth
from polling import holds_for, wait_until

from vgsum.runtime.cli.serve import serve
from vgsum.runtime.daemon.app import SummaryApp
from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.runtime.engines.loader import Engines
from vgsum.stream.subscribe import Subscriber


def start_daemon(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "vgsum.runtime.cli", "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("body", "expect"),
    [
        ("streams:\n  - stream_id: a\n    url: x.mp4\n    sample_fsp: 2\n", "streams.0.sample_fsp: unknown key"),
        ("streams:\n  - stream_id: a\n    url: x.mp4\n    transport: sctp\n", "streams.0.transport"),
        ("streams:\n  - {stream_id: a, url: x.mp4}\n  - {stream_id: a, url: y.mp4}\n", "appears twice"),
        ("streams: []\n", "streams"),
        ("streams:\n  - {stream_id: 'a b', url: x.mp4}\n", "streams.0.stream_id"),
        ("streams: [\n", "not valid YAML"),
        ("streams:\n  - {stream_id: a, url: x.mp4, clips_dir: c, clip_buffer_s: 30}\n", "clip_buffer_s 30 must exceed"),
        ("streams:\n  - {stream_id: a, url: x.mp4}\nsummary: {shot_s: 30}\n", "shot_s must lie between"),
        ("streams:\n  - {stream_id: a, url: x.mp4}\nsummary: {shot_cut: ktss}\n", "summary.shot_cut"),
        ("streams:\n  - {stream_id: a, url: x.mp4, clips_dir: c}\nsummary: {selection: knapsack, shot_delay_s: 60}\n",
         "clip_buffer_s 120 must exceed how long before its last message a highlight can start (132 s"),
        ("streams:\n  - {stream_id: a, url: x.mp4, clips_dir: c}\nsummary: {events: {max_s: 200}}\n",
         "(203.5 s: summary.events.max_s + end_s + min_s)"),
        ("streams:\n  - {stream_id: a, url: x.mp4}\nsummary: {events: {start_above: 0.3, end_below: 0.5}}\n",
         "events.end_below must not exceed events.start_above"),
        # a camera password in a rejected config never reaches the error line
        ("streams:\n  - {stream_id: a, url: 'rtsp://admin:hunter2@cam/1'}\n  - {stream_id: a, url: y.mp4}\n",
         "appears twice"),
        ("streams:\n  - {stream_id: a, url: 'rtsp://admin:hunter2@cam/1', clips_dir: c, clip_buffer_s: 9}\n",
         "must exceed"),
        ("streams:\n  - {stream_id: a, url: x.mp4, queries: ['person', '  ']}\n", "stream 'a': query 1 is empty"),
    ],
)
def test_malformed_config_is_one_line_exit_2(tmp_path, body, expect):
    bad = tmp_path / "bad.yaml"
    bad.write_text(body)
    proc = subprocess.run(
        [sys.executable, "-m", "vgsum.runtime.cli", "serve", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert expect in lines[0] and str(bad) in lines[0]
    assert "hunter2" not in proc.stderr


@pytest.mark.rtsp
def test_serve_publishes_and_stops_within_2s_on_sigterm(tmp_path, bikes_mp4, rtsp_server, free_tcp_port):
    port = free_tcp_port()
    config = tmp_path / "edge.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "streams": [
                    {"stream_id": "file", "url": str(bikes_mp4), "realtime": True, "loop": True},
                    {
                        "stream_id": "cam",
                        "url": rtsp_server.url("live", "user:secret"),
                        "stall_after_s": 20,
                        "read_timeout_s": 10,
                        "long_side": 160,
                    },
                ],
                "mode": "ingest",
                "publish": {
                    "endpoints": [f"pub+bind:tcp://127.0.0.1:{port}"],
                    "status_interval_s": 0.5,
                    "heartbeat_interval_s": 0.5,
                },
            }
        )
    )
    proc = start_daemon(config)
    seen: set[tuple[str, str]] = set()
    try:
        with Subscriber(f"tcp://127.0.0.1:{port}") as sub:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not {("frame", "file"), ("frame", "cam")} <= seen:
                r = sub.recv(0.5)
                if r is not None:
                    seen.add((r.message.kind, r.message.stream_id))
        assert {("frame", "file"), ("frame", "cam"), ("status", "cam"), ("heartbeat", "_daemon")} <= seen
        # A hung camera: the reader sits inside FFmpeg's read; shutdown must not wait for it.
        rtsp_server.freeze()
        time.sleep(0.5)  # the camera stays frozen a while (the reader is then inside FFmpeg's read)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
        rtsp_server.thaw()
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert took < 2.0, took
    assert "Traceback" not in err
    assert "secret" not in err and "secret" not in out
    assert "rtsp://***@127.0.0.1" in err  # the stream is named by a redacted URL


def test_serve_sigint_on_files_only(tmp_path, bikes_mp4, free_tcp_port):
    port = free_tcp_port()
    config = tmp_path / "edge.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "streams": [
                    {"stream_id": "a", "url": str(bikes_mp4), "realtime": True, "loop": True},
                    {"stream_id": "b", "url": str(tmp_path / "missing.mp4")},
                ],
                "mode": "ingest",
                "publish": {"endpoints": [f"pub+bind:tcp://127.0.0.1:{port}"]},
            }
        )
    )
    proc = start_daemon(config)
    try:
        with Subscriber(f"tcp://127.0.0.1:{port}") as sub:  # the daemon is up once it publishes stream a's status
            def heard_a_streaming() -> bool:
                got = sub.recv(0.2)
                return got is not None and got.message.kind == "status" and got.message.stream_id == "a" and \
                    got.message.state.value == "streaming"

            wait_until(heard_a_streaming, 60, "stream a streaming")
        # a failed stream (b: its file is missing; the log says so at the end) does not end the daemon beside another
        holds_for(lambda: proc.poll() is None, 1.0, "the daemon running beside a failed stream")
        t0 = time.monotonic()
        os.kill(proc.pid, signal.SIGINT)
        proc.wait(timeout=10)
        assert time.monotonic() - t0 < 2.0
    finally:
        if proc.poll() is None:
            proc.kill()
    _, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "b=failed" in err and "a=ended" in err


def _sub_socket(context: zmq.Context, endpoint: str, keys: tuple[Path, Path] | None) -> zmq.Socket:
    """A SUB on everything; with (server public key file, client secret key file) a CurveZMQ client."""
    sock = context.socket(zmq.SUB)
    sock.linger = 0
    if keys is not None:
        server_public, _ = zmq.auth.load_certificate(keys[0])
        public, secret = zmq.auth.load_certificate(keys[1])
        sock.curve_serverkey, sock.curve_publickey, sock.curve_secretkey = server_public, public, secret
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    sock.connect(endpoint)
    return sock


def test_ingest_mode_with_curve_keys_delivers_only_to_key_holders(tmp_path, bikes_mp4, free_tcp_port):
    """`mode: ingest` builds its publisher from `publish` like the summarizer: configured keys always apply."""
    for name in ("server", "clients", "mine"):
        (tmp_path / name).mkdir()
    server_public, server_secret = zmq.auth.create_certificates(tmp_path / "server", "server")
    zmq.auth.create_certificates(tmp_path / "clients", "friend")
    client_secret = tmp_path / "clients" / "friend.key_secret"
    port = free_tcp_port()
    config = tmp_path / "edge.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "mode": "ingest",
                "streams": [{"stream_id": "cam", "url": str(bikes_mp4), "realtime": True, "loop": True}],
                "publish": {
                    "endpoints": [f"pub+bind:tcp://127.0.0.1:{port}"],
                    "heartbeat_interval_s": 0.2,
                    "status_interval_s": 0.2,
                    "curve": {"secret_key_file": str(server_secret), "client_keys_dir": str(tmp_path / "clients")},
                },
            }
        )
    )
    proc = start_daemon(config)
    context = zmq.Context()
    endpoint = f"tcp://127.0.0.1:{port}"
    friend = _sub_socket(context, endpoint, (Path(server_public), client_secret))
    plain = _sub_socket(context, endpoint, None)
    try:
        got: list[bytes] = []
        deadline = time.monotonic() + 30
        while not got and time.monotonic() < deadline and proc.poll() is None:
            if friend.poll(200):
                got = friend.recv_multipart()
        assert got, "a subscriber holding an allowed key received nothing"
        assert got[0].startswith(b"vgsum.")
        # the daemon keeps publishing: a subscriber without keys gets none of it
        holds_for(lambda: plain.poll(0) == 0, 1.0, "a subscriber without keys receiving nothing (an unencrypted PUB)")
    finally:
        friend.close(0)
        plain.close(0)
        context.term()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    _, err = proc.communicate()
    assert proc.returncode == 0, err[-2000:]
    secret = zmq.auth.load_certificate(server_secret)[1]
    assert secret is not None and secret.decode() not in err  # no key material in the log


@pytest.mark.timeout(90, func_only=True)  # a failed pipeline must end the daemon, not leave it scoring nothing
def test_serve_exits_1_with_one_line_when_the_pipeline_fails(broken_engines: Engines, engine_folder, bikes_mp4, capsys):
    cfg = EdgeConfig(
        streams=[{"stream_id": "cam", "url": str(bikes_mp4), "realtime": True, "loop": True}],
        publish={"endpoints": []},
        engines={"dir": engine_folder},
        control={"endpoint": "tcp://127.0.0.1:0"},
        metrics={"port": 0},
        web={"port": 0},
    )
    started = time.monotonic()
    assert serve(SummaryApp(cfg, broken_engines)) == 1
    assert time.monotonic() - started < 30
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("vgsum")]
    assert lines == ["vgsum serve: pipeline failed: RuntimeError: refiner exploded; see the log for the traceback"]


def test_a_config_that_is_a_directory_or_not_utf8_is_one_line_exit_2(tmp_path):
    latin = tmp_path / "latin1.yaml"
    latin.write_bytes("streams:\n  - {stream_id: caf\xe9, url: x.mp4}\n".encode("latin-1"))
    for config, expect in ((latin, "not UTF-8"), (tmp_path, "is a directory")):
        proc = subprocess.run(
            [sys.executable, "-m", "vgsum.runtime.cli", "serve", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"vgsum serve: {config}: ") and expect in lines[0], lines


@pytest.mark.slow
@pytest.mark.parametrize(
    ("section", "expect"),
    [
        ("control: {{endpoint: 'tcp://127.0.0.1:{port}'}}\nmetrics: {{enabled: false}}\n",
         "control socket: cannot bind"),
        ("control: {{endpoint: 'tcp://127.0.0.1:0'}}\nmetrics: {{port: {port}}}\n", "metrics: cannot listen"),
        # metrics bind first, then the control socket fails: what started must be stopped, without a traceback
        ("control: {{endpoint: 'tcp://127.0.0.1:{port}'}}\nmetrics: {{port: 0}}\n", "control socket: cannot bind"),
        ("publish: {{endpoints: ['pub+bind:tcp://127.0.0.1:{port}']}}\nmetrics: {{enabled: false}}\n"
         "control: {{enabled: false}}\n", "publish endpoint"),
    ],
    ids=["control", "metrics", "metrics-then-control", "publish"],
)
def test_a_port_in_use_is_one_line_and_exit_2(tmp_path, engine_folder, section, expect):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "edge.yaml"
        config.write_text(
            f"streams: [{{stream_id: a, url: 'rtsp://127.0.0.1:{port}/x'}}]\n"
            f"engines: {{dir: '{engine_folder}', threads: 1}}\n" + section.format(port=port)
        )
        if "publish" not in section:
            config.write_text(config.read_text() + "publish: {endpoints: []}\n")
        proc = subprocess.run(
            [sys.executable, "-m", "vgsum.runtime.cli", "serve", "--config", str(config)],
            capture_output=True, text=True, timeout=120,
        )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "Error:" not in proc.stderr, proc.stderr[-2000:]
    ours = [line for line in proc.stderr.splitlines() if line.startswith("vgsum")]
    assert len(ours) == 1 and ours[0].startswith("vgsum serve: ") and expect in ours[0], proc.stderr[-2000:]
    assert ours[0] == proc.stderr.strip().splitlines()[-1]  # the last word, after the log of what started
