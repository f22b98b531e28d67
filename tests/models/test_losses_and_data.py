"""Loss terms on hand-made inputs, the eccv16-style h5 read as it is, and the CLIs' user errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vgsum.models import losses
from vgsum.models.data.tvsum import load_splits, load_videos, normalise_features
from vgsum.runtime.common.errors import UserError


def test_loss_terms_known_values():
    mask = torch.tensor([[True, True, True, False]])
    scores = torch.tensor([[0.2, 0.2, 0.2, 0.9]])
    assert losses.sparsity(scores, mask, 0.15).item() == pytest.approx(0.05)
    assert losses.importance_mse(scores, torch.tensor([[0.2, 0.2, 0.0, 5.0]]), mask).item() == pytest.approx(0.04 / 3)
    # ranking: target order 0 > 1, scores reversed -> positive hinge; right order with margin -> zero
    t = torch.tensor([[1.0, 0.0]])
    m2 = torch.ones(1, 2, dtype=torch.bool)
    assert losses.ranking_hinge(torch.tensor([[0.1, 0.5]]), t, m2).item() == pytest.approx(0.45)
    assert losses.ranking_hinge(torch.tensor([[0.9, 0.1]]), t, m2).item() == 0.0
    # diversity: identical features are maximally similar, orthogonal ones not at all
    same = torch.ones(1, 3, 4)
    ortho = torch.eye(3, 4)[None]
    s3, m3 = torch.ones(1, 3), torch.ones(1, 3, dtype=torch.bool)
    assert losses.diversity(s3, same, m3).item() == pytest.approx(1.0)
    assert losses.diversity(s3, ortho, m3).item() == pytest.approx(0.0)


def test_representativeness_prefers_covering_scores():
    feats = torch.tensor([[[1.0, 0], [1.0, 0], [0, 1.0], [0, 1.0]]])
    mask = torch.ones(1, 4, dtype=torch.bool)
    covering = losses.representativeness(torch.tensor([[0.9, 0.01, 0.9, 0.01]]), feats, mask)
    one_sided = losses.representativeness(torch.tensor([[0.9, 0.9, 0.01, 0.01]]), feats, mask)
    assert covering < one_sided


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


def test_train_cli_bad_config_is_one_line_error(tmp_path):
    from vgsum.models.train.cli import main

    cfg = tmp_path / "x.yaml"
    cfg.write_text("epochs: 3\nbogus_key: 1\n")
    with pytest.raises(UserError, match="bogus_key: unknown key"):
        main(["--config", str(cfg)])


def test_shipped_configs_parse():
    from vgsum.models.eval.table import CONFIG_DIR, TRAINED_ROWS
    from vgsum.models.train.loop import TrainConfig
    from vgsum.runtime.common.configfile import load_config

    for name in TRAINED_ROWS.values():
        load_config(CONFIG_DIR / name, TrainConfig)
