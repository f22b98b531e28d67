"""`vgsum collect --from PUB[,CONTROL] [--from ...] [--db PATH]`: several daemons' history in one store.

When cameras are spread over several daemons, one collector subscribes to each
daemon's publisher and writes what they publish (stream states, highlights with
their life cycle, final scores, the replayable messages) through the same
`StoreWriter` into one database of the same schema, so `vgsum highlights` and the
page show every camera. With a daemon's control socket given (`,CONTROL`), a seq
gap, or what was published while the collector was away, is fetched from that
daemon's own store (catch-up), so the collected history misses nothing the
daemons kept. Stream ids must be unique across the daemons.

Clip and thumbnail paths stay those of the daemon's machine; pictures are not
copied (they are not in the messages).
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.stop_signal import StopSignal

if TYPE_CHECKING:
    from vgsum.runtime.store.postgres import PostgresTarget

log = logging.getLogger(__name__)

COLLECTED_KINDS = ["status", "event", "highlight", "score"]


def _split(source: str) -> tuple[str, str | None]:
    pub, sep, control = (part.strip() for part in source.partition(","))
    if not pub or (sep and not control):
        raise UserError(f"--from {source!r}: write it as tcp://HOST:PUBPORT or tcp://HOST:PUBPORT,tcp://HOST:CTLPORT")
    return pub, control or None


class Collector:
    """One subscriber thread per daemon, one writer for all."""

    def __init__(self, sources: list[str], db: Path | PostgresTarget, *, thumbnails_dir: Path | None = None) -> None:
        from vgsum.runtime.store.writer import StoreWriter
        from vgsum.stream.subscribe import Subscriber

        self.writer = StoreWriter(db, thumbnails_dir=thumbnails_dir).open()
        self.resume = {key: seq + 1 for key, seq in self.writer.max_seqs().items()}
        self.stop_event = threading.Event()
        self.subscribers = []
        self.controls: list[str | None] = []
        try:
            for source in sources:
                pub, control = _split(source)
                self.subscribers.append(Subscriber(pub, kinds=COLLECTED_KINDS))
                self.controls.append(control)
        except BaseException:
            self.close()
            raise
        self.received = 0
        self.replayed = 0
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the writer and one thread per daemon."""
        self.writer.start()
        for sub, control in zip(self.subscribers, self.controls, strict=True):
            thread = threading.Thread(target=self._follow, args=(sub, control), name="collect", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _follow(self, sub, control: str | None) -> None:
        from vgsum.runtime.cli.subscribe import CatchUp

        catch_up = None if control is None else CatchUp(control, from_seq=0, resume=dict(self.resume))
        while not self.stop_event.is_set():
            received = sub.recv(timeout_s=0.2)
            if received is None:
                continue
            self.received += 1
            if catch_up is not None:
                try:
                    missed = catch_up.missing_before(received)
                except UserError as err:  # the daemon's control socket is away: live messages still count
                    log.warning("collect: catch-up failed: %s", err)
                    missed = []
                self.replayed += len(missed)
                for message in missed:
                    self.writer.record(message)
            self.writer.record(received.message)

    def stop(self) -> None:
        """Stop following, write what is queued, close the sockets."""
        self.stop_event.set()
        for thread in self._threads:
            thread.join(1.0)
        self.writer.stop(timeout_s=2.0)
        self.close()

    def close(self) -> None:
        for sub in self.subscribers:
            sub.close()


def main(argv: list[str]) -> int:
    """Collect until SIGINT/SIGTERM (or --timeout)."""
    from vgsum.runtime.cli.dbarg import add_db_options
    from vgsum.runtime.store.config import StoreConfig, cli_store, is_database_url

    parser = argparse.ArgumentParser(prog="vgsum collect", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--from", dest="sources", action="append", required=True, metavar="PUB[,CONTROL]",
        help="a daemon's publisher, optionally with its control socket for catch-up (repeatable)",
    )
    add_db_options(parser)  # the store to write
    parser.add_argument("--timeout", type=float, default=0.0, help="stop after this many seconds (0: run until killed)")
    args = parser.parse_args(argv)
    if args.timeout < 0:
        raise UserError("--timeout must be >= 0")
    if is_database_url(args.db):
        store = cli_store(args.db, args.password_file, args.password_env)
    elif args.password_file is not None or args.password_env is not None:
        raise UserError("--password-file and --password-env go with a postgresql:// --db")
    else:
        store = StoreConfig(path=None if args.db is None else Path(args.db))
    collector = Collector(args.sources, store.target, thumbnails_dir=store.thumbnails_dir)
    with StopSignal().caught() as stop:
        collector.start()
        print(f"collect: {len(args.sources)} daemons -> {store.target}", flush=True)
        try:
            deadline = time.monotonic() + args.timeout if args.timeout > 0 else None
            while not stop.wait(0.2):
                if deadline is not None and time.monotonic() >= deadline:
                    break
        finally:
            collector.stop()
    lost = sum(collector.writer.dropped.values())
    print(
        f"collect: {collector.received} messages received, {collector.replayed} replayed from the daemons' stores"
        + (f", {lost} not written" if lost else ""),
        flush=True,
    )
    return 0
