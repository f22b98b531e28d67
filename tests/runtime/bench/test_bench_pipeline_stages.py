"""`vgsum bench pipeline --sections 1` on the bundled clip, one run: the CPU-by-stage table has every stage that ran
with CPU above zero, the stages add up to the run's total, and the run with its sinks on fills the store's row.
No timing threshold: a shared VM's CPU figures are not a test's to judge, only their bookkeeping."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vgsum.stream.stage_cpu import STAGES

pytestmark = pytest.mark.slow

RAN_ALWAYS = ("decode", "convert", "foreground", "perception", "refiner", "window", "summary", "publish")


def _split(stdout: str, video: str, label: str) -> dict[str, str]:
    """Stage -> its CPU s per stream-second cell, of one video's rows with `label` sinks."""
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in stdout.splitlines() if line.startswith("|")]
    return {cells[2]: cells[3] for cells in rows if len(cells) == 5 and cells[:2] == [video, label]}


def test_section_one_splits_its_cpu_by_stage(engine_folder: Path, bikes_mp4: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "vgsum.runtime.cli", "bench", "pipeline", "--sections", "1", "--repeat", "1",
         "--video", str(bikes_mp4), "--engines", str(engine_folder)],
        capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    for label in ("off", "store+publish"):
        split = _split(proc.stdout, bikes_mp4.name, label)
        assert list(split)[: len(STAGES)] == list(STAGES) and "other" in split, proc.stdout
        for stage in RAN_ALWAYS:
            assert float(split[stage]) > 0, (label, stage, split)
        if label == "off":
            assert split["store"] == "-", split  # the bench's own config keeps no history
        else:
            assert float(split["store"]) > 0, split
        total = float(split["**total**"].strip("*"))
        stages = sum(float(cpu) for stage, cpu in split.items() if stage in STAGES and cpu != "-")
        assert 0 < stages <= total + 5e-4, (label, split)  # rounding of the printed cells only
        assert abs(stages + float(split["other"]) - total) < 5e-3, split
