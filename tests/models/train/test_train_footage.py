"""Unsupervised training on real footage: features from the real perception engine, training, shipped weights.

The engines are the real exports, built once per session by the export tests' fixture
modules (shared, so the whole suite builds each engine once).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from perception_engine_fixture import build_perception_engine  # noqa: E402
from text_engine_fixture import build_text_engine  # noqa: E402

torch = pytest.importorskip("torch")

SHIPPED = Path(__file__).resolve().parents[3] / "runtime" / "assets" / "refiner"
HELD_OUT = "room-people-one-by-one.mp4"


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder holding the real perception engine and the text engine's labels.npy."""
    import shutil

    perception = build_perception_engine(tmp_path_factory)
    text = build_text_engine(tmp_path_factory)
    folder = tmp_path_factory.mktemp("train_engines")
    for path in (perception.onnx_path, perception.sidecar_path):
        (folder / path.name).symlink_to(path)
    shutil.copy(text.folder / "labels.npy", folder / "labels.npy")
    return folder


@pytest.fixture(scope="module")
def bikes_features(engines: Path, bikes_mp4: Path, tmp_path_factory: pytest.TempPathFactory):
    """bikes.mp4 through the real engine, extracted into a fresh cache; (clips, cache dir)."""
    from vgsum.models.data.video_features import extract_features

    cache = tmp_path_factory.mktemp("features")
    return extract_features([bikes_mp4], engines=engines, cache_dir=cache, progress=False), cache


def test_features_of_a_real_clip_are_consistent(bikes_features, bikes_mp4: Path, engines: Path) -> None:
    from vgsum.models.data.video_features import extract_features
    from vgsum.runtime.common.digest import sha256_of

    (clip,), cache = bikes_features
    T = clip.steps
    assert 19 <= T <= 21  # 10 s at 2 fps by timestamps
    assert np.all(np.diff(clip.times) > 0.45) and np.all(np.diff(clip.times) < 0.55)
    assert abs(clip.duration_s - 10.0) < 0.2
    assert clip.frame_features.shape == (T, 1280)
    N = clip.boxes.shape[1]
    assert clip.object_features.shape[:2] == (T, N) and clip.classes.shape == (T, N) and clip.counts.shape == (T,)
    assert np.isfinite(clip.frame_features).all() and np.isfinite(clip.object_features).all()
    assert clip.counts.sum() > 0 and clip.counts.max() <= N
    for t in range(T):  # rows past the count are zero, rows before it are real boxes
        n = clip.counts[t]
        assert not clip.object_features[t, n:].any() and not clip.scores[t, n:].any()
        assert (clip.boxes[t, :n, 2] >= clip.boxes[t, :n, 0]).all() and (clip.boxes[t, :n] >= -1e-3).all()
    assert clip.sha256 == sha256_of(bikes_mp4)
    assert {0, 2} <= set(clip.classes[clip.scores > 0].tolist())  # bikes.mp4 shows people (0) and cars (2)
    files = list(cache.glob("*.npz"))
    assert len(files) == 1
    (again,) = extract_features([bikes_mp4], engines=engines, cache_dir=cache, progress=False)  # from the cache
    np.testing.assert_array_equal(again.frame_features, clip.frame_features)
    np.testing.assert_array_equal(again.classes, clip.classes)


def test_unreadable_file_is_skipped_with_one_warning(bikes_features, tmp_path: Path, engines, capsys) -> None:
    from vgsum.models.data.video_features import extract_features

    bad = tmp_path / "not-a-video.mp4"
    bad.write_bytes(b"this is not a video")
    clips = extract_features([bad], engines=engines, cache_dir=tmp_path / "cache", progress=False)
    assert clips == []
    lines = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(lines) == 1 and "not-a-video.mp4" in lines[0]


def test_training_steps_reduce_the_unsupervised_loss(bikes_features, engines: Path) -> None:
    from vgsum.models.train.footage import clip_tensors, default_config, evaluate_loss, score_clip, train_on_clips

    (clip,), _ = bikes_features
    labels = np.load(engines / "labels.npy")
    cfg, d_frame = default_config(1280, clip.object_features.shape[2], labels.shape[1], seed=0, epochs=30)
    cfg = cfg.model_copy(update={"crop": 16, "batch_size": 4})
    tensors = [clip_tensors(clip, labels, cfg.videograph.max_objects)]
    assert tensors[0].query_mask.any()  # word-level queries from the detected labels
    untrained, _ = train_on_clips(cfg, d_frame, tensors, progress=False, steps=0)
    before = evaluate_loss(untrained, cfg, tensors)
    model, curve = train_on_clips(cfg, d_frame, tensors, progress=False, steps=25)
    after = evaluate_loss(model, cfg, tensors)
    assert after < before * 0.9, (before, after, curve[-1])
    scores = score_clip(model, tensors[0], window=16, stride=4)
    assert scores.shape == (clip.steps,) and np.isfinite(scores).all()
    assert (scores >= 0).all() and (scores <= 1).all() and scores.std() > 0
    again, _ = train_on_clips(cfg, d_frame, tensors, progress=False, steps=25)  # deterministic with the seed
    np.testing.assert_allclose(score_clip(again, tensors[0], window=16, stride=4), scores, atol=1e-5)


def test_cli_trains_and_writes_checkpoint_and_record(bikes_features, bikes_mp4: Path, engines, tmp_path) -> None:
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
        str(engines),
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


def test_sampling_follows_timestamps_not_the_wrong_frame_rate_tag(shared_data: Path) -> None:
    """sam2-04-coffee.mp4's avg_frame_rate tag reads 1.79 (CREDITS.md) but it runs ~30 fps for 9.6 s: 2 fps by
    timestamp gives ~20 frames half a second apart."""
    from vgsum.models.data.video_features import decode_sampled

    clip = shared_data / "footage" / "sam2-04-coffee.mp4"
    frames, times, duration = decode_sampled(clip, 2.0)
    assert 19 <= len(frames) <= 20 and abs(duration - 9.58) < 0.2
    assert np.allclose(np.diff(times), 0.5, atol=0.05)
    assert frames[0].shape == (720, 1280, 3) and frames[0].dtype == np.uint8
