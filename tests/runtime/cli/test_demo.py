"""`vgsum demo`: its options are checked before a minute of engine building, and it knows every engine file."""

from __future__ import annotations

import subprocess
import sys

from vgsum.runtime.cli.demo import missing_engine_files
from vgsum.runtime.engines.manifest import ENGINE_FILES


def test_a_bad_demo_option_is_one_line_before_any_engine_is_built(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "vgsum.runtime.cli", "demo", "--engines", str(tmp_path / "none"),
         "--out", str(tmp_path / "r"), "--query", "\t"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.splitlines() == ["vgsum demo: --query: stream 'bikes': query 0 is empty"]
    assert not (tmp_path / "none").exists()


def test_the_demo_checks_every_file_of_a_built_engine_folder(tmp_path, engine_folder):
    assert missing_engine_files(engine_folder) == []
    assert missing_engine_files(tmp_path) == list(ENGINE_FILES)
