"""Where things live: the repository, the shared data folder, the engine cache."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    """The read-only shared data folder: `$VGSUM_SHARED`, else `../shared` beside the repository."""
    return Path(os.environ.get("VGSUM_SHARED", REPO_ROOT.parent / "shared"))


def engine_dir() -> Path:
    """The engine cache: `$VGSUM_ENGINES`, else `~/.cache/vgsum/engines`."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vgsum" / "engines"
    return Path(os.environ.get("VGSUM_ENGINES", default))
