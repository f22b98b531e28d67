"""Fixtures of the model tests: real engines and real clip features, built once per session.

The engines are the real exports, built by the export tests' fixture modules (shared, so
the whole suite builds each engine once).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from perception_engine_fixture import build_perception_engine
from text_engine_fixture import build_text_engine


@pytest.fixture(scope="session")
def footage_engines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder holding the real perception engine and the text engine's labels.npy: what footage training reads."""
    perception = build_perception_engine(tmp_path_factory)
    text = build_text_engine(tmp_path_factory)
    folder = tmp_path_factory.mktemp("footage_engines")
    for path in (perception.onnx_path, perception.sidecar_path):
        (folder / path.name).symlink_to(path)
    shutil.copy(text.folder / "labels.npy", folder / "labels.npy")
    return folder


@pytest.fixture(scope="session")
def bikes_features(footage_engines: Path, bikes_mp4: Path, tmp_path_factory: pytest.TempPathFactory):
    """bikes.mp4 through the real engine, extracted into a fresh cache; (clips, cache dir)."""
    from vgsum.models.data.video_features import extract_features

    cache = tmp_path_factory.mktemp("features")
    return extract_features([bikes_mp4], engines=footage_engines, cache_dir=cache, progress=False), cache
