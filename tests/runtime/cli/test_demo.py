"""`vgsum demo`: its options are checked before a minute of engine building, it knows every engine file, and its
sample gets a highlight where something happens and nowhere else."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from vgsum.runtime.cli.demo import missing_engine_files
from vgsum.runtime.engines.manifest import ENGINE_FILES


def test_a_bad_demo_option_is_one_line_before_any_engine_is_built(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "vgsum.runtime.cli", "demo", "--engines", str(tmp_path / "none"),
         "--out", str(tmp_path / "r"), "--query", "\t"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.splitlines() == ["vgsum demo: --query: stream 'opencv-tree-window': query 0 is empty"]
    assert not (tmp_path / "none").exists()


def test_the_demo_checks_every_file_of_a_built_engine_folder(tmp_path, engine_folder):
    assert missing_engine_files(engine_folder) == []
    assert missing_engine_files(tmp_path) == list(ENGINE_FILES)


@pytest.mark.slow
def test_the_demo_stays_silent_through_the_leaves_and_highlights_the_hand(tmp_path, engine_folder):
    """The bundled sample: leaves sway for 29.6 s, a hand comes in at 23.1 s (runtime/assets/samples)."""
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "vgsum.runtime.cli", "demo", "--engines", str(engine_folder), "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    highlights = json.loads((out / "highlights.json").read_text())["highlights"]
    assert len(highlights) == 1
    assert 22.5 <= highlights[0]["start"] <= 24.0 and highlights[0]["alerted_at"] <= 23.1 + 5.0
    assert (out / "timeline.png").is_file()
