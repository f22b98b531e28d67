"""`vgsum serve` serves the history page: its URL in the log, the live states of its streams, the token rule."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from vgsum.runtime.store.reader import StoreReader


def _config(tmp_path: Path, engine_folder: Path, bikes_mp4: Path, web: dict) -> Path:
    config = tmp_path / "edge.yaml"
    config.write_text(yaml.safe_dump({
        "streams": [{"stream_id": "file", "url": str(bikes_mp4), "realtime": True, "loop": True}],
        "publish": {"endpoints": []},
        "engines": {"dir": str(engine_folder), "threads": 1},
        "control": {"enabled": False},
        "metrics": {"enabled": False},
        "web": web,
    }))
    return config


def _serve(config: Path, data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "vgsum.runtime.cli", "serve", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "VGSUM_DATA": str(data_dir)},
    )


@pytest.mark.slow
def test_serve_logs_the_page_url_and_the_page_shows_live_states(tmp_path, engine_folder, bikes_mp4, data_dir):
    proc = _serve(_config(tmp_path, engine_folder, bikes_mp4, {"port": 0}), data_dir)
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "serve exited early"
            if "history page on http://127.0.0.1:" in line:
                url = line.split("history page on ", 1)[1].split()[0]
        assert url is not None, "no history page line in the log"
        streams: list[dict] = []
        while time.monotonic() < deadline and not any(s["state"] == "streaming" for s in streams):
            with urllib.request.urlopen(url + "api/streams", timeout=5) as reply:
                body = json.load(reply)
            streams = body["streams"]
            time.sleep(0.2)
        assert [(s["stream_id"], s["state"], s["live"]) for s in streams] == [("file", "streaming", True)]
        assert body["history"] is None  # the page reads the store this daemon writes: no complaint
        with urllib.request.urlopen(url, timeout=5) as reply:
            assert b"vgsum history" in reply.read()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
    assert proc.returncode == 0
    with StoreReader(data_dir / "history.db") as reader:  # the page's file is the daemon's own store
        assert [s.stream_id for s in reader.streams()] == ["file"]


def test_serve_refuses_a_page_off_loopback_without_a_token(tmp_path, engine_folder, bikes_mp4, data_dir):
    config = _config(tmp_path, engine_folder, bikes_mp4, {"host": "0.0.0.0", "port": 0})
    proc = _serve(config, data_dir)
    _, err = proc.communicate(timeout=120)
    lines = [line for line in err.splitlines() if line.startswith("vgsum serve:")]
    assert proc.returncode == 2, err[-2000:]
    assert len(lines) == 1 and lines[0].startswith("vgsum serve: web.host 0.0.0.0 needs web.token"), err[-2000:]
    assert "Traceback" not in err
