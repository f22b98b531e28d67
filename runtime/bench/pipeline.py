"""`vgsum bench pipeline`: the whole product's speed, side by side in one run.

1. File speed as a multiple of real time (bundled sample, a 720p clip), with the
   process CPU time per second of video at 2 fps, hence how many live streams
   the machine's cores sustain (the median of `--repeat` runs per file); then that CPU split by
   stage (runtime/bench/pipeline_stages.py): decode, convert, foreground, perception, refiner,
   window, summary, publish, store, each its own thread CPU (stream/stage_cpu.py), and "other"
   (process CPU less the stages), per stream-second and as a share; the same with the SQLite
   store and a publish endpoint on (median of `--repeat` more runs per file), so the sinks' rows
   are filled (`--no-stage-sinks`: not).
2. Live mode: the sample paced like a camera; latency from a frame's decode to
   its first (provisional) score, p50 and p95.
3. The same file runs with the temporal graph replaced by per-frame scoring
   (the window graph at W = 1), to show what the graph costs.
4. The perception gate (runtime/live/gate.py) off and on, runs alternating, on a
   sparse camera-like stream (mostly an empty room) and on the files (busy): CPU per
   stream-second and frames perceived; decode -> first score paced (the sparse
   stream and the first file).
5. The daemon's sinks off and on (`--sections 5`, runtime/bench/pipeline_sinks.py): CPU per stream-second with
   no store and no MQTT, the SQLite store, the PostgreSQL store, and the PostgreSQL store plus the MQTT bridge
   publishing to a real Mosquitto broker; runs interleaved, servers started by runtime/bench/services.py.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vgsum.runtime.bench.ingest import cpu_model
from vgsum.runtime.common.allocator import tune_for_daemon
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.paths import engine_dir, shared_dir
from vgsum.runtime.common.sample import bundled_sample
from vgsum.runtime.daemon.app import SummaryApp
from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.runtime.daemon.outputs import Output
from vgsum.runtime.engines.loader import Engines
from vgsum.runtime.summary.summarizer import ScoreEvent
from vgsum.stream.stage_cpu import STAGE_CPU, since


@dataclass
class FileRun:
    """One file summarized as fast as possible."""

    name: str
    media_s: float
    wall_s: float
    cpu_s: float
    frames: int
    perceived: int  # frames that went through perception (the rest the gate carried forward)
    path: Path
    stages: dict[str, float] = field(default_factory=dict)  # stage -> thread CPU s in this run (stream/stage_cpu.py)

    @property
    def speed(self) -> float:
        """Multiple of real time."""
        return self.media_s / self.wall_s

    @property
    def cpu_per_stream_s(self) -> float:
        """CPU seconds per second of video at the sampling rate."""
        return self.cpu_s / self.media_s


def _config(url: str, folder: Path, threads: int | None, sinks: dict | None = None, **stream: object) -> EdgeConfig:
    """The bench's daemon config; `sinks` replaces top-level sections (section 5: publish, store, mqtt)."""
    fields: dict = {
        "streams": [{"stream_id": "bench", "url": url, **stream}],
        "publish": {"endpoints": [], "frame_messages": False},
        "engines": {"dir": folder, "threads": threads},
        "control": {"enabled": False},
        "metrics": {"enabled": False},
        "web": {"enabled": False},
        "store": {"enabled": False},  # a benchmark keeps no history in the user's store
    }
    return EdgeConfig(**{**fields, **(sinks or {})})


def _per_frame_only(engines: Engines) -> None:
    """Score every frame on its own: the window graph with W = 1 (no temporal context)."""
    refiner = engines.refiner

    def scores(nodes: np.ndarray) -> np.ndarray:
        batch = nodes[:, None, :].astype(np.float32)
        out = refiner.window_engine.run({"nodes": batch, "mask": np.ones(batch.shape[:2], bool)})
        return next(iter(out.values()))[:, 0]

    refiner.scores = scores  # type: ignore[method-assign]


def run_file(
    path: Path, folder: Path, threads: int | None, per_frame: bool = False, gate: bool = True,
    sinks: dict | None = None, service_out: list | None = None,
) -> FileRun:
    """Summarize `path` as fast as possible; wall and CPU time of the whole process (all threads, the sinks' too).

    `service_out` receives the stopped service, for the sinks' counters (section 5)."""
    cfg = _config(str(path), folder, threads, sinks, gate={"enabled": gate})
    engines = Engines.load(cfg.engines)
    if per_frame:
        _per_frame_only(engines)
    service = SummaryApp(cfg, engines, collect=True)
    stages0 = STAGE_CPU.snapshot()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    service.start()
    try:
        if not service.wait(timeout_s=1800):
            raise UserError(f"{path.name} did not finish within 30 minutes")
    finally:
        service.stop()
    if service.failure is not None:
        raise RuntimeError(f"{path.name}: {service.failure}")
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    stages = since(stages0, STAGE_CPU.snapshot())
    if service_out is not None:
        service_out.append(service)
    frames = service.pipeline.frames_done("bench")
    media = frames / cfg.streams[0].sample_fps
    return FileRun(
        path.name, media, wall, cpu, frames, frames - service.pipeline.frames_gated("bench"), path, stages
    )


