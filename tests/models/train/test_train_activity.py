"""The activity recipe: the live background model teaches VideoGraph on a real clip; the result exports and runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")


def _recipe(spatial: bool = True, word_queries: bool = True):
    from vgsum.models.train.loop import LossWeights, TrainConfig
    from vgsum.models.videograph import VideoGraphConfig

    shape = VideoGraphConfig(d_frame=1280, d_object=1392, spatial=spatial, word_queries=word_queries, refine_steps=2)
    return TrainConfig(name="activity-test", mode="supervised", videograph=shape, loss=LossWeights(mse=1.0, rank=0.5),
                       epochs=40, batch_size=4, crop=16, normalise="none", seed=0, threads=1)


def test_teacher_is_the_live_activity_signal(bikes_features, bikes_mp4: Path, tmp_path: Path) -> None:
    from vgsum.models.eval.baselines import sampled_frames
    from vgsum.models.train.activity import teacher_for
    from vgsum.runtime.summary.foreground import ForegroundModel

    (clip,), _ = bikes_features
    target = teacher_for(bikes_mp4, clip, cache_dir=tmp_path)
    assert target.shape == (clip.steps,) and target[0] == 0.0  # the background model's first frame scores 0
    live = ForegroundModel(2.0)
    expected = [live.update(rgb) * (0.5 + 0.5 * live.motion) for _, rgb in sampled_frames(bikes_mp4)]
    np.testing.assert_allclose(target, expected[: clip.steps], atol=1e-6)
    assert target.max() > 0.3  # bikes.mp4 has hard cuts and moving cyclists: the teacher is not silent
    np.testing.assert_array_equal(teacher_for(bikes_mp4, clip, cache_dir=tmp_path), target)  # from the cache


def test_training_fits_the_teacher_and_the_checkpoint_exports(bikes_features, bikes_mp4: Path, footage_engines: Path,
                                                              tmp_path: Path) -> None:
    from vgsum.export.refiner.engine import export_refiner_engine
    from vgsum.models.train.activity import evaluate, teacher_for, train_on_teacher
    from vgsum.models.train.footage import clip_tensors, score_clip
    from vgsum.models.train.loop import load_checkpoint, save_checkpoint
    from vgsum.runtime.engines.refiner import RefinerEngines

    (clip,), _ = bikes_features
    labels = np.load(footage_engines / "labels.npy")
    cfg = _recipe()
    tensors = [clip_tensors(clip, labels, cfg.videograph.max_objects)]
    targets = [teacher_for(bikes_mp4, clip, cache_dir=tmp_path / "teacher")]
    untrained, _ = train_on_teacher(cfg, tensors, targets, progress=False, steps=0)
    before = evaluate(untrained, cfg, tensors, targets)
    model, curve = train_on_teacher(cfg, tensors, targets, progress=False, steps=40)
    after = evaluate(model, cfg, tensors, targets)
    assert after["loss"] < before["loss"] * 0.7, (before, after)
    assert after["pearson"] > 0.5, after
    assert set(curve[0]) == {"loss", "mse", "rank"} and curve[-1]["loss"] < curve[0]["loss"]

    path = save_checkpoint(tmp_path / "run" / "refiner.pt", model, cfg, record={"recipe": "test"}, window=64)
    loaded, loaded_cfg = load_checkpoint(path)
    assert loaded_cfg.mode == "supervised" and loaded.cfg.word_queries and loaded.cfg.refine_steps == 2
    export_refiner_engine(tmp_path / "engines", checkpoint=path)  # raises past the ONNX-vs-torch tolerance
    engines = RefinerEngines.load(tmp_path / "engines")
    assert engines.trained and engines.spatial
    t = tensors[0]
    with torch.no_grad():
        nodes = loaded.frame(t.frame, t.objects, t.boxes, t.classes, t.object_mask, t.query, t.query_mask).numpy()
    scores = engines.scores(nodes)
    np.testing.assert_allclose(scores, score_clip(loaded, t, window=clip.steps, stride=clip.steps), atol=1e-4)


def test_nolabels_model_ignores_the_queries_it_is_fed() -> None:
    from vgsum.models.videograph import VideoGraph

    torch.manual_seed(0)
    model = VideoGraph(_recipe(word_queries=False).videograph).eval()
    frame, objects = torch.randn(3, 1280), torch.randn(3, 16, 1392)
    boxes, classes = torch.rand(3, 16, 4).sort(-1).values, torch.randint(0, 80, (3, 16))
    object_mask = torch.rand(3, 16) < 0.6
    query = torch.randn(3, 4, 384)
    with torch.no_grad():
        fed = model.frame(frame, objects, boxes, classes, object_mask, query, torch.ones(3, 4, dtype=torch.bool))
        none = model.frame(frame, objects, boxes, classes, object_mask, query, torch.zeros(3, 4, dtype=torch.bool))
    torch.testing.assert_close(fed, none)
    model.cfg = model.cfg.model_copy(update={"word_queries": True})  # the same weights, listening to the queries
    with torch.no_grad():
        listening = model.frame(frame, objects, boxes, classes, object_mask, query, torch.ones(3, 4, dtype=torch.bool))
    assert not torch.allclose(listening, none)


def test_a_stream_with_a_left_out_clip_is_one_user_error(shared_data: Path) -> None:
    from vgsum.models.train.activity import ActivityData, stream_paths
    from vgsum.runtime.common.errors import UserError

    with pytest.raises(UserError, match="leaves it out"):
        stream_paths(["sparse-long-room"], ActivityData())  # room-people-one-by-one.mp4 is held out
    with pytest.raises(UserError, match="unknown event-stream recipe"):
        stream_paths(["nope"], ActivityData())
