"""Stress: camera passwords with every reserved character never leave the daemon.

Each stream's URL carries a password holding one RFC 3986 reserved character (or
`%` or a space), as typed and percent-encoded. A real daemon runs them all at once
(sources that refuse or reject the connection, so every stream keeps failing and
reporting why), and everything it says is searched for each password, as written,
percent-decoded and percent-encoded: every log record (with tracebacks), FFmpeg's
own output on fd 2, every message on a real SUB socket, /metrics, /healthz and the
control socket's `status` reply. `vgsum run` on such a URL is checked as a user
runs it, as a subprocess.

The same holds for passwords given beside the URL (`password`, `password_file`,
`password_env`), which FFmpeg gets percent-encoded inside the URL: the raw and the
encoded forms are searched for too, with cameras that refuse the connection, that
reject the password (401) and that accept it.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
import zmq

from vgsum.runtime.daemon.app import SummaryApp
from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.runtime.engines.config import EngineConfig
from vgsum.runtime.engines.loader import Engines
from vgsum.stream.redact import encode_credential

pytestmark = pytest.mark.slow

RESERVED = ":/?#[]@!$&'()*+,;=% "


def password_for(index: int, char: str) -> str:
    """Distinctive, so it cannot occur by chance in a log line: letters, the character twice, a number."""
    return f"Pw{char}se{char}cr{index}Q"


def forms(password: str) -> set[str]:
    """What may not appear: the password as written, percent-decoded and percent-encoded (three ways, one of them
    the form FFmpeg gets: `%XX` escapes kept, everything else encoded)."""
    return {password, unquote(password), quote(password, safe=""), quote(password), encode_credential(password)}


def stream_urls(port: int) -> dict[str, tuple[str, str]]:
    """stream id -> (url, password): each reserved character raw and percent-encoded in the password."""
    urls = {}
    for i, char in enumerate(RESERVED):
        password = password_for(i, char)
        urls[f"raw{i}"] = (f"rtsp://admin:{password}@127.0.0.1:{port}/live", password)
        urls[f"enc{i}"] = (f"rtsp://admin:{quote(password, safe='')}@127.0.0.1:{port}/live", password)
    return urls


def field_streams(
    host: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user: str = "admin"
) -> dict[str, tuple[dict[str, object], str]]:
    """stream id -> (stream settings, password): each reserved character in a password beside the URL.

    The password comes from `password`, `password_file` and `password_env` in turn (each source gets seven
    characters); the URL carries no credentials.
    """
    streams: dict[str, tuple[dict[str, object], str]] = {}
    for i, char in enumerate(RESERVED):
        password = password_for(100 + i, char)
        source = ("password", "password_file", "password_env")[i % 3]
        if source == "password":
            value: str = password
        elif source == "password_file":
            (tmp_path / f"pw{i}").write_text(password + "\n")
            value = str(tmp_path / f"pw{i}")
        else:
            monkeypatch.setenv(f"VGSUM_TEST_SECRET_{i}", password)
            value = f"VGSUM_TEST_SECRET_{i}"
        streams[f"field{i}"] = ({"url": f"rtsp://{host}/live", "username": user, source: value}, password)
    return streams


def url_streams(urls: dict[str, tuple[str, str]]) -> dict[str, dict[str, object]]:
    """`stream_urls`' URLs as stream settings for `run_daemon`."""
    return {sid: {"url": url} for sid, (url, _) in urls.items()}


def assert_nowhere(passwords: Iterable[str], texts: dict[str, str]) -> None:
    for password in passwords:
        for form in forms(password):
            for where, text in texts.items():
                assert form not in text, f"{form!r} shown in {where}: ...{text[max(0, text.find(form) - 80):][:200]}"


def get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.read().decode()
    except urllib.error.HTTPError as err:  # /healthz answers 503 while streams are down: its body still counts
        return err.read().decode()


