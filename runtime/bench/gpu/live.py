"""The live pipeline with N looped copies of the sample as live streams at 2 fps, N = 1, 2, 4... until frames drop.

It runs the daemon's own summary service (ingest threads, cross-stream batches, the
summarizer), not a loop written for the benchmark, so the stream count it finds is the
one a user would get; a probe on the service adds the clocks and the latencies.
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path
from typing import Any

from vgsum.runtime.bench.gpu.bottleneck import decode_cost, name_the_limit
from vgsum.runtime.bench.gpu.budget import TIME_LIMIT, Budget, Mode
from vgsum.runtime.bench.gpu.candidates import Candidate
from vgsum.runtime.bench.gpu.environment import cores
from vgsum.runtime.bench.gpu.outcome import say
from vgsum.runtime.bench.gpu.throughput import p95
from vgsum.stream.sampler import DEFAULT_SAMPLE_FPS

SAMPLE_FPS = DEFAULT_SAMPLE_FPS
GPU_MAX_BATCH = 64
# The engines the pipeline runs per frame; the text engine only embeds a stream's queries when they change.
PIPELINE_ENGINES = ("perception", "refiner_frame", "refiner_window")


def _streams_probe_class() -> type:
    """The service with a stream-keyed latency probe and a clock on the pipeline thread's batches.

    `vgsum bench pipeline`'s probe keys frames by media time alone, which N copies of one
    file share; here the key is (stream, media time).
    """
    from vgsum.runtime.daemon.app import SummaryApp
    from vgsum.runtime.daemon.outputs import Output

    class StreamsProbe(SummaryApp):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.decoded_at: dict[tuple[str, float], float] = {}
            self.latencies: list[float] = []
            self.stage_s: dict[str, float] = {}
            self._probe_lock = threading.Lock()
            process = self.pipeline.process

            def timed_process(frames: list, reads: Any = None) -> None:
                started = time.perf_counter()
                try:
                    process(frames, reads)
                finally:
                    self._add_stage("process", time.perf_counter() - started)

            self.pipeline.process = timed_process  # type: ignore[method-assign]
            probe = self

            class Timings(Output):  # stage latencies and each frame's first score, off the daemon's fan-out
                def latency(self, stream_id: str, stage: str, seconds: float) -> None:
                    probe._add_stage(stage, seconds)

                def score(self, stream_id: str, event: Any) -> None:
                    probe._scored(stream_id, event)

            self.outputs.add(Timings())

        def reset(self) -> None:
            with self._probe_lock:
                self.latencies.clear()
                self.stage_s.clear()

        def _add_stage(self, stage: str, seconds: float) -> None:
            with self._probe_lock:
                self.stage_s[stage] = self.stage_s.get(stage, 0.0) + seconds

        def _submit(self, frame: Any) -> None:
            with self._probe_lock:
                self.decoded_at[(frame.stream_id, round(frame.media_time, 4))] = frame.wall_time
            super()._submit(frame)

        def _scored(self, stream_id: str, event: Any) -> None:
            now = time.time()
            with self._probe_lock:
                decoded = self.decoded_at.pop((stream_id, round(event.t, 4)), None)
                if decoded is not None:
                    self.latencies.append(now - decoded)

    return StreamsProbe


def _streams_config(n: int, sample: Path, engines: dict[str, Any]) -> Any:
    """`vgsum bench pipeline`'s live config (publishing, control and metrics off), with N named copies."""
    from vgsum.runtime.bench.pipeline import _config
    from vgsum.runtime.daemon.config import EdgeConfig

    base = _config(str(sample), Path(engines["dir"]), engines.get("threads"), realtime=True, loop=True, live=True)
    data = base.model_dump()
    stream = {**data["streams"][0], "sample_fps": SAMPLE_FPS}
    data["streams"] = [{**stream, "stream_id": f"cam{i}"} for i in range(n)]
    data["engines"] = engines
    return EdgeConfig.model_validate(data)


def _counters(service: Any) -> dict[str, Any]:
    stats = [w.stats() for w in service.ingest.workers.values()]
    scored = [service.pipeline.frames_done(sid) for sid in service.ingest.workers]
    return {
        "sampled": sum(s.frames_sampled for s in stats),
        "dropped": sum(s.frames_dropped for s in stats),
        "scored": sum(scored),
        "scored_each": scored,
    }


