"""`vgsum bench fleet`: several daemons, one MQTT broker, one PostgreSQL; is every highlight delivered, and how fast?

On this machine it starts a real Mosquitto broker, a real PostgreSQL server and
`--daemons` real `vgsum serve` processes, each with `--streams` looped files (paced as
cameras), its own publish port and data folder, all writing one database (`store.url`,
each its own `daemon_id`) and publishing to the broker (`mqtt.topic_prefix` fleet/dN).
The bench watches three ways at once: every daemon's ZeroMQ `event` messages (the truth:
every highlight id a daemon made), a real paho subscriber on `fleet/#` (persistent
session, QoS 1) and a poll of the `highlights` table. In the middle of the run it
restarts the broker, then the database, then `kill -9`s daemon 0 and starts it again.

Figures: messages per second through the broker (and, after the run, its ceiling under a
QoS-1 flood); latency from an `event` start's `wall_time` (when the daemon made it) to its
arrival at the MQTT subscriber and to its row in PostgreSQL (p50, p95, max; all highlights,
and "steady": those not started during an outage or the 5 s after); highlight ids made on
ZeroMQ that never reached MQTT or PostgreSQL (lost), `end`s that never reached MQTT, and
highlights of the killed daemon still open in PostgreSQL after it ran again a while.
Exit 1 when any of those is not 0 (a kill -9's own last batch is counted apart, not failed).

A benchmark, not a test: the figures go into BENCHMARKS.md ("Fleet").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vgsum.stream.errors import UserError

READY_TIMEOUT_S = 180.0
SETTLE_S = 8.0  # after the daemons stop, for the last messages and rows to land
AFTER_KILL_S = 15.0  # the restarted daemon runs at least this long before the open-highlight check
PG_POLL_S = 0.1


def progress(started: float, text: str) -> None:
    print(f"[{time.monotonic() - started:6.1f} s] {text}", file=sys.stderr, flush=True)


@dataclass
class Seen:
    """Every highlight id, and when (unix seconds) each way first saw it."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    start_wall: dict[str, float] = field(default_factory=dict)  # id -> its `event` start's wall_time
    stream: dict[str, str] = field(default_factory=dict)
    ended_zmq: set[str] = field(default_factory=set)
    interrupted: set[str] = field(default_factory=set)
    mqtt_first: dict[str, float] = field(default_factory=dict)  # id -> arrival of its first event on MQTT
    mqtt_start: dict[str, float] = field(default_factory=dict)  # id -> arrival of its start on MQTT
    mqtt_ended: set[str] = field(default_factory=set)  # ids whose `end` reached MQTT
    pg_first: dict[str, float] = field(default_factory=dict)  # id -> first poll that found its row
    mqtt_messages: int = 0


class ZmqWatcher(threading.Thread):
    """Every daemon's `event` messages over ZeroMQ: the ids the daemons made."""

    def __init__(self, endpoints: list[str], seen: Seen) -> None:
        super().__init__(daemon=True, name="fleet-zmq")
        self.endpoints, self.seen, self.stop = endpoints, seen, threading.Event()

    def run(self) -> None:
        from vgsum.stream.subscribe import Subscriber

        with Subscriber(self.endpoints, kinds=("event",), rcvhwm=100000) as sub:
            while not self.stop.is_set():
                received = sub.recv(0.2)
                if received is None:
                    continue
                m = received.message
                with self.seen.lock:
                    if m.phase == "start":
                        self.seen.start_wall.setdefault(m.id, m.wall_time)
                    self.seen.stream.setdefault(m.id, m.stream_id)
                    if m.phase == "end":
                        self.seen.ended_zmq.add(m.id)
                        if m.reason == "interrupted":
                            self.seen.interrupted.add(m.id)


