"""Benchmark h5 files read as they are (the eccv16 layout too), splits, feature normalisation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vgsum.models.data.tvsum import load_splits, load_videos, normalise_features
from vgsum.runtime.common.errors import UserError


def test_reads_eccv16_style_h5_as_it_is(tmp_path):
    import h5py

    path = tmp_path / "eccv16_dataset_x_google_pool5.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("video_1")
        g["features"] = np.ones((10, 1024), np.float32)
        g["gtscore"] = np.linspace(0, 1, 10).astype(np.float32)
        g["user_summary"] = np.zeros((3, 150), np.float32)
        g["change_points"] = np.array([[0, 74], [75, 149]])
        g["n_frame_per_seg"] = np.array([75, 75])
        g["picks"] = np.arange(0, 150, 15)
        g["n_frames"] = 150
    v = load_videos(path)["video_1"]
    assert v.features.shape == (10, 1024) and v.user_scores is None and v.n_frames == 150
    with pytest.raises(UserError, match="no video"):
        load_videos(path, keys=["video_9"])
    with pytest.raises(UserError, match="not found"):
        load_videos(tmp_path / "missing.h5")


def test_splits_and_normalisation(tmp_path):
    good = tmp_path / "s.json"
    good.write_text(json.dumps([{"train_keys": ["video_1"], "test_keys": ["video_2"]}]))
    assert load_splits(good)[0]["test_keys"] == ["video_2"]
    bad = tmp_path / "b.json"
    bad.write_text("{}")
    with pytest.raises(UserError):
        load_splits(bad)
    x = normalise_features(np.arange(8, dtype=np.float32).reshape(2, 4) + 1, "l2")
    assert np.allclose(np.linalg.norm(x[:, :2], axis=1), 1) and np.allclose(np.linalg.norm(x[:, 2:], axis=1), 1)
