"""`vgsum bench pipeline --sections 5` on the bundled clip, one round: every sink variant has its row, the sinks
did their work (records stored, messages acknowledged by a real broker) and the on / off ratio is a number.
No timing threshold: a shared VM's CPU figures are not a test's to judge."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from vgsum.runtime.bench.services import mosquitto_binary, postgres_bin

pytestmark = pytest.mark.slow

VARIANTS = ("off", "sqlite", "postgres", "postgres+mqtt")


def _rows(stdout: str, video: str) -> dict[str, list[str]]:
    """The section's table rows by variant, each as its cells."""
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in stdout.splitlines() if line.startswith("|")]
    return {cells[1]: cells for cells in rows if cells[0] == video}


def test_sinks_section_has_every_variant_and_a_finite_ratio(engine_folder: Path, bikes_mp4: Path) -> None:
    if mosquitto_binary() is None or postgres_bin() is None:
        pytest.skip("mosquitto or the PostgreSQL server binaries are not installed")
    proc = subprocess.run(
        [sys.executable, "-m", "vgsum.runtime.cli", "bench", "pipeline", "--sections", "5", "--sink-rounds", "1",
         "--video", str(bikes_mp4), "--engines", str(engine_folder)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    rows = _rows(proc.stdout, bikes_mp4.name)
    assert set(rows) == set(VARIANTS), proc.stdout
    for variant, cells in rows.items():
        stored, sent = (int(x) for x in cells[3].split(" / "))
        assert (stored > 0) == (variant != "off") and (sent > 0) == variant.endswith("+mqtt"), cells
        assert cells[4] == "0", cells  # nothing dropped: the figure counts all the sinks' work
        share = float(cells[7].rstrip(" %"))  # the sink threads' own CPU, timed in those threads
        assert (share > 0) == (variant != "off") and share < 100, cells
        assert math.isfinite(float(cells[-1])) and float(cells[-1]) > 0, cells
    assert float(rows["off"][-1]) == 1.0
    assert "load average" in proc.stdout


def test_sinks_section_names_the_packages_when_a_server_is_missing(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}  # the finders are stubbed below: nothing installed
    proc = subprocess.run([sys.executable, "-c", (
        "import sys, vgsum.runtime.bench.services as s; s.mosquitto_binary = lambda: None; "
        "s.postgres_bin = lambda: None; from vgsum.runtime.cli import main; "
        "sys.argv = ['vgsum', 'bench', 'pipeline', '--sections', '5']; sys.exit(main())")],
        capture_output=True, text=True, timeout=60, env=env)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-2000:]
    assert "apt-get install mosquitto postgresql" in lines[0]
