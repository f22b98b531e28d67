"""Perception frames/s and latency per call at each batch size, on real frames of the bundled sample.

Host copies are included in every call: that is what the pipeline pays. Each cell is
bounded in time, so that a slow backend at batch 64 cannot eat the live streams' share
of a lent machine's minutes.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

from vgsum.runtime.bench.gpu.budget import TIME_LIMIT, Budget, Mode
from vgsum.runtime.bench.gpu.outcome import skipped
from vgsum.runtime.engines.backends import Backend

FRAME_COUNT = 64  # frames of the sample timed per batch (the largest batch)
PARITY_EVERY = 8  # every 8th of them is a parity frame: 8 frames spread over the clip


def sample_frames_for_bench() -> np.ndarray:
    """FRAME_COUNT real frames of the bundled sample at its own size, spread over the clip."""
    from vgsum.export.perception.build import sample_frames

    return sample_frames(tuple(float(t) for t in np.linspace(0.1, 9.6, FRAME_COUNT)))


def p95(ordered: list[float]) -> float:
    """The 95th percentile of sorted samples, as the other `vgsum bench` tables take it (nearest rank)."""
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def time_batches(backend: Backend, frames: np.ndarray, mode: Mode, budget: Budget) -> dict[str, Any]:
    """Per batch size: latency per call (p50, p95) and frames/s at the median, on real frames.

    A cell is skipped when its likely length (3 calls at the last cell's seconds per frame,
    or the cell's time) no longer fits: a slow backend at batch 64 must not eat the streams' time.
    """
    cells: dict[str, Any] = {}
    seconds_per_frame = 0.0
    for batch in mode.batches:
        if not budget.allows(max(mode.cell_s, 3 * seconds_per_frame * batch) + 10):
            cells[str(batch)] = skipped(TIME_LIMIT)
            continue
        feeds = {"frames": np.ascontiguousarray(frames[:batch])}
        warmup_started = time.perf_counter()
        for _ in range(mode.warmup_runs):  # at least one; fewer when each call is slow
            backend.run(feeds)
            if time.perf_counter() - warmup_started > mode.cell_s / 2:
                break
        samples: list[float] = []
        started = time.perf_counter()
        cpu_started = time.process_time()
        while len(samples) < mode.max_runs and (len(samples) < 2 or time.perf_counter() - started < mode.cell_s):
            tick = time.perf_counter()
            backend.run(feeds)
            samples.append(time.perf_counter() - tick)
        cpu_per_frame = (time.process_time() - cpu_started) / (len(samples) * batch)
        ordered = sorted(samples)
        p50 = statistics.median(ordered)
        seconds_per_frame = p50 / batch
        cells[str(batch)] = {
            "status": "ok",
            "runs": len(samples),
            "latency_p50_ms": round(p50 * 1000, 3),
            "latency_p95_ms": round(p95(ordered) * 1000, 3),
            "frames_per_s": round(batch / p50, 1),
            "cpu_ms_per_frame": round(cpu_per_frame * 1000, 3),
        }
    return {"frame_size": f"{frames.shape[2]}x{frames.shape[1]}", "batches": cells}