class MqttWatcher:
    """A real paho subscriber on `fleet/#` at QoS 1, persistent session: a broker restart loses it nothing."""

    def __init__(self, port: int, seen: Seen) -> None:
        import paho.mqtt.client as mqtt

        self.seen = seen
        self.subscribed = threading.Event()
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                                  client_id="vgsum-bench-fleet", protocol=mqtt.MQTTv311, clean_session=False)
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.on_connect = lambda c, u, f, reason, p: None if reason.is_failure else c.subscribe("fleet/#", 1)
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect_async("127.0.0.1", port, keepalive=5)
        self.client.loop_start()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        now = time.time()
        with self.seen.lock:
            self.seen.mqtt_messages += 1
        if not msg.topic.endswith("/event"):
            return
        try:
            payload = json.loads(msg.payload)
        except ValueError:
            return
        with self.seen.lock:
            self.seen.mqtt_first.setdefault(payload["id"], now)
            if payload.get("phase") == "start":
                self.seen.mqtt_start.setdefault(payload["id"], now)
            elif payload.get("phase") == "end":
                self.seen.mqtt_ended.add(payload["id"])
            if payload.get("reason") == "interrupted":  # its ZeroMQ copy may go out before the bench reconnects
                self.seen.interrupted.add(payload["id"])

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class PgWatcher(threading.Thread):
    """Polls the `highlights` table: when each id's row first appears (reconnecting across a restart)."""

    def __init__(self, url: str, seen: Seen) -> None:
        super().__init__(daemon=True, name="fleet-pg")
        self.url, self.seen, self.stop = url, seen, threading.Event()

    def run(self) -> None:
        import psycopg

        conn = None
        while not self.stop.is_set():
            try:
                if conn is None:
                    conn = psycopg.connect(self.url, autocommit=True, connect_timeout=2)
                ids = [r[0] for r in conn.execute("SELECT id FROM highlights").fetchall()]
            except psycopg.Error:  # down (the restart), or the schema not made yet
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.3)
                continue
            now = time.time()
            with self.seen.lock:
                for highlight_id in ids:
                    self.seen.pg_first.setdefault(highlight_id, now)
            time.sleep(PG_POLL_S)
        if conn is not None:
            conn.close()


@dataclass
class Daemon:
    """One `vgsum serve` with its own config, data folder, publish port and log file."""

    index: int
    folder: Path
    streams: list[str]
    port: int
    proc: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.folder / f"daemon{self.starts}.log", "w")  # noqa: SIM115 - a file, never a pipe
        self.proc = subprocess.Popen([sys.executable, "-m", "vgsum.runtime.cli", "serve", "--config",
                                      str(self.folder / "edge.yaml")], stdout=log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "VGSUM_DATA": str(self.folder / "data")})
        log.close()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)


def daemon_config(index: int, streams: dict[str, Path], port: int, engines: str | None, db_url: str,
                  broker_port: int, fps: float | None) -> dict:
    """One daemon's config: looped camera-paced files, ZeroMQ on its own port, the shared database, the broker."""
    paced: dict[str, Any] = {"realtime": True, "loop": True}
    if fps is not None:
        paced["sample_fps"] = fps
    return {
        "streams": [{"stream_id": sid, "url": str(video), **paced} for sid, video in streams.items()],
        "publish": {"endpoints": [f"pub+bind:tcp://127.0.0.1:{port}"], "sndhwm": 100000},
        "engines": {"dir": engines, "threads": 1},
        "control": {"enabled": False}, "metrics": {"enabled": False}, "web": {"enabled": False},
        "store": {"url": db_url, "daemon_id": f"fleet-d{index}", "flush_s": 0.2},
        "mqtt": {"enabled": True, "host": "127.0.0.1", "port": broker_port, "topic_prefix": f"fleet/d{index}",
                 "client_id": f"vgsum-fleet-d{index}", "reconnect_min_s": 0.2, "reconnect_max_s": 1.0,
                 "keepalive_s": 5, "pending_max": 10000},
        "log_level": "INFO",
    }


