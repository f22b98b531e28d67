"""File digests: engines, weights and data are pinned by sha256 (edge and export use the same function)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_of(path: Path | str) -> str:
    """Hex sha256 of a file, streamed in 1 MiB blocks (engines run to ~100 MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
