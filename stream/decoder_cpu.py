"""The CPU time of FFmpeg's decoder threads, which decode outside the ingest thread's own CPU clock.

The source asks FFmpeg for frame threading (stream/source.py), so most of the decoding runs in threads
libavcodec starts when the codec opens and ends when it closes; the ingest thread's `thread_time()` sees only
its own side (demux, handing packets over, taking frames back). libavcodec names its threads `av:<codec>:...`
(`av:h264:df0`), and Linux gives every thread a CPU clock that any thread of the process may read, so one
file pass finds the decoder threads that appeared while it opened the codec and reads their clocks before the
container closes them. Elsewhere (no /proc) the decoder threads are not counted.

Threads are claimed process-wide, so two streams opening decoders at the same time never count one thread
twice (which stream claims it does not matter: the figure is per process). Their CPU is charged when the pass
ends (a file's end, a reconnect): enough for `vgsum bench pipeline`, whose runs end, but a camera that streams
for days shows its decoder threads' share only at its next reconnect.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

TASKS = Path("/proc/self/task")
FFMPEG_PREFIX = "av:"  # libavcodec's thread names: av:<codec>:df<n> (frame threads), av:<codec>:sw<n> (slices)

_claimed: set[int] = set()
_claimed_lock = threading.Lock()


def _decoder_threads() -> set[int]:
    """Native ids of the process's threads that libavcodec named (empty where /proc is missing)."""
    found: set[int] = set()
    try:
        tasks = os.listdir(TASKS)
    except OSError:
        return found
    for name in tasks:
        try:
            comm = (TASKS / name / "comm").read_text()
        except OSError:  # ended meanwhile
            continue
        if comm.startswith(FFMPEG_PREFIX):
            found.add(int(name))
    return found


def thread_cpu(tid: int) -> float | None:
    """CPU seconds of thread `tid` of this process since it started, or None when it has ended (Linux only).

    The clock id is the kernel's per-thread CPU clock, MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED).
    """
    try:
        return time.clock_gettime(((~tid) << 3) | 6)
    except OSError:
        return None


class DecoderThreads:
    """The decoder threads of one codec opening: create before opening, `claim` after the first frame,
    `release` before closing (returns their CPU seconds)."""

    def __init__(self) -> None:
        self._before = _decoder_threads()
        self._mine: set[int] = set()

    def claim(self) -> None:
        """Take the decoder threads that appeared since this object was made and no other pass holds."""
        new = _decoder_threads() - self._before
        with _claimed_lock:
            self._mine = new - _claimed
            _claimed.update(self._mine)

    def release(self) -> float:
        """Their CPU seconds so far (their whole lives: they started with this codec); they are let go."""
        total = sum(cpu for cpu in map(thread_cpu, self._mine) if cpu is not None)
        with _claimed_lock:
            _claimed.difference_update(self._mine)
        self._mine = set()
        return total
