"""`vgsum bench fleet` on the smallest fleet (one daemon, one stream, a short run): the figures are all there,
nothing is lost across the broker and database restarts, nothing is left open after the kill -9."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vgsum.runtime.bench.services import mosquitto_binary, postgres_bin

pytestmark = pytest.mark.slow


def test_fleet_bench_reports_latency_and_loses_nothing(tmp_path: Path, engine_folder: Path) -> None:
    if mosquitto_binary() is None or postgres_bin() is None:
        pytest.skip("mosquitto or the PostgreSQL server binaries are not installed")
    out = tmp_path / "fleet.json"
    proc = subprocess.run(
        [sys.executable, "-m", "vgsum.runtime.cli", "bench", "fleet", "--daemons", "1", "--streams", "1",
         "--seconds", "15", "--probe-s", "1", "--outage-s", "2", "--engines", str(engine_folder), "--out", str(out)],
        capture_output=True, text=True, timeout=150,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    summary = json.loads(out.read_text())["summary"]
    assert (summary["daemons"], summary["streams_per_daemon"]) == (1, 1)
    assert summary["highlights"] >= 1 and summary["mqtt_messages_per_s"] > 0
    assert summary["broker_probe"]["messages_per_s"] > 0
    for key in ("mqtt_latency", "pg_latency"):
        assert set(summary[key]) == {"p50_s", "p95_s", "max_s", "n"}
    assert summary["mqtt_latency"]["n"] >= 1 and 0 <= summary["mqtt_latency"]["p50_s"] < 5
    assert summary["lost"] == 0  # every id made reached MQTT and PostgreSQL (bar the kill -9's last batch)
    assert summary["lost_mqtt"] + summary["lost_pg"] <= 2 * summary["lost_at_kill"]
    assert summary["restarts"] == ["broker", "database", "kill -9 daemon 0"]
    assert summary["end_missing_mqtt"] == 0 and summary["open_in_pg_at_end"] == 0
    assert summary["left_open_after_kill"] == 0 and summary["exit_codes"] == [0]
    assert "first highlight: measuring" in proc.stderr  # progress lines
    assert "lost across the restarts" in proc.stdout  # the table


def test_fleet_bench_names_the_packages_when_a_server_is_missing(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}  # the finders are stubbed below: nothing installed
    proc = subprocess.run([sys.executable, "-c", (
        "import sys, vgsum.runtime.bench.services as s; s.mosquitto_binary = lambda: None; "
        "s.postgres_bin = lambda: None; from vgsum.runtime.cli import main; sys.argv = ['vgsum', 'bench', 'fleet'];"
        " sys.exit(main())")], capture_output=True, text=True, timeout=60, env=env)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-2000:]
    assert "apt-get install mosquitto postgresql" in lines[0]
