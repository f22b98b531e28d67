"""`vgsum serve` with `store.url`: the daemon writes a real PostgreSQL under its daemon id, its page reads it, and
the password (from the environment) shows nowhere in its output."""

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
from postgres_server import PASSWORD_USER, PostgresServer

from vgsum.runtime.store.postgres import PostgresTarget
from vgsum.runtime.store.reader import StoreReader


@pytest.mark.slow
def test_serve_writes_postgresql_and_its_page_reads_it(tmp_path: Path, engine_folder: Path, bikes_mp4: Path,
                                                      pg_server: PostgresServer,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    url = pg_server.url(pg_server.new_database(owner=PASSWORD_USER), user=PASSWORD_USER)
    config = tmp_path / "edge.yaml"
    config.write_text(yaml.safe_dump({
        "streams": [{"stream_id": "file", "url": str(bikes_mp4), "realtime": True, "loop": True}],
        "publish": {"endpoints": []}, "engines": {"dir": str(engine_folder), "threads": 1},
        "control": {"enabled": False}, "metrics": {"enabled": False}, "web": {"port": 0},
        "store": {"url": url, "password_env": "VGSUM_TEST_DB_PASSWORD", "daemon_id": "edge-t"},
    }))
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vgsum.runtime.cli", "serve", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "VGSUM_DATA": str(data), "VGSUM_TEST_DB_PASSWORD": pg_server.password},
    )
    log: list[str] = []
    try:
        page = None
        deadline = time.monotonic() + 90
        while page is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "serve exited early: " + "".join(log)[-2000:]
            log.append(line)
            if "history page on http://127.0.0.1:" in line:
                page = line.split("history page on ", 1)[1].split()[0]
        assert page is not None, "no history page line in the log"
        stored: list[dict] = []
        while time.monotonic() < deadline and not any(s["state"] == "streaming" for s in stored):
            with urllib.request.urlopen(page + "api/streams", timeout=5) as reply:
                body = json.load(reply)
            stored = body["streams"]
            time.sleep(0.2)
        assert [(s["stream_id"], s["state"]) for s in stored] == [("file", "streaming")], stored
        assert body["history"] is None  # the page reads the database the daemon writes: no complaint
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    log.append(err)
    assert proc.returncode == 0, "".join(log)[-2000:]
    assert pg_server.password not in "".join(log) + out
    monkeypatch.setenv("VGSUM_TEST_DB_PASSWORD", pg_server.password)
    with StoreReader(PostgresTarget(url, password_env="VGSUM_TEST_DB_PASSWORD")) as reader:
        assert [(s.stream_id, s.daemon_id) for s in reader.streams()] == [("file", "edge-t")]
        assert "streaming" in [s.state for s in reader.states("file")]
