"""The shipped refiner weights load, export and run in ONNX Runtime as the torch model computes them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vgsum.export.refiner.build import frame_inputs, window_inputs
from vgsum.export.refiner.engine import MAX_ABS_DIFF, default_checkpoint, export_refiner_engine
from vgsum.runtime.common.digest import sha256_of
from vgsum.runtime.common.errors import UserError


@pytest.fixture(scope="module")
def shipped() -> Path:
    path = default_checkpoint()
    assert path is not None and path.is_file(), "runtime/assets/refiner/refiner.pt is missing"
    return path


@pytest.fixture(scope="module")
def sidecars(tmp_path_factory, shipped) -> dict[str, Path]:
    return export_refiner_engine(tmp_path_factory.mktemp("shipped_refiner"))  # the shipped weights by default


def test_sidecars_name_the_shipped_weights_and_their_parity(sidecars, shipped):
    for graph, path in sidecars.items():
        sidecar = json.loads(path.read_text())
        assert sidecar["engine"] == "refiner" and sidecar["extra"]["graph"] == graph
        assert sidecar["extra"]["trained"] is True
        assert [s["sha256"] for s in sidecar["sources"]] == [sha256_of(shipped)]
        (parity,) = sidecar["parity"]
        assert parity["metric"] == "max_abs_diff" and parity["value"] <= MAX_ABS_DIFF


def test_shipped_graphs_compute_what_the_shipped_model_computes(sidecars, shipped):
    """ONNX Runtime on the exported files against the checkpoint's own `frame` and `window`, at the live widths."""
    import onnxruntime as ort

    from vgsum.models.train.loop import load_checkpoint

    model, _ = load_checkpoint(shipped)
    cfg = model.cfg
    assert (cfg.d_frame, cfg.d_object, cfg.d_lang, cfg.d_model) == (1280, 1392, 384, 128)
    graphs = {}
    for graph, path in sidecars.items():
        onnx_file = path.parent / json.loads(path.read_text())["file"]
        graphs[graph] = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        x = frame_inputs(cfg, 4, cfg.max_objects, 3, seed=5, empty_rows=(2,))
        nodes = model.frame(*(torch.from_numpy(v) for v in x.values())).numpy()
        np.testing.assert_allclose(graphs["frame"].run(None, x)[0], nodes, atol=MAX_ABS_DIFF)
        for w in (64, 23):  # the live window, and a short buffer with a half-padded row
            x = window_inputs(cfg, 2, w, seed=w)
            scores = model.window(torch.from_numpy(x["nodes"]), torch.from_numpy(x["mask"])).numpy()
            got = graphs["window"].run(None, x)[0]
            np.testing.assert_allclose(got, scores, atol=MAX_ABS_DIFF)
            assert (got[1, w // 2 :] == 0).all() and (got >= 0).all() and (got <= 1).all()


def test_untrained_and_a_checkpoint_exclude_each_other(tmp_path, shipped):
    with pytest.raises(UserError, match="exclude each other"):
        export_refiner_engine(tmp_path, checkpoint=shipped, untrained=True)
    assert list(tmp_path.iterdir()) == []