def run_step(n: int, engines: Any, engine_cfg: dict[str, Any], sample: Path, mode: Mode) -> dict[str, Any]:
    """N streams for the warm-up, then counters and clocks over the measured window."""
    cfg = _streams_config(n, sample, engine_cfg)
    service = _streams_probe_class()(cfg, engines)
    service.start()
    try:
        service.wait(timeout_s=mode.stream_warmup_s)
        before = _counters(service)
        service.reset()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        service.wait(timeout_s=mode.stream_measure_s)
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        after = _counters(service)
        with service._probe_lock:
            stage = dict(service.stage_s)
            latencies = sorted(service.latencies)
    finally:
        service.stop()
    if service.failure is not None:
        raise RuntimeError(service.failure)
    expected = n * SAMPLE_FPS * wall
    scored = after["scored"] - before["scored"]
    dropped = after["dropped"] - before["dropped"]
    per_frame = {k: v / max(scored, 1) for k, v in stage.items()}
    engines_s = sum(per_frame.get(k, 0.0) for k in PIPELINE_ENGINES)
    python_s = max(0.0, per_frame.get("process", 0.0) - engines_s)
    slack = n + 0.1 * expected  # a frame per stream at each edge of the window, plus 10 %
    return {
        "streams": n,
        "seconds": round(wall, 2),
        "frames_expected": round(expected, 1),
        "frames_sampled": after["sampled"] - before["sampled"],
        "frames_scored": scored,
        "frames_dropped": dropped,
        "scored_per_s": round(scored / wall, 2),
        "keeps_up": bool(dropped == 0 and scored >= expected - slack),
        "latency_p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "latency_p95_ms": round(p95(latencies) * 1000, 1) if latencies else None,
        "ms_per_frame": {
            "perception": round(per_frame.get("perception", 0.0) * 1000, 3),
            "refiner": round((per_frame.get("refiner_frame", 0.0) + per_frame.get("refiner_window", 0.0)) * 1000, 3),
            "Python": round(python_s * 1000, 3),
            "pipeline_thread": round(per_frame.get("process", 0.0) * 1000, 3),
        },
        "pipeline_thread_busy": round(stage.get("process", 0.0) / wall, 3),
        "cpu_busy": round(cpu / (wall * cores()), 3),
    }


def live_streams(folder: Path, mode: Mode, budget: Budget, chosen: dict[str, Any], sample: Path) -> dict[str, Any]:
    """Step N = 1, 2, 4... looped live copies of the sample at 2 fps until frames drop (or the cap, or the time)."""
    engine_cfg = {"dir": str(folder), **chosen["config"]}
    engines = chosen["engines"]
    decode_s = decode_cost(sample)
    steps: list[dict[str, Any]] = []
    result: dict[str, Any] = {"backend": chosen["name"], "why_this_backend": chosen["why"],
                              "engines": engine_cfg, "decode_cpu_s_per_stream_s": round(decode_s, 4)}  # fmt: skip
    n = 1
    while n <= mode.streams_max:
        if not budget.allows(mode.stream_warmup_s + mode.stream_measure_s + 15):
            result["stopped"] = f"skipped from {n} streams: {TIME_LIMIT}"
            break
        say(f"streams: {n} at {SAMPLE_FPS:g} fps ({budget.left():.0f} s left)")
        steps.append(run_step(n, engines, engine_cfg, sample, mode))
        if not steps[-1]["keeps_up"]:
            break
        n *= 2
    result["steps"] = steps
    if steps:
        engines_on_cpu = chosen["config"]["device"] == "cpu"
        result.update(name_the_limit(steps, decode_s, engines_on_cpu, SAMPLE_FPS))
    else:
        result["status"] = "skipped"
        result["reason"] = TIME_LIMIT
    return result


def _passed(parity: dict[str, Any], name: str) -> bool:
    """Every per-frame engine of candidate `name` ran and was within tolerance."""
    checks = parity.get(name)
    if not isinstance(checks, dict):
        return False
    entries = [checks.get(engine) for engine in PIPELINE_ENGINES]
    return all(isinstance(e, dict) and e.get("status") == "ok" and e.get("pass") for e in entries)


def streams_engines(mode: Mode, folder: Path, candidates: list[Candidate], parity: dict[str, Any]) -> dict[str, Any]:
    """The fastest engines that passed parity: TensorRT FP16, else onnxruntime-gpu, else ORT CPU at 1 thread.

    On a GPU the text engine stays on ONNX Runtime CPU: it only embeds a stream's queries
    when they change (labels come from the shipped embeddings), so it is off the per-frame path.
    """
    from vgsum.runtime.engines.config import EngineConfig
    from vgsum.runtime.engines.loader import Engines
    from vgsum.runtime.engines.perception import PerceptionEngine
    from vgsum.runtime.engines.refiner import RefinerEngines
    from vgsum.runtime.engines.text import load_text_encoder

    by_name = {c.name: c for c in candidates}
    for name in ("trt-fp16", "ort-cuda"):
        candidate = by_name.get(name)
        if mode.cpu or candidate is None or candidate.unavailable or not _passed(parity, name):
            continue
        engines = Engines(
            perception=PerceptionEngine(candidate.backend("perception")),
            text=load_text_encoder(folder, device="cpu"),
            refiner=RefinerEngines(candidate.backend("refiner_frame"), candidate.backend("refiner_window")),
        )
        config = {"backend": "tensorrt" if name.startswith("trt") else "onnxruntime", "device": "cuda",
                  "threads": None, "max_batch": GPU_MAX_BATCH}  # fmt: skip
        return {"name": name, "why": "the fastest backend whose per-frame engines all passed parity",
                "config": config, "engines": engines}  # fmt: skip
    config = {"backend": "onnxruntime", "device": "cpu", "threads": 1, "max_batch": 8}
    why = "--cpu dry run" if mode.cpu else "no GPU backend both available and within tolerance"
    engines = Engines.load(EngineConfig.model_validate({"dir": str(folder), **config}))
    return {"name": "ort-cpu", "why": f"{why} (1 thread per engine, as configs/edge.yaml)", "config": config,
            "engines": engines}  # fmt: skip
