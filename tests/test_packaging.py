"""The four folders install under one `vgsum` namespace, in an editable and in a wheel install."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import vgsum.stream
from vgsum.runtime.common.paths import REPO_ROOT


def test_editable_install_maps_namespace() -> None:
    assert Path(vgsum.stream.__file__).resolve().parent == (REPO_ROOT / "stream").resolve()


@pytest.mark.slow
def test_wheel_installs_only_the_vgsum_namespace(tmp_path: Path) -> None:
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO_ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(tmp_path.glob("vgsum-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"vgsum", next(t for t in top if t.endswith(".dist-info"))}, top
    for package in ("stream", "runtime", "models", "export"):
        assert f"vgsum/{package}/__init__.py" in names
    assert not any(name.startswith("vgsum/tests") for name in names)

    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    probe = subprocess.run(
        [sys.executable, "-S", "-c", "import vgsum.runtime.cli, vgsum.stream; print(vgsum.stream.__file__)"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target)},
        cwd=tmp_path,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert probe.stdout.strip().startswith(str(target))
