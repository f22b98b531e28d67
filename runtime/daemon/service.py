"""The life cycle every daemon service has, the one place that picks the service of a config, and its runner.

`vgsum serve` and `vgsum run` drive a service only through `Service`: start it,
wait for it, stop it; then ask how it ended. So a mode is a choice made once, in
`build_service`, and the commands never branch on it.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from typing import Protocol

from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.stream.state import StreamState

log = logging.getLogger(__name__)


class Service(Protocol):
    """A daemon's whole run: `start()`, then `wait()` until done or a stop was requested, then `stop()`."""

    def start(self) -> None:
        """Bind every socket (errors are UserErrors) and start the threads."""
        ...

    def wait(self, timeout_s: float | None = None) -> bool:
        """True once there is nothing left to do (every stream final, or `failure`); False on timeout or stop."""
        ...

    def request_stop(self) -> None:
        """Ask `wait` to return; safe from a signal handler (it only sets flags)."""
        ...

    def stop(self) -> None:
        """Stop every thread and close every socket within about 2 s."""
        ...

    @property
    def failure(self) -> str | None:
        """Why the service could not go on (one line; a bug, already logged with its traceback), or None."""
        ...

    def stream_states(self) -> dict[str, StreamState]:
        """Each stream's state, in config order."""
        ...


def build_service(cfg: EdgeConfig) -> Service:
    """The service of `cfg.mode`: the full summarizer, or only the sources publishing status and frames."""
    if cfg.mode == "ingest":
        from vgsum.runtime.daemon.ingest_service import IngestService
        from vgsum.runtime.daemon.publisher import build_publisher

        return IngestService(cfg, build_publisher(cfg.publish))
    from vgsum.runtime.daemon.app import SummaryApp
    from vgsum.runtime.engines.loader import Engines

    return SummaryApp(cfg, Engines.load(cfg.engines))


def catch_stop_signals(stop: threading.Event) -> None:
    """From now on SIGINT and SIGTERM only set `stop` (main thread only; elsewhere Python cannot catch them).

    A daemon calls this first thing, so that a signal while it loads its engines
    ends it cleanly (exit 0, no KeyboardInterrupt traceback) instead of killing it.
    """
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda _signum, _frame: stop.set())


def run_until_done(
    service: Service,
    *,
    on_tick: Callable[[], None] | None = None,
    tick_s: float = 0.2,
    stop: threading.Event | None = None,
) -> None:
    """Start `service` and wait until it is done or SIGINT/SIGTERM arrives; always stop it.

    `on_tick` runs every `tick_s` while waiting (a progress bar). Signals are caught
    only where Python allows it (the main thread); elsewhere the caller stops the service.
    `stop` is the event `catch_stop_signals` set up earlier: a signal that came
    before this call means the service is not started at all.
    """
    stop = stop if stop is not None else threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()
        service.request_stop()

    in_main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)} if in_main else {}
    try:
        if stop.is_set():
            return
        service.start()
        while not stop.is_set():
            if service.wait(timeout_s=tick_s):
                break
            if on_tick is not None:
                on_tick()
    finally:
        service.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
