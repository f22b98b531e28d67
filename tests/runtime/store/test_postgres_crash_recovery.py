"""A daemon on PostgreSQL killed with -9 mid-highlight ends what it left open at its next start (`interrupted`).

The SQLite test (tests/runtime/daemon/test_crash_recovery.py) on the shared-database backend: a real
`vgsum serve` with `store.url` and its own `daemon_id` is killed while the database holds a highlight
without its end; the next start publishes an `end` with `reason: interrupted` and the span the database kept,
before any new highlight starts, and the rows (and the payloads kept in `messages`) say so, as does a real
MQTT subscriber on the daemon's broker (where mosquitto is installed).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from mqtt_broker import Broker, Sink, mosquitto_binary
from polling import wait_until
from postgres_server import PostgresServer

pytestmark = pytest.mark.slow


def _serve(config: Path, data: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "vgsum.runtime.cli", "serve", "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "VGSUM_DATA": str(data)})


def _rows(url: str, sql: str) -> list[tuple]:
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True) as conn:
            return conn.execute(sql).fetchall()
    except psycopg.errors.UndefinedTable:  # the daemon has not made the schema yet
        return []


def test_postgres_highlights_left_open_by_a_kill_end_as_interrupted(
    tmp_path: Path, engine_folder: Path, bikes_mp4: Path, free_tcp_port, pg_server: PostgresServer,
    request: pytest.FixtureRequest,
) -> None:
    url = pg_server.url(pg_server.new_database())
    broker: Broker | None = None
    if mosquitto_binary() is not None:
        (tmp_path / "broker").mkdir()
        broker = Broker(mosquitto_binary(), tmp_path / "broker").start()  # type: ignore[arg-type]
        request.addfinalizer(broker.stop)
    mqtt = {} if broker is None else {"mqtt": {"enabled": True, "host": "127.0.0.1", "port": broker.port,
                                               "reconnect_min_s": 0.05, "reconnect_max_s": 0.3, "keepalive_s": 5}}
    config = tmp_path / "edge.yaml"
    config.write_text(yaml.safe_dump({**mqtt,
        "streams": [{"stream_id": f"pcam{i}", "url": str(bikes_mp4), "realtime": True, "loop": True}
                    for i in range(2)],
        "publish": {"endpoints": [f"pub+bind:tcp://127.0.0.1:{free_tcp_port()}"]},
        "engines": {"dir": str(engine_folder), "threads": 1},
        "control": {"enabled": False}, "metrics": {"enabled": False}, "web": {"enabled": False},
        "store": {"url": url, "daemon_id": "edge-crash", "flush_s": 0.1},
    }))
    open_sql = "SELECT id, stream_id, start, \"end\" FROM highlights WHERE phase != 'end'"
    first = _serve(config, tmp_path / "data")
    try:
        wait_until(lambda: _rows(url, open_sql), 120, "an open highlight in PostgreSQL")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    left_open = {row[0]: row for row in _rows(url, open_sql)}
    assert left_open, "the kill came after every highlight had ended: nothing to recover"

    sink = None if broker is None else Sink(broker.port, ["vgsum/+/event"]).wait_subscribed()
    if sink is not None:
        request.addfinalizer(sink.close)

    def heard() -> set[str]:
        return set() if sink is None else {m.json()["id"] for m in list(sink.messages)
                                           if m.json().get("reason") == "interrupted"}

    second = _serve(config, tmp_path / "data")
    try:
        def recovered() -> bool:
            ended = {r[0] for r in _rows(url, "SELECT id FROM highlights WHERE phase = 'end'")}
            return set(left_open) <= ended

        wait_until(recovered, 120, "the open highlights ended")
        if sink is not None:  # the same ends reach MQTT
            wait_until(lambda: heard() >= set(left_open), 30, "the interrupted ends on MQTT")
    finally:
        second.send_signal(signal.SIGTERM)
        _, err = second.communicate(timeout=30)
    assert second.returncode == 0, err[-2000:]
    assert "left open" in err
    payloads = [json.loads(p) for (p,) in _rows(url, "SELECT payload FROM messages WHERE kind = 'event' "
                                                     "ORDER BY wall_time, seq")]
    interrupted = {p["id"]: p for p in payloads if p.get("reason") == "interrupted"}
    assert set(interrupted) == set(left_open)
    for highlight_id, (_, stream_id, start, end) in left_open.items():
        sent = interrupted[highlight_id]
        assert (sent["stream_id"], sent["phase"], sent["start"], sent["end"]) == (stream_id, "end", start, end)
    restarted_at = min(p["wall_time"] for p in interrupted.values())
    new_starts = [p["wall_time"] for p in payloads if p["phase"] == "start" and p["wall_time"] >= restarted_at]
    assert max(p["wall_time"] for p in interrupted.values()) <= min(new_starts, default=float("inf"))  # first
    if sink is not None:
        assert heard() == set(left_open)
    assert _rows(url, open_sql) == []  # a clean stop ends the rest
    assert _rows(url, "SELECT DISTINCT daemon_id FROM stream_daemons") == [("edge-crash",)]
