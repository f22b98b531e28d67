"""The edge path must run without torch: importing any stream/ or runtime/ module never loads it."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import vgsum.runtime
import vgsum.stream

FORBIDDEN = ("torch", "tensorflow", "transformers", "matplotlib", "tensorrt")
# scripts that ship in the package but run under another interpreter, never imported by vgsum
OTHER_INTERPRETER = {"vgsum.runtime.bench.rtsp_camera_server": "Debian's python3 with gi (GStreamer)"}


def _edge_modules() -> list[str]:
    names: list[str] = []
    for package in (vgsum.stream, vgsum.runtime):
        for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
            if info.name not in OTHER_INTERPRETER:
                names.append(info.name)
    return sorted(names)


def test_edge_modules_exist() -> None:
    names = _edge_modules()
    assert "vgsum.runtime.cli" in names
    assert len(names) >= 5


def test_importing_edge_modules_loads_no_heavy_framework() -> None:
    names = _edge_modules()
    script = (
        "import importlib, sys\n"
        f"names = {names!r}\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(sorted({m.split('.')[0] for m in bad})))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "", f"edge modules imported {result.stdout.strip()}"


def test_data_flows_one_way_stream_never_imports_runtime_models_or_export() -> None:
    from pathlib import Path

    root = Path(vgsum.stream.__file__).parent
    offenders = [
        f"{path.name}: {line.strip()}"
        for path in sorted(root.glob("*.py"))
        for line in path.read_text().splitlines()
        if line.lstrip().startswith(("import vgsum.", "from vgsum."))
        and not line.split()[1].startswith("vgsum.stream")
    ]
    assert offenders == []