def run_daemon(engine_folder: Path, streams: dict[str, dict[str, object]], seconds: float) -> dict[str, str]:
    """Run a daemon over `streams` (stream id -> url and credential settings) for `seconds`; everything it said,
    by where it said it."""
    records: list[str] = []
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: records.append(formatter.format(record))  # type: ignore[method-assign]
    vgsum_log = logging.getLogger("vgsum")
    old_level = vgsum_log.level
    vgsum_log.setLevel(logging.DEBUG)
    vgsum_log.addHandler(handler)
    cfg = EdgeConfig(
        streams=[
            {"stream_id": sid, **stream, "open_timeout_s": 2, "backoff_initial_s": 0.2, "backoff_max_s": 1.0,
             "max_retries": None}
            for sid, stream in streams.items()
        ],
        publish={"endpoints": ["pub+bind:tcp://127.0.0.1:0"], "status_interval_s": 0.5},
        engines={"dir": engine_folder, "threads": 1},
        control={"endpoint": "tcp://127.0.0.1:0"},
        metrics={"port": 0},
        web={"port": 0},
    )
    service = SummaryApp(cfg, Engines.load(EngineConfig(dir=engine_folder, threads=1)))
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.linger = 0
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(service.publisher.endpoints[0])
    messages: list[str] = []
    texts: dict[str, str] = {}
    try:
        service.start()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if sub.poll(100):
                messages.append(b" ".join(sub.recv_multipart()).decode())
        assert service.metrics_server is not None and service.control is not None
        texts["/metrics"] = get(f"{service.metrics_server.url}/metrics")
        texts["/healthz"] = get(f"{service.metrics_server.url}/healthz")
        assert service.web is not None
        texts["history page /api/streams"] = get(f"{service.web.url}/api/streams")
        req = zmq.Context.instance().socket(zmq.REQ)
        req.linger = 0
        req.connect(service.control.bound_endpoint)
        req.send(b'{"op": "status"}')
        assert req.poll(5000)
        texts["control status"] = req.recv().decode()
        req.close(0)
    finally:
        service.stop()
        sub.close(0)
        vgsum_log.removeHandler(handler)
        vgsum_log.setLevel(old_level)
    texts["messages"] = "\n".join(messages)
    texts["log"] = "\n".join(records)
    history = service.handler.store_path()
    assert history is not None
    with sqlite3.connect(history) as db:  # every row the store kept (stream URLs, states and their errors)
        texts["history database"] = "\n".join(db.iterdump())
    assert "rtsp://***@127.0.0.1:" in texts["history database"]  # the URLs were kept, masked
    return texts


def test_no_password_leaves_a_daemon_whose_cameras_refuse(engine_folder: Path, capfd, free_tcp_port) -> None:
    urls = stream_urls(free_tcp_port())  # nothing listens there: every open fails and is reported
    texts = run_daemon(engine_folder, url_streams(urls), seconds=6.0)
    out, err = capfd.readouterr()
    texts["stdout"], texts["stderr (FFmpeg included)"] = out, err
    assert_nowhere({password for _, password in urls.values()}, texts)
    # the paths were exercised: the errors went out, with the masked URL beside them
    status = json.loads(texts["control status"])["result"]["streams"]
    assert len(status) == len(urls) and any(s["last_error"] for s in status.values())
    assert "rtsp://***@127.0.0.1:" in texts["messages"] and "cannot open" in texts["messages"]
    assert "cannot open" in texts["log"] and "retry" in texts["log"]


@pytest.mark.rtsp
def test_no_password_leaves_a_daemon_whose_camera_rejects_it(engine_folder: Path, capfd, rtsp_server) -> None:
    # the real server wants user:secret; these passwords hold reserved characters and are refused (401)
    urls = {f"s{i}": (f"rtsp://user:{password_for(i, c)}@127.0.0.1:{rtsp_server.port}/live", password_for(i, c))
            for i, c in enumerate(RESERVED)}
    texts = run_daemon(engine_folder, url_streams(urls), seconds=6.0)
    out, err = capfd.readouterr()
    texts["stdout"], texts["stderr (FFmpeg included)"] = out, err
    assert_nowhere({password for _, password in urls.values()}, texts)
    assert "rtsp://***@127.0.0.1:" in texts["messages"]


