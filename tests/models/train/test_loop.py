"""The training loop, the recipes it runs, and checkpoints that rebuild their model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vgsum.models.mlp import MLPRegressor
from vgsum.models.peer import VASNet
from vgsum.models.train.loop import TrainConfig, build_model, fit, load_checkpoint, save_checkpoint
from vgsum.models.videograph import VideoGraph
from vgsum.runtime.common.errors import UserError


def test_shipped_recipes_parse_and_build_their_model_at_the_data_width():
    from vgsum.models.eval.table import CONFIG_DIR, TRAINED_ROWS
    from vgsum.runtime.common.configfile import load_config

    kinds = {"videograph": VideoGraph, "peer": VASNet, "mlp": MLPRegressor}
    for name in TRAINED_ROWS.values():
        cfg = load_config(CONFIG_DIR / name, TrainConfig)
        model = build_model(cfg, 24)
        assert isinstance(model, kinds[cfg.model]) and model.cfg.d_frame == 24, name


def test_a_recipe_width_that_disagrees_with_the_features_is_one_error():
    cfg = TrainConfig(videograph={"d_frame": 1024})
    assert build_model(cfg, 1024).cfg.d_frame == 1024
    with pytest.raises(UserError, match="videograph.d_frame: the recipe says 1024, the features are 2048 wide"):
        build_model(cfg, 2048)
    with pytest.raises(ValueError, match="bogus"):
        TrainConfig(videograph={"bogus": 1})


@pytest.mark.parametrize("kind", ["videograph", "peer", "mlp"])
def test_checkpoint_rebuilds_the_same_model_with_its_width(kind, tmp_path):
    cfg = TrainConfig(model=kind, videograph={"d_model": 16, "heads": 2, "refine_steps": 1},
                      peer={"d_model": 16}, mlp={"d_hidden": 8})
    torch.manual_seed(0)
    model = build_model(cfg, 12).eval()
    path = save_checkpoint(tmp_path / "m.pt", model, cfg, note="kept")
    blob = torch.load(path, weights_only=True)
    assert blob["note"] == "kept" and blob["d_frame"] == 12 and blob["config"][kind]["d_frame"] == 12
    again, cfg2 = load_checkpoint(path)
    assert type(again) is type(model) and again.cfg == model.cfg and cfg2.model == kind
    x, mask = torch.randn(2, 7, 12), torch.ones(2, 7, dtype=torch.bool)
    with torch.no_grad():
        assert torch.equal(again(x, mask), model(x, mask))


def _regression(seed: int, n: int = 12, steps: int = 10, dim: int = 6):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, steps, dim)).astype(np.float32)
    y = (1 / (1 + np.exp(-x[..., 0]))).astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(y)


def _fit(seed: int, steps: int | None = None):
    x, y = _regression(0)
    cfg = TrainConfig(model="mlp", mlp={"d_hidden": 16, "dropout": 0.0, "input_dropout": 0.0}, epochs=6,
                      batch_size=4, lr=1e-2, threads=1)
    mask = torch.ones(y.shape, dtype=torch.bool)

    def epoch_batches(rng):
        order = rng.permutation(len(x))
        for start in range(0, len(order), cfg.batch_size):
            yield order[start : start + cfg.batch_size]

    def batch_loss(model, picked):
        loss = ((model(x[picked], mask[picked]) - y[picked]) ** 2).mean()
        return loss, {"mse": float(loss.detach())}

    return fit(cfg, x.shape[-1], epoch_batches, batch_loss, seed=seed, progress=False, steps=steps)


def test_fit_learns_logs_each_epoch_and_is_deterministic_for_a_seed():
    model, curve = _fit(seed=0)
    assert not model.training and len(curve) == 6 and set(curve[0]) == {"loss", "mse"}
    assert curve[-1]["loss"] < 0.5 * curve[0]["loss"]
    again, curve_again = _fit(seed=0)
    assert curve_again == curve
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values(),
                                                 strict=True))
    _, other = _fit(seed=1)
    assert other != curve
    _, short = _fit(seed=0, steps=4)  # 3 batches per epoch: stops in the second epoch
    assert len(short) == 2 and short[0] == curve[0]


@pytest.mark.benchmark
def test_one_fold_trains_and_beats_random(shared_data, tmp_path):
    from vgsum.models.data.tvsum import load_splits, load_videos
    from vgsum.models.eval.protocol import mean_scores
    from vgsum.models.eval.table import score_videos
    from vgsum.models.train.loop import predict, train_model

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


@pytest.mark.benchmark
def test_title_row_conditions_the_scores_on_the_title(shared_data):
    """The title row's recipe trains end to end, and its scores change with the title it is given."""
    pytest.importorskip("transformers")
    import dataclasses

    from vgsum.models.data.tvsum import load_videos
    from vgsum.models.train.loop import predict, train_model

    videos = load_videos(shared_data / "benchmarks" / "tvsum" / "tvsum.h5", keys=[f"video_{i}" for i in range(1, 9)])
    keys = list(videos)
    cfg = TrainConfig(epochs=3, query="title", videograph={"refine_steps": 1, "d_model": 32, "query_film": True})
    model = train_model(cfg, videos, keys[:6], seed=0, progress=False)
    video = videos[keys[7]]
    own = predict(model, video, cfg)
    other = predict(model, dataclasses.replace(video, title="Dog Grooming in Buenos Aires"), cfg)
    assert own.shape == (video.n_steps,) and np.isfinite(own).all()
    assert np.abs(own - other).max() > 1e-4
