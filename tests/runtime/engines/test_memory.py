"""A daemon's engines must not keep the memory of their largest batch: RSS after a burst returns to its level."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from vgsum.runtime.engines.backends import load_backend

PROBE = """
import json, os, sys
import numpy as np
from vgsum.runtime.common.allocator import tune_for_daemon
from vgsum.runtime.engines.perception import PerceptionEngine

tune_for_daemon()  # as `vgsum serve` does

def rss_mib():
    for line in open(f"/proc/{os.getpid()}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

engine = PerceptionEngine.load(__import__("pathlib").Path(sys.argv[1]), device="cpu", threads=1)
rng = np.random.default_rng(0)
def run(batch, height=272, width=640):
    engine(list(rng.integers(0, 255, (batch, height, width, 3), dtype=np.uint8)))
for i in range(12):
    run(1 + i % 3)
steady = rss_mib()
run(8)
run(3, 720, 1280)
for i in range(12):
    run(1 + i % 3)
print(json.dumps({"steady": steady, "after_burst": rss_mib()}))
"""


def test_a_burst_of_large_batches_leaves_no_lasting_memory(engine_folder: Path) -> None:
    """With the daemon's malloc settings, a batch of 8 and one of 720p frames (a reconnect's backlog) held 35 MiB
    for good in ORT's CPU arena before atypical calls shrank it."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(engine_folder)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["after_burst"] - figures["steady"] < 12, figures


def test_only_atypical_calls_shrink_the_arena(engine_folder: Path) -> None:
    """The arena stays for usual calls (without it the pipeline took 2.3x the CPU); one over 2x the median shrinks."""
    backend = load_backend(engine_folder / "perception.json", device="cpu", threads=1)
    assert backend.session.get_session_options().enable_cpu_mem_arena
    usual = {"frames": np.zeros((2, 64, 64, 3), np.uint8)}
    chosen = [backend._options_for(usual) for _ in range(8)]
    assert all(options is backend._run_options for options in chosen)
    assert backend._options_for({"frames": np.zeros((8, 64, 64, 3), np.uint8)}) is backend._shrink_options
    assert backend._options_for(usual) is backend._run_options
