"""The history of real daemons: catch-up over a real seq gap, control ops, `vgsum highlights`, a damaged file,
and `vgsum collect` gathering two daemons into one store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from polling import wait_until

from vgsum.runtime.cli.ctl import request
from vgsum.runtime.daemon.app import SummaryApp
from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.runtime.engines.config import EngineConfig
from vgsum.runtime.engines.loader import Engines
from vgsum.runtime.store.reader import StoreReader
from vgsum.stream.messages import DAEMON_STREAM_ID, HeartbeatMessage
from vgsum.stream.publish import Publisher

pytestmark = pytest.mark.slow
VGSUM = [sys.executable, "-m", "vgsum.runtime.cli"]


def _config(engine_folder: Path, video: Path, stream_id: str, db: Path, pub: int, control: int | None = None,
            realtime: bool = False) -> EdgeConfig:
    return EdgeConfig.model_validate({
        "streams": [{"stream_id": stream_id, "url": str(video), "realtime": realtime}],
        "publish": {"endpoints": [f"pub+bind:tcp://127.0.0.1:{pub}"], "frame_messages": False,
                    "heartbeat_interval_s": 0.5},
        "engines": {"dir": str(engine_folder), "threads": 1},
        "control": {"enabled": control is not None, "endpoint": f"tcp://127.0.0.1:{control or 1}"},
        "metrics": {"enabled": False},
        "web": {"port": 0},
        "store": {"path": str(db)},
    })


def _run(service: SummaryApp, during=None) -> None:
    service.start()
    try:
        if during is not None:
            during()
        assert service.wait(90), "the daemon did not finish its file"
    finally:
        service.stop()


def _wait_subscribed(port: int, proc: subprocess.Popen) -> None:
    """Beat the slow joiner: a stand-in publisher on the port until the subscriber prints a heartbeat."""
    seen = threading.Event()
    lines: list[str] = []

    def read() -> None:
        line = proc.stdout.readline()
        lines.append(line)
        seen.set()

    threading.Thread(target=read, daemon=True).start()
    with Publisher([f"pub+bind:tcp://127.0.0.1:{port}"]) as pub:
        deadline = time.monotonic() + 30
        while not seen.wait(0.1) and time.monotonic() < deadline:
            pub.publish(HeartbeatMessage, DAEMON_STREAM_ID, uptime_s=0.0, streams_live=0)
    assert lines and '"heartbeat"' in lines[0], lines


def test_a_subscriber_catches_up_on_what_it_missed_exactly_once(
    tmp_path: Path, engine_folder: Path, bikes_mp4: Path, free_tcp_port
) -> None:
    db = tmp_path / "history.db"
    pub, other_pub, control = free_tcp_port(), free_tcp_port(), free_tcp_port()
    engines = Engines.load(EngineConfig(dir=engine_folder, threads=1))
    sub = subprocess.Popen(
        [*VGSUM, "subscribe", f"tcp://127.0.0.1:{pub}", "--kind", "event", "--kind", "heartbeat", "--json",
         "--catch-up", "--control", f"tcp://127.0.0.1:{control}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # Ctrl-C ends it even when this run was started in the background (where SIGINT comes ignored)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        _wait_subscribed(pub, sub)
        heard: list[str] = []  # the subscriber's output from here on, read as it comes
        reader_thread = threading.Thread(target=lambda: heard.extend(iter(sub.stdout.readline, "")), daemon=True)
        reader_thread.start()
        # 1: the subscriber hears it; 2: published where nobody listens (the subscriber's blind spot);
        # 3: heard again, and the seq jump over run 2 is fetched from the store over the control socket
        _run(SummaryApp(_config(engine_folder, bikes_mp4, "cam", db, pub), engines))
        _run(SummaryApp(_config(engine_folder, bikes_mp4, "cam", db, other_pub), engines))
        third = SummaryApp(_config(engine_folder, bikes_mp4, "cam", db, pub, control, realtime=True), engines)

        def ask_history() -> None:
            def listed_two() -> dict | None:
                listed = request(f"tcp://127.0.0.1:{control}", b'{"op": "highlights", "stream_id": "cam"}')
                return listed if listed["ok"] and len(listed["result"]["highlights"]) >= 2 else None

            wait_until(listed_two, 30, "the first two runs' highlights over the control socket")
            status = request(f"tcp://127.0.0.1:{control}", b'{"op": "status"}')
            assert status["result"]["streams"]["cam"]["store_dropped"] == 0

        _run(third, during=ask_history)
        with StoreReader(db) as reader:
            kept = len(reader.messages("cam", "event", 0))
        wait_until(lambda: sum('"kind":"event"' in line for line in heard) >= kept, 20, "every event at the subscriber")
    finally:
        sub.send_signal(signal.SIGINT)
        rest, err = sub.communicate(timeout=20)
        reader_thread.join(5)
    out = "".join(heard) + rest
    events = [json.loads(line) for line in out.splitlines() if '"kind":"event"' in line]
    with StoreReader(db) as reader:
        stored = [json.loads(p) for p in reader.messages("cam", "event", 0)]
        highlights = reader.highlights(stream_id="cam")
    assert len(highlights) == 3 and all(h.closed for h in highlights)
    assert [m["seq"] for m in stored] == list(range(len(stored)))
    assert [m["seq"] for m in events] == list(range(len(stored))), err  # each once, in order
    assert events == stored  # replayed payloads are the published ones
    assert "GAP cam/event" in err and "REPLAYED cam/event" in err and "0 unrecovered" in err, err
    assert sub.returncode == 0, err

    listed = subprocess.run([*VGSUM, "highlights", "--db", str(db), "--stream", "cam", "--json", "--since", "-1h"],
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert sorted(json.loads(line)["id"] for line in listed.stdout.splitlines()) == sorted(h.id for h in highlights)


def test_collect_gathers_two_daemons_into_one_store(
    tmp_path: Path, engine_folder: Path, bikes_mp4: Path, free_tcp_port
) -> None:
    ports = {name: (free_tcp_port(), free_tcp_port()) for name in ("north", "south")}
    collected = tmp_path / "all.db"
    collector = subprocess.Popen(
        [*VGSUM, "collect", "--db", str(collected),
         *[arg for pub, ctl in ports.values() for arg in ("--from", f"tcp://127.0.0.1:{pub},tcp://127.0.0.1:{ctl}")]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    services = {
        name: SummaryApp(
            _config(engine_folder, bikes_mp4, name, tmp_path / f"{name}.db", pub, ctl, realtime=True),
            Engines.load(EngineConfig(dir=engine_folder, threads=1)),
        )
        for name, (pub, ctl) in ports.items()
    }
    try:
        assert collector.stdout.readline().startswith("collect: 2 daemons")
        threads = [threading.Thread(target=_run, args=(s,)) for s in services.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)

        def gathered() -> bool:
            if not collected.is_file():
                return False
            with StoreReader(collected) as reader:
                if {s.stream_id: s.state for s in reader.streams()} != {"north": "ended", "south": "ended"}:
                    return False
                for name in services:
                    with StoreReader(tmp_path / f"{name}.db") as own:
                        if len(reader.highlights(stream_id=name)) < len(own.highlights(stream_id=name)):
                            return False
            return True

        wait_until(gathered, 20, "both daemons' history in the collected store")
    finally:
        collector.send_signal(signal.SIGTERM)
        out, err = collector.communicate(timeout=20)
    assert collector.returncode == 0, err
    with StoreReader(collected) as reader:
        got = {s.stream_id: s.state for s in reader.streams()}
        assert got == {"north": "ended", "south": "ended"}, got
        for name in services:
            with StoreReader(tmp_path / f"{name}.db") as own:
                expected = [(h.id, h.phase, h.start, h.end) for h in own.highlights(stream_id=name)]
            assert expected, f"{name} found no highlight"
            assert [(h.id, h.phase, h.start, h.end) for h in reader.highlights(stream_id=name)] == expected
            assert reader.scores(name), name


def test_a_damaged_history_file_refuses_the_run_in_one_line(
    tmp_path: Path, engine_folder: Path, bikes_mp4: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "history.db").write_bytes(b"\x00garbage, not SQLite" * 100)
    env = {**os.environ, "VGSUM_DATA": str(data)}
    command = [*VGSUM, "run", str(bikes_mp4), "--engines", str(engine_folder), "--out", str(tmp_path / "r"),
               "--quiet", "--no-png"]
    refused = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0 and "history.db cannot be used" in refused.stderr
    assert "Traceback" not in refused.stderr
    kept_off = subprocess.run([*command, "--no-store"], capture_output=True, text=True, env=env, timeout=120)
    assert kept_off.returncode == 0, kept_off.stderr


@pytest.mark.parametrize("store", [True, False])
def test_history_requests_check_their_input_and_say_when_there_is_no_history(
    tmp_path: Path, engine_folder: Path, free_tcp_port, store: bool
) -> None:
    cfg = EdgeConfig.model_validate({
        "streams": [{"stream_id": "cam", "url": f"rtsp://127.0.0.1:{free_tcp_port()}/x", "open_timeout_s": 1}],
        "publish": {"endpoints": []},
        "engines": {"dir": str(engine_folder), "threads": 1},
        "control": {"endpoint": "tcp://127.0.0.1:0"},
        "metrics": {"enabled": False},
        "web": {"port": 0},
        "store": {"enabled": store, "path": str(tmp_path / "h.db")},
    })
    service = SummaryApp(cfg, Engines.load(cfg.engines))
    service.start()
    try:
        endpoint = service.control.bound_endpoint

        def ask(req: dict) -> dict:
            return request(endpoint, json.dumps(req).encode())

        bad = [
            ({"op": "replay", "stream_id": "cam", "kind": "score", "from_seq": 0}, "kind"),
            ({"op": "replay", "stream_id": "cam", "kind": "event", "from_seq": -1}, "from_seq"),
            ({"op": "replay", "stream_id": "cam", "kind": "event"}, "from_seq"),
            ({"op": "highlights", "limit": 100_000}, "limit"),
            ({"op": "highlights", "since": "yesterday"}, "since"),
            ({"op": "highlights", "before": ["x", 1]}, "before"),
            ({"op": "highlights", "drop": "table"}, "drop"),
        ]
        for req, field in bad:
            reply = ask(req)
            assert not reply["ok"] and field in reply["error"], (req, reply)
        listed = ask({"op": "highlights", "stream_id": "cam", "since": 0, "query": "%_'"})
        replay = ask({"op": "replay", "stream_id": "cam", "kind": "event", "from_seq": 0})
        if store:
            assert listed == {"ok": True, "result": {"highlights": [], "more": False, "before": None}}
            assert replay["ok"] and replay["result"]["messages"] == [] and replay["result"]["next_seq"] is None
        else:
            for reply in (listed, replay):
                assert not reply["ok"] and "keeps no history" in reply["error"]
    finally:
        service.stop()