def test_no_field_password_leaves_a_daemon_whose_cameras_refuse(
    engine_folder: Path, capfd, free_tcp_port, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    streams = field_streams(f"127.0.0.1:{free_tcp_port()}", tmp_path, monkeypatch)  # nothing listens
    texts = run_daemon(engine_folder, {sid: stream for sid, (stream, _) in streams.items()}, seconds=6.0)
    out, err = capfd.readouterr()
    texts["stdout"], texts["stderr (FFmpeg included)"] = out, err
    assert_nowhere({password for _, password in streams.values()}, texts)
    status = json.loads(texts["control status"])["result"]["streams"]
    assert len(status) == len(streams) and all(s["last_error"] for s in status.values())
    # the fields' credentials show as ***@ like a URL's, and the errors went out
    assert "rtsp://***@127.0.0.1:" in texts["messages"] and "cannot open" in texts["messages"]
    assert "cannot open" in texts["log"] and "retry" in texts["log"]


@pytest.mark.rtsp
def test_no_field_password_leaves_a_daemon_whose_camera_rejects_or_accepts_it(
    engine_folder: Path, capfd, rtsp_server, bikes_mp4: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vgsum.runtime.bench.rtsp_camera import RtspCamera

    # the real server wants user:secret; these passwords hold reserved characters and are refused (401) ...
    rejected = field_streams(f"127.0.0.1:{rtsp_server.port}", tmp_path, monkeypatch, user="user")
    # ... while this one, with all of them, lets its user in, given in each field and raw in the URL
    password = "Pw/?#@:% []!$&'()*+,;=Q"
    camera = RtspCamera(bikes_mp4, auth=f"viewer:{password}")
    camera.start()
    try:
        (tmp_path / "viewer").write_text(password + "\n")
        monkeypatch.setenv("VGSUM_TEST_VIEWER", password)
        live = f"rtsp://127.0.0.1:{camera.port}/live"
        accepted: dict[str, dict[str, object]] = {
            "ok_password": {"url": live, "username": "viewer", "password": password},
            "ok_file": {"url": live, "username": "viewer", "password_file": str(tmp_path / "viewer")},
            "ok_env": {"url": live, "username": "viewer", "password_env": "VGSUM_TEST_VIEWER"},
            "ok_url": {"url": f"rtsp://viewer:{password}@127.0.0.1:{camera.port}/live"},
        }
        streams = {**{sid: stream for sid, (stream, _) in rejected.items()}, **accepted}
        texts = run_daemon(engine_folder, streams, seconds=8.0)
    finally:
        camera.stop()
    out, err = capfd.readouterr()
    texts["stdout"], texts["stderr (FFmpeg included)"] = out, err
    assert_nowhere({password, *(pw for _, pw in rejected.values())}, texts)
    status = json.loads(texts["control status"])["result"]["streams"]
    assert all("401" in status[sid]["last_error"] for sid in rejected), status
    assert all(status[sid]["state"] == "streaming" for sid in accepted), status
    assert "rtsp://***@127.0.0.1:" in texts["messages"]


@pytest.mark.parametrize("password", ["p4ss/se#cr?et@x", "Pw :[]!$&'()*+,;=%41Q"])
def test_vgsum_run_never_prints_the_password(engine_folder: Path, free_tcp_port, password: str) -> None:
    url = f"rtsp://admin:{password}@127.0.0.1:{free_tcp_port()}/x"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vgsum.runtime.cli", "run", url, "--engines", str(engine_folder), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stderr is not None
        lines = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # until it has failed to open at least twice
            line = proc.stderr.readline()
            lines.append(line)
            if not line or sum("retry" in seen for seen in lines) >= 2:
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    stderr = "".join(lines) + err
    assert "retry" in stderr and "rtsp://***@127.0.0.1:" in stderr + out, stderr[-1500:]
    assert_nowhere([password], {"stdout": out, "stderr": stderr})


@pytest.mark.rtsp
def test_vgsum_run_connects_with_a_raw_reserved_password_and_never_prints_it(
    engine_folder: Path, gst_rtsp_available: None, bikes_mp4: Path, tmp_path: Path
) -> None:
    """Typed raw in the URL, as the issue's user did: it connects (FFmpeg gets it encoded) and is never shown."""
    from vgsum.runtime.bench.rtsp_camera import RtspCamera

    password = "Pw/?#@:% se%cr%41Q"  # `%41` stays an escape in a URL: the camera's password has an A there
    camera = RtspCamera(bikes_mp4, auth="viewer:Pw/?#@:% se%crAQ")
    camera.start()
    out_dir = tmp_path / "report"
    try:
        url = f"rtsp://viewer:{password}@127.0.0.1:{camera.port}/live"
        proc = subprocess.Popen(
            [sys.executable, "-m", "vgsum.runtime.cli", "run", url, "--engines", str(engine_folder),
             "--out", str(out_dir), "--quiet", "--verbose"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            assert proc.stderr is not None
            lines = []
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:  # until the stream is streaming (or the run gave up)
                line = proc.stderr.readline()
                lines.append(line)
                if not line or "-> streaming" in line:
                    break
            time.sleep(2.0)  # a few frames scored
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    finally:
        camera.stop()
    stderr = "".join(lines) + err
    assert "-> streaming" in stderr and "rtsp://***@127.0.0.1:" in stderr + out, stderr[-1500:]
    assert proc.returncode == 0 and " 0 frames scored" not in out and "frames scored" in out, (out, stderr[-1500:])
    written = [p for p in out_dir.rglob("*") if p.is_file() and p.suffix != ".png"]
    report = {f"report {p.name}": p.read_text(errors="replace") for p in written}
    assert report, "the report was written"
    assert_nowhere([password, "Pw/?#@:% se%crAQ"], {"stdout": out, "stderr": stderr, **report})
