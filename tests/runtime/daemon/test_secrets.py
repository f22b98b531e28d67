"""Stress: camera passwords with every reserved character never leave the daemon.

Each stream's URL carries a password holding one RFC 3986 reserved character (or
`%` or a space), as typed and percent-encoded. A real daemon runs them all at once
(sources that refuse or reject the connection, so every stream keeps failing and
reporting why), and everything it says is searched for each password, as written,
percent-decoded and percent-encoded: every log record (with tracebacks), FFmpeg's
own output on fd 2, every message on a real SUB socket, /metrics, /healthz and the
control socket's `status` reply. `vgsum run` on such a URL is checked as a user
runs it, as a subprocess.
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

pytestmark = pytest.mark.slow

RESERVED = ":/?#[]@!$&'()*+,;=% "


def password_for(index: int, char: str) -> str:
    """Distinctive, so it cannot occur by chance in a log line: letters, the character twice, a number."""
    return f"Pw{char}se{char}cr{index}Q"


def forms(password: str) -> set[str]:
    """What may not appear: the password as written, percent-decoded and percent-encoded (two ways)."""
    return {password, unquote(password), quote(password, safe=""), quote(password)}


def stream_urls(port: int) -> dict[str, tuple[str, str]]:
    """stream id -> (url, password): each reserved character raw and percent-encoded in the password."""
    urls = {}
    for i, char in enumerate(RESERVED):
        password = password_for(i, char)
        urls[f"raw{i}"] = (f"rtsp://admin:{password}@127.0.0.1:{port}/live", password)
        urls[f"enc{i}"] = (f"rtsp://admin:{quote(password, safe='')}@127.0.0.1:{port}/live", password)
    return urls


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


def run_daemon(engine_folder: Path, urls: dict[str, tuple[str, str]], seconds: float) -> dict[str, str]:
    """Run a daemon over `urls` for `seconds`; everything it said, by where it said it."""
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
            {"stream_id": sid, "url": url, "open_timeout_s": 2, "backoff_initial_s": 0.2, "backoff_max_s": 1.0,
             "max_retries": None}
            for sid, (url, _) in urls.items()
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
    texts = run_daemon(engine_folder, urls, seconds=6.0)
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
    texts = run_daemon(engine_folder, urls, seconds=6.0)
    out, err = capfd.readouterr()
    texts["stdout"], texts["stderr (FFmpeg included)"] = out, err
    assert_nowhere({password for _, password in urls.values()}, texts)
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
