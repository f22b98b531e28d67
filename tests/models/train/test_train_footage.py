"""Unsupervised training on real footage: real engine features, the shared training loop, the shipped weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

SHIPPED = Path(__file__).resolve().parents[3] / "runtime" / "assets" / "refiner"
HELD_OUT = "room-people-one-by-one.mp4"


def test_training_steps_reduce_the_unsupervised_loss(bikes_features, footage_engines: Path) -> None:
    from vgsum.models.train.footage import clip_tensors, default_config, evaluate_loss, score_clip, train_on_clips

    (clip,), _ = bikes_features
    labels = np.load(footage_engines / "labels.npy")
    cfg = default_config(1280, clip.object_features.shape[2], labels.shape[1], seed=0, epochs=30)
    cfg = cfg.model_copy(update={"crop": 16, "batch_size": 4})
    tensors = [clip_tensors(clip, labels, cfg.videograph.max_objects)]
    assert tensors[0].query_mask.any()  # word-level queries from the detected labels
    untrained, curve = train_on_clips(cfg, tensors, progress=False, steps=0)
    assert curve == []
    before = evaluate_loss(untrained, cfg, tensors)
    model, curve = train_on_clips(cfg, tensors, progress=False, steps=25)
    after = evaluate_loss(model, cfg, tensors)
    assert after < before * 0.9, (before, after, curve[-1])
    # the curve logs the loss and each of its terms, per epoch (3 windows of 16 steps: one batch per epoch)
    assert len(curve) == 25 and set(curve[0]) == {"loss", "representativeness", "sparsity", "diversity"}
    assert curve[-1]["loss"] < curve[0]["loss"]
    scores = score_clip(model, tensors[0], window=16, stride=4)
    assert scores.shape == (clip.steps,) and np.isfinite(scores).all()
    assert (scores >= 0).all() and (scores <= 1).all() and scores.std() > 0
    again, _ = train_on_clips(cfg, tensors, progress=False, steps=25)  # deterministic with the seed
    np.testing.assert_allclose(score_clip(again, tensors[0], window=16, stride=4), scores, atol=1e-5)


def test_cli_trains_and_writes_checkpoint_and_record(bikes_features, bikes_mp4: Path, footage_engines,
                                                     tmp_path) -> None:
    from vgsum.models.train.footage import main
    from vgsum.models.train.loop import load_checkpoint

    _, cache = bikes_features
    argv = [
        "--unsupervised",
        "--videos",
        str(bikes_mp4),
        "--out",
        str(tmp_path / "run"),
        "--engines",
        str(footage_engines),
        "--cache",
        str(cache),
        "--epochs",
        "2",
        "--quiet",
    ]
    assert main(argv) == 0
    record = json.loads((tmp_path / "run" / "record.json").read_text())
    assert [c["file"] for c in record["clips"]] == ["bikes.mp4"] and record["clips"][0]["rating"] == "A"
    assert record["command"].startswith("vgsum train --unsupervised --videos")
    model, cfg = load_checkpoint(tmp_path / "run" / "refiner.pt")
    assert cfg.mode == "unsupervised" and cfg.videograph.spatial and model.cfg.d_frame == 1280
    assert cfg.videograph.d_frame == 1280 and len(record["loss_curve"]) == 2


def test_bad_input_is_one_user_error(tmp_path: Path) -> None:
    from vgsum.models.train.footage import main
    from vgsum.runtime.common.errors import UserError

    with pytest.raises(UserError, match="no such file"):
        main(["--unsupervised", "--videos", str(tmp_path / "missing")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no videos"):
        main(["--unsupervised", "--videos", str(tmp_path / "empty")])


def test_shipped_checkpoint_loads_with_config_and_holds_out_the_test_clip() -> None:
    from vgsum.models.train.loop import load_checkpoint
    from vgsum.models.videograph import VideoGraph

    path = SHIPPED / "refiner.pt"
    assert path.is_file(), "runtime/assets/refiner/refiner.pt is missing"
    assert path.stat().st_size < 5_000_000
    model, cfg = load_checkpoint(path)
    assert isinstance(model, VideoGraph) and cfg.mode == "unsupervised"
    assert cfg.videograph.spatial and model.cfg.d_frame == 1280 and model.cfg.d_lang == 384
    blob = torch.load(path, map_location="cpu", weights_only=True)
    assert blob["config"]["videograph"]["spatial"] is True
    # every shape key the checkpoint states is the model's (keys it lacks take VideoGraphConfig's defaults)
    stated = blob["config"]["videograph"]
    assert {k: getattr(model.cfg, k) for k in stated} == stated and model.cfg.d_frame == blob["d_frame"]
    assert set(model.state_dict()) == set(blob["state_dict"])  # and the weights loaded strictly, every one
    record = json.loads((SHIPPED / "record.json").read_text())
    assert blob["record"]["command"] == record["command"]
    files = [c["file"] for c in record["clips"]]
    assert HELD_OUT not in files and len(files) >= 10
    assert all(c["rating"] == "A" or c["rating"] == "A-" for c in record["clips"])
    assert len({c["sha256"] for c in record["clips"]}) == len(files)
    # a forward pass on an empty-object window gives scores in [0, 1]
    T, N = 8, model.cfg.max_objects
    with torch.no_grad():
        nodes = model.frame(
            torch.randn(T, 1280).abs(),
            torch.zeros(T, N, model.cfg.d_object),
            torch.zeros(T, N, 4),
            torch.zeros(T, N, dtype=torch.long),
            torch.zeros(T, N, dtype=torch.bool),
            torch.zeros(T, 1, 384),
            torch.zeros(T, 1, dtype=torch.bool),
        )
        scores = model.window(nodes[None], torch.ones(1, T, dtype=torch.bool))
    assert torch.isfinite(scores).all() and (scores >= 0).all() and (scores <= 1).all()


def test_rating_filter_keeps_a_clips_and_drops_b_and_held_out(shared_data: Path) -> None:
    from vgsum.models.train.footage import licence_of, select_videos

    chosen = select_videos([str(shared_data / "videos"), str(shared_data / "footage")], [HELD_OUT], "A", False)
    names = {p.name for p in chosen}
    assert HELD_OUT not in names and "parking-lot-cars.mp4" in names and "mdn-flower-timelapse.mp4" in names
    assert "tracktor-mouse-arena.mp4" not in names and "sam2-bedroom.mp4" not in names  # rated B
    assert licence_of(shared_data / "footage" / "sam2-01-dog.mp4").rating == "A-"
    assert licence_of(shared_data / "footage" / "bgslibrary-highway-cam.avi").rating == "B"
    assert licence_of(shared_data / "videos" / "parking-lot-cars.mp4").licence == "CC BY 4.0"
    everything = select_videos([str(shared_data / "footage")], [], None, False)
    assert len(everything) == 16