def broker_capacity(port: int, seconds: float, size: int = 1024) -> dict[str, float]:
    """Flood the broker with QoS-1 `size`-byte messages from one paho client for `seconds`, to one subscriber.

    Why: the daemons send only what their highlights make (about a message a second per stream), far below what
    a broker carries; this is the ceiling the README's scaling leans on, measured on the same machine.
    """
    import paho.mqtt.client as mqtt

    got = [0]
    done = threading.Event()
    sub = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id="vgsum-bench-probe-sub")
    sub.on_connect = lambda c, u, f, r, p: c.subscribe("probe/#", 1)
    sub.on_subscribe = lambda *a: done.set()
    sub.on_message = lambda c, u, m: got.__setitem__(0, got[0] + 1)
    sub.connect("127.0.0.1", port, keepalive=10)
    sub.loop_start()
    pub = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id="vgsum-bench-probe-pub")
    pub.max_inflight_messages_set(100)
    pub.max_queued_messages_set(1000)
    pub.connect("127.0.0.1", port, keepalive=10)
    pub.loop_start()
    done.wait(5)
    payload = b"x" * size
    sent = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pub.publish("probe/load", payload, qos=1).rc == mqtt.MQTT_ERR_SUCCESS:
            sent += 1
        else:
            time.sleep(0.001)  # the client's queue is full: let it drain
    time.sleep(1.0)
    pub.disconnect()
    pub.loop_stop()
    sub.disconnect()
    sub.loop_stop()
    return {"sent": sent, "received": got[0], "seconds": seconds, "bytes": size,
            "messages_per_s": round(got[0] / seconds, 1)}


def hit_a_highlight(seen: Seen, late_s: float, wait_s: float = 20.0) -> bool:
    """Whether to take a part down now: a highlight started in the last second (so its updates and end, and
    maybe the next starts, fall in the outage), or the plan is `wait_s` late already."""
    with seen.lock:
        newest = max(seen.start_wall.values(), default=0.0)
    return time.time() - newest < 1.0 or late_s >= wait_s


def stay_down(seen: Seen, down: float, outage_s: float, longest_s: float = 30.0) -> None:
    """Keep a part down `outage_s`, and longer (up to `longest_s`) until a highlight has started meanwhile:
    an outage no highlight started in would prove nothing about losing none."""
    time.sleep(outage_s)
    deadline = time.monotonic() + longest_s - outage_s
    while time.monotonic() < deadline:
        with seen.lock:
            if any(t >= down for t in seen.start_wall.values()):
                return
        time.sleep(0.1)


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50 and p95 in seconds (None without values), with how many."""
    if not values:
        return {"p50_s": None, "p95_s": None, "max_s": None, "n": 0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_s": round(statistics.median(ordered), 3), "p95_s": round(p95, 3), "max_s": round(ordered[-1], 3),
            "n": len(ordered)}


def load_average() -> float:
    """The 1-minute load average, as the other benches report it."""
    return os.getloadavg()[0]


def open_in_db(url: str, streams: list[str]) -> list[str]:
    """Ids of these streams' highlights whose end the database does not hold."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute("SELECT id FROM highlights WHERE phase != 'end' AND stream_id = ANY(%s)",
                            (streams,)).fetchall()
    return [r[0] for r in rows]


