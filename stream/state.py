"""The per-stream state machine, the reconnect backoff and the stall watchdog.

Explicit states make faults visible to subscribers (`status` messages carry the
state) and keep the reconnect logic in one place instead of spread over flags.
"""

from __future__ import annotations

import enum
import random
import threading
import time
from collections.abc import Callable


class StreamState(str, enum.Enum):
    """Where a stream is in its life; `ended` and `failed` are final."""

    CONNECTING = "connecting"
    STREAMING = "streaming"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        """True for states a stream never leaves."""
        return self in (StreamState.ENDED, StreamState.FAILED)


# Allowed moves. A looped file goes streaming -> streaming (new epoch) without a state change.
TRANSITIONS: dict[StreamState, frozenset[StreamState]] = {
    StreamState.CONNECTING: frozenset(
        {StreamState.STREAMING, StreamState.RECONNECTING, StreamState.ENDED, StreamState.FAILED}
    ),
    StreamState.STREAMING: frozenset({StreamState.RECONNECTING, StreamState.ENDED, StreamState.FAILED}),
    StreamState.RECONNECTING: frozenset({StreamState.STREAMING, StreamState.ENDED, StreamState.FAILED}),
    StreamState.ENDED: frozenset(),
    StreamState.FAILED: frozenset(),
}


class IllegalTransition(RuntimeError):
    """A bug: the worker tried a move the table does not allow."""


Listener = Callable[[StreamState, StreamState, "str | None"], None]


class StateMachine:
    """Thread-safe current state with a listener called on every change (old, new, reason)."""

    def __init__(self, listener: Listener | None = None) -> None:
        self._state = StreamState.CONNECTING
        self._lock = threading.Lock()
        self._listener = listener

    @property
    def state(self) -> StreamState:
        """The current state."""
        return self._state

    def move(self, new: StreamState, reason: str | None = None) -> bool:
        """Go to `new`; False (and nothing happens) when already there. Raises on an illegal move."""
        with self._lock:
            old = self._state
            if new == old:
                return False
            if new not in TRANSITIONS[old]:
                raise IllegalTransition(f"{old.value} -> {new.value}")
            self._state = new
        if self._listener is not None:
            self._listener(old, new, reason)
        return True


class Backoff:
    """Capped exponential delays with jitter: initial, 2x, 4x ... up to `maximum`, each +- jitter.

    Jitter keeps many cameras behind one dead switch from reconnecting in lockstep.
    """

    def __init__(self, initial: float, maximum: float, jitter: float = 0.2, rng: random.Random | None = None) -> None:
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """The delay before the next attempt; each call doubles the base up to the cap."""
        base = min(self.maximum, self.initial * (2.0**self.attempt))
        self.attempt += 1
        spread = base * self.jitter
        return max(0.0, min(self.maximum, base + self._rng.uniform(-spread, spread)))

    def reset(self) -> None:
        """After a success: the next failure starts from `initial` again."""
        self.attempt = 0


class Watchdog:
    """Declares a stall when `feed` has not been called for `stall_after_s` seconds."""

    def __init__(self, stall_after_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stall_after_s = stall_after_s
        self._clock = clock
        self._last = clock()

    def feed(self) -> None:
        """A frame arrived."""
        self._last = self._clock()

    def silent_for(self) -> float:
        """Seconds since the last frame (or since the last `feed`/creation)."""
        return self._clock() - self._last

    def stalled(self) -> bool:
        """True when no frame came for longer than the bound."""
        return self.silent_for() > self.stall_after_s
