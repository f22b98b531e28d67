"""Section 5 of `vgsum bench pipeline`: what the daemon's sinks (history store, MQTT bridge) add to scoring CPU.

The same file runs as fast as possible (section 1's `run_file`, the real `SummaryApp`) with its sinks off and
on. The sinks are the daemon's own: the `StoreWriter` thread on a SQLite file or a PostgreSQL database, and the
`MqttBridge` thread publishing to a real Mosquitto broker; both run in this process, so its CPU time (all
threads) includes them. The broker and a throw-away PostgreSQL cluster come from runtime/bench/services.py,
on free ports of 127.0.0.1, in a temporary folder.

Why interleaved: on a shared VM one run swings by a quarter, so the variants take turns (off, SQLite,
PostgreSQL, PostgreSQL + MQTT, then again) and each row shows every round, not only the median.

Why the daemon's `publish` defaults (frame messages on) for every variant: the sinks see what a daemon sends;
the bench's other sections turn frame messages off because they have no subscriber. The MQTT and store queues
are raised so that a run faster than real time drops nothing (the drops are counted in the table all the same):
a dropped message would be work not done, and the figure would look cheaper than a camera's.
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from vgsum.runtime.bench.pipeline import FileRun, run_file

VARIANTS = ("off", "sqlite", "postgres", "postgres+mqtt")
QUEUE = 100_000  # store and bridge queue bound: a run at many times real time must not drop (see the docstring)


@dataclass
class Services:
    """The broker and the database server of one section run, and where the runs keep their files."""

    work: Path
    db_url: Callable[[str], str]  # a fresh database's URL per run (its name)
    broker_port: int
    runs: int = 0


@dataclass
class VariantRuns:
    """Every round of one variant on one video."""

    variant: str
    runs: list[FileRun] = field(default_factory=list)
    dropped: int = 0  # messages a sink dropped (queue full, unwritten at stop), all rounds
    written: int = 0  # records the store wrote, last round (proof the sink did its work)
    sent: int = 0  # QoS-1 messages the broker acknowledged, last round
    sink_cpu_s: list[float] = field(default_factory=list)  # per round: the store writer's + the bridge's thread CPU

    @property
    def cpu_per_stream_s(self) -> float:
        """The median over rounds of CPU seconds per stream-second."""
        return statistics.median(r.cpu_per_stream_s for r in self.runs)


def sinks_for(variant: str, services: Services) -> dict:
    """The config sections of `variant`: no store and no MQTT, or the store on SQLite / PostgreSQL, plus MQTT."""
    services.runs += 1
    run = f"run{services.runs}"
    sinks: dict = {"publish": {"endpoints": []}, "store": {"enabled": False}}  # the daemon's publish defaults
    store = {"daemon_id": "bench", "queue_size": QUEUE}
    if variant == "sqlite":
        sinks["store"] = {**store, "path": services.work / run / "history.db"}
    elif variant.startswith("postgres"):
        sinks["store"] = {**store, "url": services.db_url(run)}
    if variant.endswith("+mqtt"):
        sinks["mqtt"] = {
            "enabled": True, "host": "127.0.0.1", "port": services.broker_port, "topic_prefix": f"bench/{run}",
            "client_id": f"vgsum-bench-{run}", "queue_size": QUEUE, "pending_max": QUEUE,
        }
    return sinks


def run_variant(video: Path, folder: Path, threads: int | None, row: VariantRuns, services: Services) -> None:
    """One run of `video` with `row`'s sinks, added to the row with its sinks' counters."""
    stopped: list = []
    row.runs.append(run_file(video, folder, threads, sinks=sinks_for(row.variant, services), service_out=stopped))
    store, mqtt = stopped[0].store, stopped[0].mqtt
    row.sink_cpu_s.append(sum(s.thread_cpu_s for s in (store, mqtt) if s is not None))
    if store is not None:
        row.dropped += sum(store.dropped.values())
        row.written = store.written
    if mqtt is not None:
        row.dropped += sum(mqtt.dropped.values())
        row.sent = mqtt.sent


def measure(video: Path, folder: Path, threads: int | None, rounds: int, services: Services) -> list[VariantRuns]:
    """`rounds` rounds of every variant in turn on `video`."""
    table = [VariantRuns(v) for v in VARIANTS]
    for _ in range(rounds):
        for row in table:
            run_variant(video, folder, threads, row, services)
    return table


@contextlib.contextmanager
def started_services() -> Iterator[Services]:
    """A Mosquitto broker and a PostgreSQL cluster in a temporary folder; the history's files there too."""
    from vgsum.runtime.bench.services import Mosquitto, Postgres, require_services

    broker_bin, pg_bin = require_services()
    with tempfile.TemporaryDirectory(prefix="vgsum-bench-sinks-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)  # as root the server runs as `postgres`, and must reach its folder inside
        broker = Mosquitto(broker_bin, work / "mosquitto").start()
        pg = Postgres(pg_bin, work / "postgres")
        saved = os.environ.get("VGSUM_DATA")
        os.environ["VGSUM_DATA"] = str(work / "data")  # the PostgreSQL store's thumbnails: not the user's data dir
        try:
            pg.init().start()
            yield Services(work, lambda name: pg.create_database(f"bench_{name}"), broker.port)
        finally:
            if saved is None:
                os.environ.pop("VGSUM_DATA", None)
            else:
                os.environ["VGSUM_DATA"] = saved
            pg.close()
            broker.stop()


def ratio(on: float, off: float) -> float:
    """on / off, NaN when off is not positive."""
    return on / off if off > 0 else math.nan


def sinks_section(videos: list[Path], folder: Path, threads: int | None, rounds: int, cores: int) -> None:
    """Section 5: print one table row per video and variant, every round's CPU and the ratio to sinks off."""
    load0 = os.getloadavg()[0]
    print(
        f"\n5. the daemon's sinks off and on (store, MQTT bridge to Mosquitto), variants interleaved, "
        f"{rounds} round(s), median by CPU"
    )
    print("| video | sinks | video s | stored / sent | dropped | CPU s per stream-second | each round "
          "| sink threads' share of the CPU | live streams on all cores | vs off |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with started_services() as services:
        for video in videos:
            table = measure(video, folder, threads, rounds, services)
            off = table[0].cpu_per_stream_s
            for row in table:
                cpu = row.cpu_per_stream_s
                each = " / ".join(f"{r.cpu_per_stream_s:.3f}" for r in row.runs)
                share = sum(row.sink_cpu_s) / max(sum(r.cpu_s for r in row.runs), 1e-9)
                print(
                    f"| {video.name} | {row.variant} | {row.runs[0].media_s:.1f} | {row.written} / {row.sent} | "
                    f"{row.dropped} | {cpu:.3f} | {each} | {100 * share:.2f} % | {cores / cpu:.1f} | "
                    f"{ratio(cpu, off):.3f} |"
                )
    print(f"   load average (1 min) {load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
