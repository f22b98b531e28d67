"""How long one run may take and what it measures: the GPU run, or the CPU dry run.

GPU machines are lent for minutes and a TensorRT build cannot be stopped half way, so
every stage asks the budget before it starts instead of being cut off while it runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

TIME_LIMIT = "time limit"
CPU_ONLY = "--cpu dry run: no GPU is used"


@dataclass
class Mode:
    """What one run measures and for how long: the GPU run, or the CPU dry run."""

    cpu: bool
    batches: tuple[int, ...]
    warmup_runs: int
    max_runs: int
    cell_s: float  # at most this long per (backend, batch), once 2 runs are in
    stream_warmup_s: float
    stream_measure_s: float
    streams_max: int

    @classmethod
    def of(cls, cpu: bool, streams_max: int) -> Mode:
        """The dry run keeps everything short so that CI spends well under a minute on it."""
        if cpu:
            return cls(True, (1, 8), 1, 3, 2.0, 1.5, 3.0, min(streams_max, 2))
        return cls(False, (1, 8, 32, 64), 3, 30, 3.0, 4.0, 12.0, streams_max)


class Budget:
    """The run's global time limit: stages ask before they start, never past it."""

    def __init__(self, limit_s: float) -> None:
        self.limit_s = limit_s
        self.started = time.monotonic()

    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.monotonic() - self.started

    def left(self) -> float:
        """Seconds left before the limit."""
        return self.limit_s - self.elapsed()

    def allows(self, need_s: float) -> bool:
        """Whether `need_s` more seconds still fit."""
        return self.left() >= need_s
