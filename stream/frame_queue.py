"""A bounded frame queue with a named policy, so slow processing never grows memory or latency.

`drop_oldest` (live sources): a full queue discards its oldest frame and counts it;
the newest frame always gets in, so latency stays bounded.
`block` (files): the producer waits, so every sampled frame is processed.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Generic, TypeVar

from vgsum.stream.config import QueuePolicy

T = TypeVar("T")


class QueueClosed(Exception):
    """The queue was closed: producers stop putting, consumers stop after draining."""


class FrameQueue(Generic[T]):
    """Thread-safe bounded FIFO; `dropped` counts what `drop_oldest` discarded."""

    def __init__(self, maxsize: int, policy: QueuePolicy) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be >= 1")
        self.maxsize = maxsize
        self.policy = policy
        self.dropped = 0
        self._items: deque[tuple[float, T]] = deque()
        self._cond = threading.Condition()
        self._closed = False

    def put(self, item: T, timeout: float | None = None) -> bool:
        """Add `item`; under `block` wait for room (False on timeout). Raises QueueClosed when closed."""
        with self._cond:
            if self._closed:
                raise QueueClosed
            if len(self._items) >= self.maxsize:
                if self.policy == "drop_oldest":
                    self._items.popleft()
                    self.dropped += 1
                else:
                    ok = self._cond.wait_for(lambda: self._closed or len(self._items) < self.maxsize, timeout)
                    if self._closed:
                        raise QueueClosed
                    if not ok:
                        return False
            self._items.append((time.monotonic(), item))
            self._cond.notify_all()
            return True

    def get(self, timeout: float | None = None) -> T | None:
        """The oldest item, or None on timeout. Raises QueueClosed once closed and empty."""
        with self._cond:
            self._cond.wait_for(lambda: self._closed or self._items, timeout)
            if self._items:
                _, item = self._items.popleft()
                self._cond.notify_all()
                return item
            if self._closed:
                raise QueueClosed
            return None

    def close(self) -> None:
        """No more puts; waiting producers and consumers wake up."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        """True after `close`."""
        return self._closed

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)

    def oldest_age(self) -> float:
        """Seconds the oldest waiting item has been queued (0 when empty): the queueing lag."""
        with self._cond:
            return time.monotonic() - self._items[0][0] if self._items else 0.0
