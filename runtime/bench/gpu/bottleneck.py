"""What stops more live streams: decode on the CPU, perception, the refiner, or Python.

Naming the limit is the point of the streams stage: it decides what to work on next.
Each stage's time per frame also says how many streams it alone would allow, so a run
that never fell behind still projects where it would.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from vgsum.runtime.bench.gpu.environment import cores

NEXT_STEP = {
    "decode on CPU": "decode on the GPU (NVDEC through FFmpeg's hwaccel in PyAV), or take the cameras' substreams",
    "perception": "larger cross-stream batches (engines.max_batch) and TensorRT FP16/INT8 plans",
    "refiner": "batch refiner.window across streams instead of one call per stream and window",
    "Python": "move the per-frame Python work (summarizer, foreground model) and ingest into worker processes",
}


def decode_cost(sample: Path) -> float:
    """CPU seconds to decode one second of the sample, as the ingest path decodes it."""
    import av

    from vgsum.runtime.bench.ingest import decode_only

    with av.open(str(sample)) as container:
        rate = float(container.streams.video[0].average_rate or 25)
    cpu0 = time.process_time()
    frames, _ = decode_only(sample)
    return (time.process_time() - cpu0) / max(frames / rate, 1e-9)


def name_the_limit(
    steps: list[dict[str, Any]], decode_s: float, engines_on_cpu: bool, sample_fps: float
) -> dict[str, Any]:
    """What stops more streams: measured at the first step that fell behind, else projected from the last one."""
    machine_cores = cores()
    fallen = next((s for s in steps if not s["keeps_up"]), None)
    step = fallen or steps[-1]
    stage_ms = {k: step["ms_per_frame"][k] for k in ("perception", "refiner", "Python")}
    capacity = {k: round(1000.0 / (v * sample_fps), 1) for k, v in stage_ms.items() if v > 0}
    # decode runs at the source rate, whatever the sampling rate
    capacity["decode on CPU"] = round(machine_cores / decode_s, 1) if decode_s > 0 else None
    busy, cpu = step["pipeline_thread_busy"], step["cpu_busy"]
    decode_share = step["streams"] * decode_s / max(cpu * machine_cores, 1e-9)
    if busy >= 0.8:
        limit = max(stage_ms, key=lambda k: stage_ms[k])
        why = f"the pipeline thread was busy {busy:.0%} of the time; per frame " + ", ".join(
            f"{k} {v:.1f} ms" for k, v in stage_ms.items()
        )
    elif cpu >= 0.8:
        on_decode = not engines_on_cpu or decode_share >= 0.5
        limit = "decode on CPU" if on_decode else max(("perception", "refiner"), key=lambda k: stage_ms[k])
        why = f"the {machine_cores} cores were {cpu:.0%} busy, decoding about {min(decode_share, 1.0):.0%} of that"
    else:
        limit = "Python"
        why = (
            f"neither the pipeline thread ({busy:.0%}) nor the cores ({cpu:.0%}) were saturated: the GIL, shared by "
            f"{step['streams']} ingest threads and the pipeline thread"
        )
    known = {k: v for k, v in capacity.items() if v}
    projected = min(known, key=lambda k: known[k]) if known else None
    if fallen is None:
        return {
            "limit": None,
            "why": f"no frame dropped up to {step['streams']} streams (the cap of this run)",
            "projected_limit": projected,
            "projected_streams": known.get(projected) if projected else None,
            "streams_each_alone_allows": capacity,
            "next_step": NEXT_STEP.get(projected or "", ""),
        }
    return {
        "limit": limit,
        "at_streams": step["streams"],
        "why": why,
        "streams_each_alone_allows": capacity,
        "next_step": NEXT_STEP[limit],
    }
