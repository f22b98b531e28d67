"""The perception engine's features, parity and sidecar, on real frames of bikes.mp4."""

from __future__ import annotations

import json

import numpy as np
import pytest
from perception_engine_fixture import build_perception_engine, frames_at

from vgsum.runtime.engines.perception import PerceptionEngine

SHOT_CUTS_S = (1.20, 3.04, 5.48, 7.48, 9.68)  # bikes.mp4 hard cuts


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    return build_perception_engine(tmp_path_factory)


@pytest.fixture(scope="session")
def engine(built) -> PerceptionEngine:
    return PerceptionEngine.load(built.onnx_path.parent, device="cpu", threads=2)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_sidecar_describes_the_real_engine(built):
    import onnxruntime as ort

    sidecar = json.loads(built.sidecar_path.read_text())
    session = ort.InferenceSession(str(built.onnx_path), providers=["CPUExecutionProvider"])
    for declared, real in ((sidecar["inputs"], session.get_inputs()), (sidecar["outputs"], session.get_outputs())):
        assert [d["name"] for d in declared] == [r.name for r in real]
        for d, r in zip(declared, real, strict=True):
            assert d["shape"] == list(r.shape)
            assert (
                r.type == {"uint8": "tensor(uint8)", "float32": "tensor(float)", "int64": "tensor(int64)"}[d["dtype"]]
            )
    assert sidecar["inputs"][0] == {"name": "frames", "shape": ["batch", "height", "width", 3], "dtype": "uint8"}
    assert len(sidecar["class_names"]) == 80 and sidecar["class_names"][:3] == ["person", "bicycle", "car"]
    assert {s["licence"].split()[0] for s in sidecar["sources"]} == {"MIT", "Apache-2.0"}
    assert sidecar["parity"] and all(p["value"] <= p["tolerance"] for p in sidecar["parity"])
    # every real output row is described by the engine's own shapes
    out = session.run(None, {"frames": np.zeros((2, 100, 150, 3), np.uint8)})
    dims = {"batch": 2}
    for spec, value in zip(sidecar["outputs"], out, strict=True):
        assert list(value.shape) == [dims.get(d, d) for d in spec["shape"]]


def test_parity_with_reference_on_other_frames(built, bikes_mp4):
    """Re-run the export's stage-wise parity check on the shipped file, on frames it did not use."""
    import onnx

    from vgsum.export.perception.build import check_parity
    from vgsum.export.perception.graph import PerceptionConfig

    sidecar = json.loads(built.sidecar_path.read_text())
    cfg = PerceptionConfig(**sidecar["extra"]["config"])
    model = onnx.load(str(built.onnx_path))
    frames = frames_at(bikes_mp4, (0.5, 3.5, 5.25))
    results = check_parity(model, sidecar["extra"]["taps"], cfg, frames)
    assert len(results) == 5
    for parity in results:
        assert parity.value <= parity.tolerance, parity


def test_batch_of_four_equals_one_by_one(engine, bikes_mp4):
    frames = frames_at(bikes_mp4, (1.25, 4.75, 6.25, 7.75))
    together = engine.run_batch(frames)
    for row in range(len(frames)):
        alone = engine.run_batch(frames[row : row + 1])
        for name, value in alone.items():
            np.testing.assert_allclose(together[name][row], value[0], atol=1e-4, err_msg=name)


def test_object_features_stable_and_changed_by_a_shifted_crop(engine, bikes_mp4):
    frame = frames_at(bikes_mp4, (4.75,))[0]  # cyclist on a bicycle, middle right
    crop = frame[:, 160:]
    shifted = frame[:, 96:-64]  # same size, content 64 px further right
    first, again, moved = engine([crop, crop.copy(), shifted])
    assert first.count > 0
    np.testing.assert_array_equal(first.object_features, again.object_features)
    np.testing.assert_array_equal(first.boxes, again.boxes)
    # match the cyclist in both crops: same label, box shifted by 64 px
    person = first.boxes[first.labels.index("person")]
    expected = person + np.array([64, 0, 64, 0]) / crop.shape[1]
    candidates = [i for i, label in enumerate(moved.labels) if label == "person"]
    assert candidates, moved.labels
    index = min(candidates, key=lambda i: np.abs(moved.boxes[i] - expected).sum())
    assert np.abs(moved.boxes[index] - expected).max() < 0.05, "the same cyclist, moved"
    similarity = _cos(first.object_features[first.labels.index("person")], moved.object_features[index])
    assert similarity < 0.9999, "moving the object in the frame changes its feature"
    assert similarity > 0.7, "but it is still the same object"
    bicycle = first.object_features[first.labels.index("bicycle")]
    assert _cos(first.object_features[first.labels.index("person")], bicycle) < similarity


def test_frame_features_closer_within_a_shot_than_across(engine, bikes_mp4):
    # two frames inside each of four shots
    pairs = [(1.5, 2.7), (3.3, 5.1), (5.7, 7.2), (7.7, 9.4)]
    times = tuple(t for pair in pairs for t in pair)
    features = [f.frame_feature for f in engine(frames_at(bikes_mp4, times))]
    shot = [sum(t > cut for cut in SHOT_CUTS_S) for t in times]
    within = [
        _cos(features[i], features[j])
        for i in range(len(times))
        for j in range(i + 1, len(times))
        if shot[i] == shot[j]
    ]
    across = [
        _cos(features[i], features[j])
        for i in range(len(times))
        for j in range(i + 1, len(times))
        if shot[i] != shot[j]
    ]
    assert len(within) == 4 and len(across) == 24
    assert min(within) > max(across), (within, across)


def test_frames_of_several_sizes_in_one_call(engine, bikes_mp4):
    frame = frames_at(bikes_mp4, (4.75,))[0]
    small = frame[::2, ::2].copy()
    out = engine([frame, small, frame])
    assert out[0].labels == out[2].labels
    np.testing.assert_array_equal(out[0].frame_feature, out[2].frame_feature)
    assert "person" in out[1].labels
    assert engine.provider == "CPUExecutionProvider"


def test_parity_check_catches_an_engine_that_differs(built, bikes_mp4):
    """A reference with another score threshold must be flagged: the check can fail."""
    import dataclasses

    import onnx

    from vgsum.export.perception.build import check_parity
    from vgsum.export.perception.graph import PerceptionConfig

    sidecar = json.loads(built.sidecar_path.read_text())
    cfg = dataclasses.replace(PerceptionConfig(**sidecar["extra"]["config"]), score_threshold=0.12)
    results = check_parity(
        onnx.load(str(built.onnx_path)), sidecar["extra"]["taps"], cfg, frames_at(bikes_mp4, (6.25,))
    )
    assert any(p.value > p.tolerance for p in results)


def test_export_rejects_unknown_precision(tmp_path):
    from vgsum.export.perception.build import export_perception
    from vgsum.runtime.common.errors import UserError

    with pytest.raises(UserError, match="precision"):
        export_perception(tmp_path, precision="int4")
