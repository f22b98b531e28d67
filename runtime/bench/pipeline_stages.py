"""Section 1 of `vgsum bench pipeline`, split by stage: where a stream-second's CPU goes.

Each stage of the live path charges its own thread CPU to the process's stage accounting
(stream/stage_cpu.py): decode (the ingest thread's side and FFmpeg's decoder threads), convert, foreground,
perception, refiner (`refiner.frame`), window (`refiner.window`), summary (the rest of a frame's take),
publish (the results' fan-out) and store (the history writer's thread). A run's split is the difference of
two snapshots around it; "other" is the process CPU less the stages (the frame queues' threads, status and
heartbeat, the ZeroMQ and MQTT threads, the interpreter's own), so the rows add up to the run's total.

Thread CPU, not wall time: on a shared VM the other jobs stretch wall times, not the CPU a stage burns.

The bench's own config keeps no history and publishes on no endpoint, so its store row is empty and its
publish row is only the messages built for the in-process outputs; `sinks_on` is the variant with the daemon's
publish defaults (frame messages on) on a loopback endpoint and the SQLite store, run as often as section 1's
files (the median by CPU) to show those rows too.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from vgsum.runtime.bench.pipeline import FileRun, run_file
from vgsum.stream.stage_cpu import STAGES

OTHER = "other"


def sinks_on(work: Path) -> dict:
    """Config sections for a run with its sinks on: a ZeroMQ endpoint on a free loopback port, the SQLite store."""
    return {
        "publish": {"endpoints": ["pub+bind:tcp://127.0.0.1:*"]},  # the daemon's defaults otherwise: frame messages
        "store": {"path": work / "history.db", "daemon_id": "bench"},
    }


def split(stages: dict[str, float], total_cpu_s: float) -> dict[str, float]:
    """Stage -> CPU seconds for every known stage (0 for one that did not run), others kept, and "other"."""
    rows = {stage: stages.get(stage, 0.0) for stage in STAGES}
    rows.update({stage: cpu for stage, cpu in stages.items() if stage not in rows})
    rows[OTHER] = total_cpu_s - sum(rows.values())
    return rows


def table_lines(name: str, label: str, stages: dict[str, float], total_cpu_s: float, media_s: float) -> list[str]:
    """Markdown rows `| video | sinks | stage | CPU s per stream-second | share |`, then the total."""
    lines = []
    for stage, cpu in split(stages, total_cpu_s).items():
        ran = cpu > 0 or stage == OTHER
        per_s = f"{cpu / media_s:.4f}" if ran else "-"
        share = f"{100 * cpu / total_cpu_s:.1f} %" if ran and total_cpu_s > 0 else "-"
        lines.append(f"| {name} | {label} | {stage} | {per_s} | {share} |")
    lines.append(f"| {name} | {label} | **total** | **{total_cpu_s / media_s:.4f}** | 100 % |")
    return lines


TABLE_HEAD = ["| video | sinks | stage | CPU s per stream-second | share of total |", "|---|---|---|---|---|"]


def median_with_sinks(path: Path, folder: Path, threads: int | None, repeat: int) -> FileRun:
    """The run with the median CPU time of `repeat` runs with the sinks on, each with a fresh store."""
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="vgsum-bench-stages-") as tmp:
            runs.append(run_file(path, folder, threads, sinks=sinks_on(Path(tmp))))
    return sorted(runs, key=lambda r: r.cpu_s)[len(runs) // 2]


def print_split(runs: list[FileRun], folder: Path, threads: int | None, repeat: int, with_sinks: bool) -> None:
    """Print each run's split (section 1's median runs); `with_sinks`: also the median of `repeat` runs per video
    with the sinks on (a single run of a 10-s clip swings by a quarter on a shared VM, a stage's share with it)."""
    print("\n1b. CPU by stage: each stage's own thread CPU (stream/stage_cpu.py); other = process CPU - stages")
    for line in TABLE_HEAD:
        print(line)
    for run in runs:
        for line in table_lines(run.name, "off", run.stages, run.cpu_s, run.media_s):
            print(line)
        if with_sinks:
            on = median_with_sinks(run.path, folder, threads, repeat)
            for line in table_lines(run.name, "store+publish", on.stages, on.cpu_s, on.media_s):
                print(line)