def table(summary: dict) -> str:
    """The figures as a two-column text table."""
    def fmt(v: Any) -> str:
        return "-" if v is None else f"{v:g}" if isinstance(v, float) else str(v)

    rows = [
        ("daemons x streams", f"{summary['daemons']} x {summary['streams_per_daemon']}"),
        ("measured seconds", fmt(summary["seconds"])),
        ("broker messages/s (all topics)", fmt(summary["mqtt_messages_per_s"])),
        ("broker ceiling msg/s (QoS 1, 1 KiB)",
         fmt(summary["broker_probe"]["messages_per_s"]) if summary["broker_probe"] else "-"),
        ("highlights made (ZeroMQ)", fmt(summary["highlights"])),
        ("start -> MQTT p50 / p95 / max s", f"{fmt(summary['mqtt_latency']['p50_s'])} / "
                                            f"{fmt(summary['mqtt_latency']['p95_s'])} / "
                                            f"{fmt(summary['mqtt_latency']['max_s'])}"),
        ("  steady p50 / p95 s", f"{fmt(summary['mqtt_latency_steady']['p50_s'])} / "
                                 f"{fmt(summary['mqtt_latency_steady']['p95_s'])}"),
        ("start -> PostgreSQL p50 / p95 / max s", f"{fmt(summary['pg_latency']['p50_s'])} / "
                                                  f"{fmt(summary['pg_latency']['p95_s'])} / "
                                                  f"{fmt(summary['pg_latency']['max_s'])}"),
        ("  steady p50 / p95 s", f"{fmt(summary['pg_latency_steady']['p50_s'])} / "
                                 f"{fmt(summary['pg_latency_steady']['p95_s'])}"),
        ("lost across the restarts", fmt(summary["lost"])),
        ("lost to MQTT / PostgreSQL (all)", f"{summary['lost_mqtt']} / {summary['lost_pg']}"),
        ("  of which made just before kill -9", fmt(summary["lost_at_kill"])),
        ("highlights started while a part was down", fmt(summary["started_while_down"])),
        ("ends missing on MQTT", fmt(summary["end_missing_mqtt"])),
        ("open in PostgreSQL after the clean stop", fmt(summary["open_in_pg_at_end"])),
        ("open after kill -9 + restart", fmt(summary["left_open_after_kill"])),
        ("ended as interrupted", fmt(summary["interrupted"])),
        ("load average max (1 min)", fmt(summary["load_max"])),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main(argv: list[str]) -> int:
    """Parse the options, run the fleet, print the table and write the JSON; 0 when nothing was lost or left open."""
    parser = argparse.ArgumentParser(prog="vgsum bench fleet", description=__doc__.splitlines()[0])
    parser.add_argument("--daemons", type=int, default=2, help="how many `vgsum serve` processes")
    parser.add_argument("--streams", type=int, default=2, help="looped streams per daemon")
    parser.add_argument("--seconds", type=float, default=150.0,
                        help="measured run after the engines load; the restarts come at 1/5, 2/5 and 3/5 of it")
    parser.add_argument("--video", type=Path, help="the file the streams loop (default: the bundled sample)")
    parser.add_argument("--engines", help="engine folder (default: the daemon's default)")
    parser.add_argument("--sample-fps", type=float, help="each stream's sampling rate (default: the daemon's)")
    parser.add_argument("--outage-s", type=float, default=5.0, help="how long the broker and the database stay down")
    parser.add_argument("--no-restarts", action="store_true", help="no broker, database or daemon restart")
    parser.add_argument("--probe-s", type=float, default=5.0,
                        help="seconds of a QoS-1 flood through the broker after the run, for its ceiling (0: none)")
    parser.add_argument("--out", type=Path, help="write the result here as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, configs) afterwards")
    args = parser.parse_args(argv)
    if args.daemons < 1 or args.streams < 1 or args.seconds < 10:
        raise UserError("--daemons and --streams must be at least 1, --seconds at least 10")
    from vgsum.runtime.bench.services import Mosquitto, Postgres, require_services

    broker_bin, pg_bin = require_services()
    import yaml

    from vgsum.runtime.bench.ingest import cpu_model
    from vgsum.runtime.bench.rtsp_camera import free_port
    from vgsum.runtime.bench.soak import staggered, write_json
    from vgsum.runtime.common.sample import bundled_sample

    video = args.video or bundled_sample()
    if not Path(video).is_file():
        raise UserError(f"video {video} does not exist")
    work = Path(tempfile.mkdtemp(prefix="vgsum-fleet-"))
    os.chmod(work, 0o755)  # PostgreSQL runs as its own user when we are root
    clock = time.monotonic()
    broker = Mosquitto(broker_bin, work / "mosquitto")
    pg = Postgres(pg_bin, work / "postgres")
    daemons: list[Daemon] = []
    seen = Seen()
    watchers: list[Any] = []
    try:
        progress(clock, "starting mosquitto and PostgreSQL")
        broker.start()
        pg.init().start()
        db_url = pg.create_database("fleet")
        # each stream starts at its own point of the clip: highlights spread over time, as real cameras'
        # (in step, every stream's highlight would fall between the outages and none would cross one)
        count = args.daemons * args.streams
        videos = staggered(Path(video), count, work) if count > 1 else [Path(video)]
        for i in range(args.daemons):
            folder = work / f"d{i}"
            folder.mkdir()
            streams = {f"d{i}s{j}": videos[i * args.streams + j] for j in range(args.streams)}
            daemon = Daemon(i, folder, list(streams), free_port())
            (folder / "edge.yaml").write_text(yaml.safe_dump(daemon_config(
                i, streams, daemon.port, args.engines, db_url, broker.port, args.sample_fps)))
            daemons.append(daemon)
        mqtt = MqttWatcher(broker.port, seen)
        watchers.append(mqtt)
        if not mqtt.subscribed.wait(10):
            raise UserError("the bench's MQTT subscriber did not subscribe within 10 s")
        zmq_watch = ZmqWatcher([f"tcp://127.0.0.1:{d.port}" for d in daemons], seen)
        pg_watch = PgWatcher(db_url, seen)
        for thread in (zmq_watch, pg_watch):
            thread.start()
            watchers.append(thread)
        progress(clock, f"starting {args.daemons} daemon(s) x {args.streams} stream(s); logs in {work}")
        for daemon in daemons:
            daemon.start()
        ready_by = time.monotonic() + READY_TIMEOUT_S
        while not seen.start_wall and time.monotonic() < ready_by:
            dead = [d for d in daemons if d.proc is not None and d.proc.poll() is not None]
            if dead:
                raise UserError(f"daemon {dead[0].index} exited with {dead[0].proc.returncode}; "  # type: ignore
                                f"see {dead[0].folder}/daemon1.log")
            time.sleep(0.2)
        if not seen.start_wall:
            raise UserError(f"no highlight within {READY_TIMEOUT_S:g} s; see the logs in {work}")
        t0, t0_wall = time.monotonic(), time.time()
        with seen.lock:
            base_messages = seen.mqtt_messages
        progress(clock, "first highlight: measuring")
        plan = [] if args.no_restarts else [(args.seconds * k / 5, what) for k, what in
                                             ((1, "broker"), (2, "database"), (3, "kill"))]
        disruptions: list[tuple[float, float]] = []  # wall-clock spans of an outage and the 5 s after it
        downs: list[tuple[float, float]] = []  # the outages alone: a part stopped until it was back
        killed = daemons[0]
        open_at_kill: set[str] = set()
        kill_wall: float | None = None
        load_max = load_average()
        next_progress = t0 + 10
        restarted_at: float | None = None  # the killed daemon must run a while before its open highlights count
        while (now := time.monotonic()) - t0 < args.seconds or plan or (
                restarted_at is not None and now - restarted_at < AFTER_KILL_S):
            if plan and now - t0 >= plan[0][0] and hit_a_highlight(seen, now - t0 - plan[0][0]):
                _, what = plan.pop(0)
                down = time.time()
                if what == "broker":
                    progress(clock, f"restarting the broker (down {args.outage_s:g} s+, until a highlight starts)")
                    broker.stop()
                    stay_down(seen, down, args.outage_s)
                    broker.start()
                elif what == "database":
                    progress(clock, f"restarting PostgreSQL (down {args.outage_s:g} s+, until a highlight starts)")
                    pg.stop("fast")
                    stay_down(seen, down, args.outage_s)
                    pg.start()
                else:
                    with seen.lock:
                        open_at_kill = {h for h, s in seen.stream.items()
                                        if s in killed.streams and h not in seen.ended_zmq}
                    kill_wall = time.time()
                    progress(clock, f"kill -9 of daemon 0 ({len(open_at_kill)} highlight(s) open); restarting it")
                    killed.kill()
                    time.sleep(1.0)
                    killed.start()
                    restarted_at = time.monotonic()
                downs.append((down, time.time()))
                disruptions.append((down, time.time() + 5.0))
            for daemon in daemons:
                if daemon.proc is not None and daemon.proc.poll() is not None:
                    raise UserError(f"daemon {daemon.index} exited with {daemon.proc.returncode}; "
                                    f"see its logs in {daemon.folder}")
            load_max = max(load_max, load_average())
            if now >= next_progress:
                next_progress += 10
                with seen.lock:
                    progress(clock, f"{len(seen.start_wall)} highlights, {len(seen.mqtt_first)} on MQTT, "
                             f"{len(seen.pg_first)} in PostgreSQL, {seen.mqtt_messages - base_messages} "
                             f"MQTT messages, load {load_average():.2f}")
            time.sleep(0.2)
        seconds = time.monotonic() - t0
        with seen.lock:
            mqtt_messages = seen.mqtt_messages - base_messages
        left_open: list[str] = []
        if kill_wall is not None:
            left_open = [h for h in open_in_db(db_url, killed.streams) if h in open_at_kill]
        progress(clock, "stopping the daemons (SIGTERM) and letting the last messages land")
        codes = [d.terminate() for d in daemons]
        time.sleep(SETTLE_S)
        open_at_end = open_in_db(db_url, [s for d in daemons for s in d.streams])  # a clean stop ends them all
        for thread in (zmq_watch, pg_watch):
            thread.stop.set()
            thread.join(5)
        mqtt.close()
        probe = None
        if args.probe_s > 0:
            progress(clock, f"flooding the broker for {args.probe_s:g} s (QoS 1, 1 KiB) for its ceiling")
            probe = broker_capacity(broker.port, args.probe_s)
        with seen.lock:
            made = {h for h in seen.stream if h in seen.start_wall or h in seen.ended_zmq}
            lost_mqtt = sorted(made - set(seen.mqtt_first))
            lost_pg = sorted(made - set(seen.pg_first))
            end_missing_mqtt = sorted(seen.ended_zmq - seen.mqtt_ended)  # an end seen on ZeroMQ, never on MQTT
            lost_at_kill = sorted(
                h for h in set(lost_mqtt) | set(lost_pg)
                if kill_wall is not None and seen.stream[h] in killed.streams
                and kill_wall - 2.0 <= seen.start_wall.get(h, 0.0) <= kill_wall)

            def steady(h: str) -> bool:
                return not any(a <= seen.start_wall[h] <= b for a, b in disruptions)

            measured = [h for h in seen.start_wall if seen.start_wall[h] >= t0_wall]
            mqtt_lat = {h: seen.mqtt_start[h] - seen.start_wall[h] for h in measured if h in seen.mqtt_start}
            pg_lat = {h: seen.pg_first[h] - seen.start_wall[h] for h in measured if h in seen.pg_first}
            summary = {
                "daemons": args.daemons, "streams_per_daemon": args.streams, "seconds": round(seconds, 1),
                "mqtt_messages": mqtt_messages, "mqtt_messages_per_s": round(mqtt_messages / seconds, 2),
                "highlights": len(made),
                "mqtt_latency": percentiles(list(mqtt_lat.values())),
                "mqtt_latency_steady": percentiles([v for h, v in mqtt_lat.items() if steady(h)]),
                "pg_latency": percentiles(list(pg_lat.values())),
                "pg_latency_steady": percentiles([v for h, v in pg_lat.items() if steady(h)]),
                "pg_poll_s": PG_POLL_S,
                "lost_mqtt": len(lost_mqtt), "lost_pg": len(lost_pg), "lost_ids": sorted(set(lost_mqtt + lost_pg)),
                "started_near_outages": sum(not steady(h) for h in measured),  # in an outage or the 5 s after
                "started_while_down": sum(any(a <= seen.start_wall[h] <= b for a, b in downs) for h in measured),
                "end_missing_mqtt": len(end_missing_mqtt), "open_in_pg_at_end": len(open_at_end),
                "lost_at_kill": len(lost_at_kill),  # made in the 2 s before the kill -9, its last batch
                "lost": len(set(lost_mqtt + lost_pg) - set(lost_at_kill)),  # across the restarts: must be 0
                "restarts": [] if args.no_restarts else ["broker", "database", "kill -9 daemon 0"],
                "open_at_kill": len(open_at_kill), "left_open_after_kill": len(left_open),
                "interrupted": len(seen.interrupted),
                "broker_probe": probe,
                "exit_codes": codes, "load_max": round(load_max, 2), "load_end": load_average(),
            }
        result = {
            "command": "vgsum bench fleet " + " ".join(argv),
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t0_wall)),
            "host": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version()},
            "summary": summary,
        }
        write_json(args.out, result)
        print(table(summary))
        # a kill -9 may lose what the daemon had not yet handed on (its last store batch): counted, not failed
        ok = (summary["lost"] == 0 and not left_open and not end_missing_mqtt and not open_at_end
              and all(c == 0 for c in codes))
        return 0 if ok else 1
    finally:
        for daemon in daemons:
            if daemon.proc is not None and daemon.proc.poll() is None:
                daemon.proc.kill()
                daemon.proc.wait(10)
        for watcher in watchers:
            if isinstance(watcher, MqttWatcher):
                watcher.close()
            else:
                watcher.stop.set()
        broker.stop()
        if args.keep:
            progress(clock, f"kept {work}")
            if (pg.data / "postmaster.pid").exists():
                pg.stop("fast")
        else:
            pg.close()
            import shutil

            shutil.rmtree(work, ignore_errors=True)
