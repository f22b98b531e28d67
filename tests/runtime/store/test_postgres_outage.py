"""A PostgreSQL store that is not there: unreachable at start (one line, exit 2), gone mid-run (the writer queues to
its bound, counts drops, reconnects, resumes; recording never waits), and a password that never shows."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from polling import wait_until
from postgres_server import PASSWORD_USER, PostgresServer

from vgsum.runtime.bench.rtsp_camera import free_port
from vgsum.runtime.cli import main
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.store.postgres import PostgresTarget
from vgsum.runtime.store.reader import StoreReader
from vgsum.runtime.store.writer import StoreWriter
from vgsum.stream.messages import EventMessage

T0 = 1_800_000_000.0


def _event(stream: str, n: int) -> EventMessage:
    return EventMessage(stream_id=stream, seq=n, media_time=10.0, wall_time=T0 + n, id=f"{stream}-{n}", phase="end",
                        start=1.0, end=10.0, score=0.9, objects={"car": 1}, query=None)


def test_the_cli_says_an_unreachable_database_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://vgsum@127.0.0.1:{free_port()}/history"
    assert main(["highlights", "--db", url]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"vgsum highlights: history database {url}: cannot connect"), err


def test_the_daemon_refuses_to_start_without_its_database(tmp_path: Path, engine_folder: Path, bikes_mp4: Path,
                                                          history_data_dir: Path) -> None:
    url = f"postgresql://vgsum@127.0.0.1:{free_port()}/history"
    config = tmp_path / "edge.yaml"
    config.write_text(yaml.safe_dump({
        "streams": [{"stream_id": "file", "url": str(bikes_mp4)}],
        "publish": {"endpoints": []}, "engines": {"dir": str(engine_folder), "threads": 1},
        "control": {"enabled": False}, "metrics": {"enabled": False}, "web": {"enabled": False},
        "store": {"url": url},
    }))
    proc = subprocess.run([sys.executable, "-m", "vgsum.runtime.cli", "serve", "--config", str(config)],
                          capture_output=True, text=True, timeout=300)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("vgsum serve:")]
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(lines) == 1 and f"history database {url}: cannot connect" in lines[0], proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr


def test_a_server_gone_mid_run_costs_only_what_overflowed(tmp_path: Path, own_pg_server: PostgresServer,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    server = own_pg_server
    target = PostgresTarget(server.url(server.new_database()))
    writer = StoreWriter(target, thumbnails_dir=tmp_path, queue_size=20, batch=5, flush_s=0.05, reconnect_s=0.05,
                         reconnect_max_s=0.3).start()
    reader = StoreReader(target)  # the page's long-lived reader: it must come back by itself
    for n in range(10):
        writer.record(_event("cam", n))
    assert writer.flush(10.0)
    assert len(reader.highlights()) == 10

    server.stop("immediate")
    slowest = 0.0
    for n in range(10, 110):  # the scoring thread's side: never waits on the database
        started = time.perf_counter()
        writer.record(_event("cam", n))
        slowest = max(slowest, time.perf_counter() - started)
        time.sleep(0.002)
    wait_until(lambda: not writer.connected, 10, "the writer to notice the server is gone")
    assert slowest < 0.5, slowest  # a put, never a connect (5 s) or a commit; generous for a loaded machine
    dropped = writer.dropped["cam"]
    assert 100 - 25 <= dropped < 100, dropped  # all but the queue (20) and the batch in hand (5) at most
    assert writer.failure is None

    server.start()
    wait_until(lambda: writer.reconnects >= 1 and writer.connected, 30, "the writer to reconnect")
    for n in range(110, 120):
        writer.record(_event("cam", n))
    assert writer.flush(10.0)
    ids = {h.id for h in reader.highlights(limit=1000)}
    assert len(ids) == 120 - dropped, (len(ids), dropped)  # every record not counted as dropped was written, once
    assert {f"cam-{n}" for n in (*range(10), *range(110, 120))} <= ids
    writer.stop()
    reader.close()
    assert writer.failure is None and writer.dropped["cam"] == dropped
    assert any("the database went away" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_the_password_is_read_from_a_file_or_the_environment_and_never_shown(
    tmp_path: Path, pg_server: PostgresServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    database = pg_server.new_database(owner=PASSWORD_USER)
    url = pg_server.url(database, user=PASSWORD_USER)
    secret = pg_server.password
    (tmp_path / "pw").write_text(secret + "\n")
    by_file = PostgresTarget(url, password_file=tmp_path / "pw")
    writer = StoreWriter(by_file, thumbnails_dir=tmp_path, flush_s=0.05).start()
    writer.record(_event("cam", 1))
    assert writer.flush(10.0)
    writer.stop()
    monkeypatch.setenv("VGSUM_TEST_DB_PASSWORD", secret)
    with StoreReader(PostgresTarget(url, password_env="VGSUM_TEST_DB_PASSWORD")) as reader:
        assert [h.id for h in reader.highlights()] == ["cam-1"]
    assert main(["highlights", "--db", url, "--password-env", "VGSUM_TEST_DB_PASSWORD", "--json"]) == 0
    assert '"cam-1"' in capsys.readouterr().out

    wrong = "not-" + secret  # holds the real one: a message quoting it would be caught too
    (tmp_path / "wrong").write_text(wrong)
    with pytest.raises(UserError) as err:
        StoreReader(PostgresTarget(url, password_file=tmp_path / "wrong"))
    assert "password authentication failed" in str(err.value) and "\n" not in str(err.value)
    monkeypatch.setenv("VGSUM_TEST_DB_PASSWORD", wrong)
    assert main(["highlights", "--db", url, "--password-env", "VGSUM_TEST_DB_PASSWORD"]) == 2
    assert main(["highlights", "--db", url.replace("@", f":{secret}@")]) == 2  # in the URL: refused, masked
    shown = capsys.readouterr()
    assert "password authentication failed" in shown.err and "must not hold a password" in shown.err
    everything = [str(err.value), shown.out, shown.err, caplog.text, str(writer.failure), repr(by_file)]
    assert not any(secret in text for text in everything)


def test_recap_reads_a_postgresql_database_by_its_url(tmp_path: Path, pg_target: PostgresTarget,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    writer = StoreWriter(pg_target, thumbnails_dir=tmp_path).start()  # migrates; one highlight without a clip
    writer.record(_event("cam", 1))
    assert writer.flush(10.0)
    writer.stop()
    out = tmp_path / "recap.mp4"
    assert main(["recap", "--db", pg_target.url, "--since", "2020-01-01T00:00", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "nothing to recap" in printed and not out.exists()
    assert main(["recap", "--db", str(tmp_path / "none.db"), "--password-env", "X", "--out", str(out)]) == 2
    assert "--password-file and --password-env go with a postgresql:// --db" in capsys.readouterr().err


def test_collect_writes_what_daemons_publish_into_postgresql(tmp_path: Path, pg_target: PostgresTarget) -> None:
    from vgsum.runtime.cli.collect import Collector
    from vgsum.stream.publish import Publisher

    port = free_port()
    publisher = Publisher([f"pub+bind:tcp://127.0.0.1:{port}"])
    collector = Collector([f"tcp://127.0.0.1:{port}"], pg_target, thumbnails_dir=tmp_path)
    collector.start()
    sent = iter(range(1, 10_000))

    def collected() -> bool:
        n = next(sent)  # a subscriber misses what is sent before it is connected: send until one arrives
        publisher.publish(EventMessage, "door", media_time=10.0, id=f"door-{n}", phase="end", start=1.0, end=10.0,
                          score=0.9, objects={"person": 1}, query=None)
        with StoreReader(pg_target) as reader:
            return bool(reader.highlights(stream_id="door"))

    try:
        wait_until(collected, 20, "a published highlight in the PostgreSQL store", every=0.2)
    finally:
        collector.stop()
        publisher.close()
    assert collector.writer.failure is None
