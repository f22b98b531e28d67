"""CPU time per stage of the live path, for `vgsum bench pipeline`: each stage's own thread CPU, summed per process.

Process CPU time says what the whole daemon costs, not where it goes. Each stage (decode, convert, the
foreground model, perception, ...) runs in one thread at a time, so the thread's CPU clock
(`time.thread_time()`) read before and after the stage is that stage's CPU, whatever the other threads and
the other jobs of a shared machine do meanwhile; wall time would count waiting and preemption as work.

Timers nest: a stage that runs inside another (a window scored, or a message published, inside a frame's
summary) is charged to the inner stage only, so the stages never count the same CPU twice and their sum is
at most the process CPU. A timer costs two `thread_time()` calls and a thread-local read (about a
microsecond); nothing is kept per frame, only one running total per stage, so the accounting is always on
and costs next to nothing when nobody reads it.

This module sits in stream/ (the lowest layer) because ingest's decode and convert are stages too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import TypeVar

T = TypeVar("T")

# The stages the live path charges, in pipeline order (a reader may meet others: any name is accepted).
STAGES = (
    "decode",  # demux and decode: the ingest thread's side and FFmpeg's decoder threads (stream/decoder_cpu.py)
    "convert",  # the sampled frame to RGB at the output size (swscale), in the ingest thread
    "foreground",  # `LiveStream.read_scene` (the foreground model, on a daemon's consumer threads) and `look`
    "perception",  # the perception engine, and the camera's object filter on its detections
    "refiner",  # `refiner.frame`: its inputs (label and query embeddings) and the engine
    "window",  # `refiner.window`: the summarizer's window scoring
    "summary",  # the rest of a frame's `take` and a stream's end: query match, zones, thumbnail, the summarizer
    "publish",  # the results' fan-out: messages built, sent and observed (the store's queue), the other outputs
    "store",  # the history store's writer thread
)


class StageCpu:
    """Thread CPU seconds per stage since the process started; `timer`/`add` from any thread, `snapshot` to read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: dict[str, float] = {}
        self._local = threading.local()  # .charged: CPU this thread's timers have charged (nesting)

    def timer(self, stage: str) -> StageTimer:
        """A context manager charging the CPU its block takes in this thread, less nested timers', to `stage`."""
        return StageTimer(self, stage)

    def timed(self, stage: str, items: Iterable[T]) -> Iterator[T]:
        """`items`, with the CPU each `next` takes in this thread charged to `stage` (a decoder's frames)."""
        source = iter(items)
        while True:
            with self.timer(stage):
                try:
                    item = next(source)
                except StopIteration:
                    return
            yield item  # not inside the timer: the consumer's work between items is not this stage's

    def add(self, stage: str, seconds: float) -> None:
        """Charge `seconds` of CPU to `stage` (a whole thread's CPU when it ends, or a thread read from outside)."""
        with self._lock:
            self._totals[stage] = self._totals.get(stage, 0.0) + seconds

    def snapshot(self) -> dict[str, float]:
        """Stage -> CPU seconds charged so far; the difference of two snapshots is what ran between them."""
        with self._lock:
            return dict(self._totals)

    def _charged(self) -> float:
        return getattr(self._local, "charged", 0.0)


class StageTimer:
    """One timed block of one stage (see `StageCpu.timer`); not reentrant, make one per block."""

    __slots__ = ("_cpu", "_stage", "_start", "_charged_before")

    def __init__(self, cpu: StageCpu, stage: str) -> None:
        self._cpu = cpu
        self._stage = stage
        self._start = 0.0
        self._charged_before = 0.0

    def __enter__(self) -> StageTimer:
        self._charged_before = self._cpu._charged()
        self._start = time.thread_time()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        elapsed = time.thread_time() - self._start
        nested = self._cpu._charged() - self._charged_before  # charged by timers inside this block
        self._cpu.add(self._stage, max(0.0, elapsed - nested))
        self._cpu._local.charged = self._charged_before + elapsed


def since(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Stage -> CPU seconds charged between two snapshots (stages that did not run are left out)."""
    return {stage: after[stage] - before.get(stage, 0.0) for stage in after if after[stage] > before.get(stage, 0.0)}


# The process's accounting, which every stage charges and `vgsum bench pipeline` reads.
STAGE_CPU = StageCpu()
