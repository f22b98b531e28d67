"""The refiner exports to ONNX with dynamic lengths, and ONNX Runtime matches torch."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from vgsum.export.refiner.build import check_refiner_parity, export_refiner


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return export_refiner(tmp_path_factory.mktemp("refiner"))


def test_export_keeps_lengths_dynamic(exported):
    window = onnx.load(str(exported["window"]))
    dims = [[d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in window.graph.input]
    assert all(isinstance(d, str) for d in dims[0][:2])  # batch and window are symbolic, not the example's 2/16
    frame = onnx.load(str(exported["frame"]))
    objects = [i for i in frame.graph.input if i.name == "objects"][0]
    assert objects.type.tensor_type.shape.dim[1].dim_param  # the object count is symbolic too


def test_onnx_runtime_matches_torch_at_other_lengths_with_padding(exported):
    # windows 5, 23, 37, 64, 100 (example 16), batch 1 and 3 with a half-padded row;
    # frames with 3, 11, 16 objects (example 7), one frame with zero objects and no query
    error = check_refiner_parity(exported)
    assert np.isfinite(error) and error < 1e-4


def test_a_title_query_benchmark_model_is_refused_with_one_line(tmp_path):
    from vgsum.export.refiner.build import export_refiner
    from vgsum.models.train.loop import TrainConfig, build_model, save_checkpoint
    from vgsum.runtime.common.errors import UserError

    cfg = TrainConfig(query="title", videograph={"query_film": True, "d_model": 16, "refine_steps": 1})
    path = save_checkpoint(tmp_path / "title.pt", build_model(cfg, 8), cfg)
    with pytest.raises(UserError, match="no live form"):
        export_refiner(tmp_path / "out", path)
