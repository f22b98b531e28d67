"""SIGINT and SIGTERM as a flag that takes no lock, for commands that run until stopped.

Python runs a signal handler in the main thread between two bytecodes, possibly
while that thread holds a lock: `threading.Event.wait` holds its event's lock for a
few bytecodes each time it wakes up. A handler that takes the same lock (`set()` on
the event the main thread is waiting on) waits on itself for ever; a daemon hung
that way about once in a few hundred stops. So the handler here only assigns an
attribute, and the main thread polls it.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
POLL_S = 0.05  # how late a waiting main thread notices a signal, at most


class StopSignal:
    """Whether SIGINT or SIGTERM arrived since `install()` (main thread only: elsewhere Python cannot catch them)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def is_set(self) -> bool:
        return self.signum is not None

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.signum = signum  # nothing else: see the module docstring

    def install(self) -> dict[int, object]:
        """Catch the stop signals from now on; the handlers they had (empty off the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}

    @contextmanager
    def caught(self) -> Iterator[StopSignal]:
        """Catch the stop signals inside the block; the handlers from before come back after it."""
        previous = self.install()
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)  # type: ignore[arg-type]

    def wait(self, timeout_s: float) -> bool:
        """Sleep until a stop signal (True) or `timeout_s` (False)."""
        deadline = time.monotonic() + timeout_s
        while not self.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(POLL_S, left))
        return True
