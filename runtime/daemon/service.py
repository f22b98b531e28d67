"""The life cycle every daemon service has, the one place that picks the service of a config, and its runner.

`vgsum serve` and `vgsum run` drive a service only through `Service`: start it,
wait for it, stop it; then ask how it ended. So a mode is a choice made once, in
`build_service`, and the commands never branch on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from typing import Protocol

from vgsum.runtime.common.stop_signal import StopSignal
from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.stream.state import StreamState

log = logging.getLogger(__name__)


class Service(Protocol):
    """A daemon's whole run: `start()`, then `wait()` until done or a stop signal, then `stop()`."""

    def start(self) -> None:
        """Bind every socket (errors are UserErrors) and start the threads."""
        ...

    def wait(self, timeout_s: float | None = None) -> bool:
        """True once there is nothing left to do (every stream final, or `failure`); False on timeout."""
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


def catch_stop_signals() -> StopSignal:
    """From now on SIGINT and SIGTERM only set the flag returned (main thread only).

    A daemon calls this first thing, so that a signal while it loads its engines
    ends it cleanly (exit 0, no KeyboardInterrupt traceback) instead of killing it.
    """
    stop = StopSignal()
    stop.install()
    return stop


def run_until_done(
    service: Service,
    *,
    on_tick: Callable[[], None] | None = None,
    tick_s: float = 0.2,
    stop: StopSignal | None = None,
) -> None:
    """Start `service` and wait until it is done or SIGINT/SIGTERM arrives; always stop it.

    `on_tick` runs every `tick_s` while waiting (a progress bar); a signal is noticed
    within `tick_s` too: the handler only sets a flag, it never reaches into the
    service (see `StopSignal`). `stop` is the flag `catch_stop_signals` set up
    earlier: a signal that came before this call means the service is not started at
    all. Without it, signals are caught here, where Python allows it (the main thread).
    """
    with ExitStack() as handlers:
        if stop is None:
            stop = handlers.enter_context(StopSignal().caught())
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