def median_run(path: Path, folder: Path, threads: int | None, repeat: int, per_frame: bool = False) -> FileRun:
    """The run with the median CPU time of `repeat` runs: one run of a 10-s clip swings by a quarter on a shared VM."""
    runs = sorted((run_file(path, folder, threads, per_frame) for _ in range(repeat)), key=lambda r: r.cpu_s)
    return runs[len(runs) // 2]


class _LatencyProbe(SummaryApp):
    """The service, noting when each frame was decoded and when its first score went out."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.decoded_at: dict[float, float] = {}
        self.latencies: list[float] = []
        self._lock = threading.Lock()
        probe = self

        class FirstScore(Output):  # a score leaving the fan-out ends its frame's latency
            def score(self, stream_id: str, event: ScoreEvent) -> None:
                probe._scored(event)

        self.outputs.add(FirstScore())

    def _submit(self, frame) -> None:  # noqa: ANN001 - SampledFrame
        with self._lock:
            self.decoded_at[round(frame.media_time, 4)] = frame.wall_time
        super()._submit(frame)

    def _scored(self, event: ScoreEvent) -> None:
        now = time.time()
        with self._lock:
            decoded = self.decoded_at.pop(round(event.t, 4), None)
        if decoded is not None:
            self.latencies.append(now - decoded)


def gate_pair(path: Path, folder: Path, threads: int | None, repeat: int) -> tuple[FileRun, FileRun]:
    """The gate off and on, runs alternating (off, on, off, on, ...): each the run with the median CPU time."""
    runs: dict[bool, list[FileRun]] = {False: [], True: []}
    for _ in range(repeat):
        for gate in (False, True):
            runs[gate].append(run_file(path, folder, threads, gate=gate))
    off, on = (sorted(runs[g], key=lambda r: r.cpu_s)[len(runs[g]) // 2] for g in (False, True))
    return off, on


def run_live(path: Path, folder: Path, threads: int | None, seconds: float, gate: bool = True) -> list[float]:
    """The file paced at native speed and looped, like a camera, for `seconds`; latencies in seconds."""
    cfg = _config(str(path), folder, threads, realtime=True, loop=True, gate={"enabled": gate})
    service = _LatencyProbe(cfg, Engines.load(cfg.engines))
    service.start()
    try:
        service.wait(timeout_s=seconds)
    finally:
        service.stop()
    return service.latencies


def _percentiles(latencies: list[float]) -> str:
    """p50, p95 and max of latencies in seconds, as one phrase in ms."""
    if not latencies:
        return "no frame scored"
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms "
        f"({len(ordered)} frames)"
    )


def _sparse_stream() -> Path | None:
    """The sparse camera-like stream the gate is measured on, when built (models/data/event_streams.py)."""
    from vgsum.models.data.event_streams import default_cache_dir

    folder = default_cache_dir()
    names = ("cam-sub-sparse-room-q120s.mp4", "sparse-long-room.mp4")
    return next((folder / n for n in names if (folder / n).is_file()), None)


def _clip_720p() -> Path | None:
    candidates = [shared_dir() / "data" / "footage" / "sam2-02-cups.mp4"]
    with contextlib.suppress(UserError):
        candidates.append(bundled_sample("bigbuckbunny.mp4"))
    return next((p for p in candidates if p.is_file()), None)


def main(argv: list[str]) -> int:
    """Run the measurements (`--sections`) and print their tables."""
    parser = argparse.ArgumentParser(prog="vgsum bench pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--engines", type=Path, default=None, help="engine folder (default: the engine cache)")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads per engine (default 1)")
    parser.add_argument("--live-seconds", type=float, default=30.0, help="length of the paced live run")
    parser.add_argument("--video", type=Path, action="append", default=None, help="files to time (repeatable)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per file; the table shows the median by CPU time (default 3)"
    )
    parser.add_argument(
        "--sections", default="1,2,3,4",
        help="which measurements to run, 1 to 5 (default 1,2,3,4; 5, the sinks, needs mosquitto and postgresql)",
    )
    parser.add_argument(
        "--no-stage-sinks", action="store_true",
        help="section 1's CPU by stage: skip the extra runs per video with the SQLite store and a publish endpoint",
    )
    parser.add_argument(
        "--sink-rounds", type=int, default=2, help="section 5: rounds of the interleaved sink variants (default 2)"
    )
    parser.add_argument(
        "--sparse", default=None,
        help="the sparse stream of section 4 (default: cam-sub-sparse-room-q120s or sparse-long-room, when built; "
        "'none': the files only)",
    )
    parser.add_argument(
        "--gate-live-seconds", type=float, default=60.0,
        help="length of each paced run of section 4 (default 60; 0: none)",
    )
    args = parser.parse_args(argv)
    tune_for_daemon()  # the malloc settings of `vgsum serve`, whose streams these figures count
    folder = (args.engines or engine_dir()).expanduser()
    videos = args.video or [p for p in (bundled_sample(), _clip_720p()) if p is not None]
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"vgsum bench pipeline: {cores} cores ({cpu_model()}), load average {load:.1f}, "
        f"ORT threads {args.threads}, engines {folder}"
    )

    if args.repeat < 1:
        raise UserError(f"--repeat must be at least 1, got {args.repeat}")
    asked = {x.strip() for x in args.sections.split(",") if x.strip()}
    if not asked or not asked <= {"1", "2", "3", "4", "5"}:
        raise UserError(f"--sections takes numbers from 1 to 5, comma-separated, got {args.sections!r}")
    sections = {int(x) for x in asked}
    if 5 in sections:  # before any measurement: a missing server is the one-line error, not a failure at the end
        from vgsum.runtime.bench.services import require_services

        require_services()
    if 1 in sections or 3 in sections:
        runs = [median_run(v, folder, args.threads, args.repeat) for v in videos]
    if 1 in sections:
        print("\n1. files, as fast as possible (2 fps sampled)")
        print("| video | video s | wall s | x real time | CPU s per stream-second | live streams on all cores |")
        print("|---|---|---|---|---|---|")
        for run in runs:
            print(
                f"| {run.name} | {run.media_s:.1f} | {run.wall_s:.2f} | {run.speed:.1f} | "
                f"{run.cpu_per_stream_s:.3f} | {cores / run.cpu_per_stream_s:.1f} |"
            )
        from vgsum.runtime.bench.pipeline_stages import print_split

        print_split(runs, folder, args.threads, args.repeat, with_sinks=not args.no_stage_sinks)

    if 2 in sections:
        latencies = run_live(videos[0], folder, args.threads, args.live_seconds)
        print(
            f"\n2. live ({videos[0].name} paced and looped for {args.live_seconds:.0f} s): "
            f"decode -> first score: {_percentiles(latencies)}"
        )

    if 3 in sections:
        flat = median_run(videos[0], folder, args.threads, args.repeat, per_frame=True)
        graph = runs[0]
        print(
            f"\n3. what the graph costs ({graph.name}): CPU s per stream-second "
            f"{graph.cpu_per_stream_s:.3f} with the temporal graph vs {flat.cpu_per_stream_s:.3f} per-frame only "
            f"({graph.cpu_per_stream_s / flat.cpu_per_stream_s:.2f}x); x real time {graph.speed:.1f} vs "
            f"{flat.speed:.1f}"
        )

    if 4 in sections:
        _gate_section(args, folder, videos, cores)
    if 5 in sections:
        from vgsum.runtime.bench.pipeline_sinks import sinks_section

        sinks_section(videos, folder, args.threads, max(1, args.sink_rounds), cores)
    return 0


def _gate_section(args: argparse.Namespace, folder: Path, busy: list[Path], cores: int) -> None:
    """Section 4: the perception gate off and on, side by side, on a sparse stream and the busy files (paced: the
    sparse stream and the first file)."""
    sparse = None if args.sparse == "none" else Path(args.sparse) if args.sparse else _sparse_stream()
    if sparse is None and args.sparse != "none":
        print(
            "\n4. the perception gate: no sparse stream built (busy files only); build one with "
            "`python -m vgsum.models.data.event_streams cam-sub-sparse-room --quiet-s 120` or pass --sparse PATH"
        )
    print(
        f"\n4. the perception gate (`gate: {{enabled: true}}`, its defaults), off and on alternating, "
        f"median of {args.repeat} by CPU time"
    )
    print("| video | gate | video s | perceived | CPU s per stream-second | live streams on all cores | on / off |")
    print("|---|---|---|---|---|---|---|")
    for video in [v for v in (sparse, *busy) if v is not None]:
        off, on = gate_pair(video, folder, args.threads, args.repeat)
        for label, run in (("off", off), ("on", on)):
            ratio = f"{on.cpu_per_stream_s / off.cpu_per_stream_s:.2f}" if run is on else ""
            print(
                f"| {run.name} | {label} | {run.media_s:.1f} | {run.perceived} of {run.frames} | "
                f"{run.cpu_per_stream_s:.3f} | {cores / run.cpu_per_stream_s:.1f} | {ratio} |"
            )
    seconds = args.gate_live_seconds
    for video in [v for v in (sparse, busy[0]) if v is not None and seconds > 0]:
        off = run_live(video, folder, args.threads, seconds, gate=False)
        on = run_live(video, folder, args.threads, seconds, gate=True)
        print(
            f"   live ({video.name} paced for {seconds:.0f} s), decode -> first score: "
            f"gate off {_percentiles(off)}; gate on {_percentiles(on)}"
        )
