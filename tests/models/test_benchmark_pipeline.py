"""On the TVSum pack: one fold, a short training, the protocol end to end beats random."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.benchmark


def test_one_fold_trains_and_beats_random(shared_data, tmp_path):
    import numpy as np

    from vgsum.models.dataset import load_splits, load_videos
    from vgsum.models.eval import score_videos
    from vgsum.models.protocol import mean_scores
    from vgsum.models.train import TrainConfig, load_checkpoint, predict, save_checkpoint, train_model

    root = shared_data / "benchmarks" / "tvsum"
    split = load_splits(root / "splits" / "tvsum_splits_nonoverlap.json")[0]
    videos = load_videos(root / "tvsum.h5")
    train_keys, test_keys = split["train_keys"][:20], split["test_keys"][:5]
    cfg = TrainConfig(epochs=4, videograph={"refine_steps": 2, "d_model": 64})
    model = train_model(cfg, videos, train_keys, seed=0, progress=False)
    path = save_checkpoint(tmp_path / "m.pt", model, cfg)
    model, cfg2 = load_checkpoint(path)
    assert cfg2 == cfg
    scores = {k: predict(model, videos[k], cfg) for k in test_keys}
    trained = mean_scores(score_videos(videos, test_keys, scores))
    rng = np.random.default_rng(0)
    random = mean_scores(score_videos(videos, test_keys, {k: rng.random(videos[k].n_steps) for k in test_keys}))
    assert trained["tau"] > random["tau"] + 0.05 and trained["rho"] > random["rho"] + 0.07
