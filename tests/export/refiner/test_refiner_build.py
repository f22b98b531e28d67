"""The refiner exports to ONNX with dynamic lengths, and ONNX Runtime matches the model's own two halves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from vgsum.export.refiner.build import check_refiner_parity, export_refiner, frame_inputs, window_inputs
from vgsum.models.train.loop import TrainConfig, build_model, save_checkpoint


def _spatial_checkpoint(path: Path, seed: int) -> tuple[Path, torch.nn.Module]:
    """A small live-shaped VideoGraph (spatial branch on) saved as a training checkpoint."""
    cfg = TrainConfig(mode="unsupervised", videograph={"spatial": True, "d_model": 32, "heads": 2, "d_object": 24,
                                                       "d_lang": 12, "n_classes": 5, "refine_steps": 2})
    torch.manual_seed(seed)
    model = build_model(cfg, 20).eval()
    with torch.no_grad():  # a trained-looking distance bias, so the window graph depends on it
        model.distance_bias.weight.normal_()
    return save_checkpoint(path, model, cfg), model


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> tuple[Path, torch.nn.Module]:
    return _spatial_checkpoint(tmp_path_factory.mktemp("ckpt") / "small.pt", seed=0)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, checkpoint) -> dict[str, Path]:
    return export_refiner(tmp_path_factory.mktemp("refiner"), checkpoint[0])


def _session(path: Path):
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_export_keeps_lengths_dynamic(exported):
    window = onnx.load(str(exported["window"]))
    dims = [[d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in window.graph.input]
    assert all(isinstance(d, str) for d in dims[0][:2])  # batch and window are symbolic, not the example's 2/16
    frame = onnx.load(str(exported["frame"]))
    objects = [i for i in frame.graph.input if i.name == "objects"][0]
    assert objects.type.tensor_type.shape.dim[1].dim_param  # the object count is symbolic too


def test_onnx_runtime_matches_the_models_frame_and_window(exported, checkpoint):
    """ONNX Runtime against `model.frame` and `model.window` called directly, at lengths, batch sizes and object
    counts other than the export example's (2, 16, 7), with padding and a frame without objects or queries."""
    _, model = checkpoint
    frame_graph, window_graph = _session(exported["frame"]), _session(exported["window"])
    with torch.no_grad():
        for w, b in ((5, 1), (37, 3), (100, 2)):
            x = window_inputs(model.cfg, b, w, seed=w)
            ref = model.window(torch.from_numpy(x["nodes"]), torch.from_numpy(x["mask"])).numpy()
            np.testing.assert_allclose(window_graph.run(None, x)[0], ref, atol=1e-5)
        for n, q in ((3, 1), (11, 9)):
            x = frame_inputs(model.cfg, 3, n, q, seed=n, empty_rows=(1,))
            ref = model.frame(*(torch.from_numpy(v) for v in x.values())).numpy()
            got = frame_graph.run(None, x)[0]
            assert np.isfinite(got).all()
            np.testing.assert_allclose(got, ref, atol=1e-5)


def test_parity_check_passes_the_export_and_catches_other_weights(exported, checkpoint, tmp_path):
    assert check_refiner_parity(exported, checkpoint=checkpoint[0]) < 1e-4
    other, _ = _spatial_checkpoint(tmp_path / "other.pt", seed=1)
    assert check_refiner_parity(exported, checkpoint=other) > 1e-2  # the graphs are not those weights


def test_untrained_export_takes_the_perception_engines_widths(tmp_path):
    from vgsum.export.perception.graph import object_feature_dim
    from vgsum.export.perception.parts import EFFNET_HEAD_CHANNELS

    paths = export_refiner(tmp_path)
    inputs = {i.name: i.type.tensor_type.shape.dim[-1].dim_value for i in onnx.load(str(paths["frame"])).graph.input}
    assert inputs["frame_feature"] == EFFNET_HEAD_CHANNELS and inputs["objects"] == object_feature_dim()
    assert check_refiner_parity(paths) < 1e-4


def test_a_title_query_benchmark_model_is_refused_with_one_line(tmp_path):
    from vgsum.runtime.common.errors import UserError

    cfg = TrainConfig(query="title", videograph={"query_film": True, "d_model": 16, "refine_steps": 1})
    path = save_checkpoint(tmp_path / "title.pt", build_model(cfg, 8), cfg)
    with pytest.raises(UserError, match="no live form"):
        export_refiner(tmp_path / "out", path)
