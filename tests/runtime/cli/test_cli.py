"""The `vgsum` console script: help, unknown commands, and one-line user errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vgsum.runtime.cli import COMMANDS


def _vgsum(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("vgsum", path=str(Path(sys.executable).parent))
    command = [exe] if exe else [sys.executable, "-m", "vgsum.runtime.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=timeout)


def test_help_lists_every_command() -> None:
    result = _vgsum("--help")
    assert result.returncode == 0
    for name in COMMANDS:
        assert name in result.stdout


def test_unknown_command_is_one_line() -> None:
    result = _vgsum("frobnicate")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "unknown command" in result.stderr


def test_unknown_benchmark_is_one_line() -> None:
    result = _vgsum("bench", "nonsense")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown benchmark" in lines[0]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_module_has_main(name: str) -> None:
    import importlib

    module = importlib.import_module(COMMANDS[name][0])
    assert callable(module.main)
