"""Pseudo-queries from what perception saw, and the term that teaches the refiner's language branch with them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vgsum.models.data.video_features import ClipFeatures
from vgsum.models.train.pseudo_queries import Concept, clip_concepts, embed_concepts
from vgsum.runtime.language.colour import COLOURS

LABELS = ["person", "bicycle", "car", "cell phone", "dog", "bus"]
RED, GREY, WHITE = (COLOURS.index(c) for c in ("red", "grey", "white"))


def hand_made_clip() -> ClipFeatures:
    """6 frames, 3 slots: a red car on 0-2 (sure), a faint car on 4 (under car's 0.5 bar), a grey person on 3-4,
    a "cell phone" on every frame at 0.4 (under the default 0.65 bar), a white car on frame 5 only (one frame)."""
    steps, n = 6, 3
    classes = np.zeros((steps, n), np.int64)
    scores = np.zeros((steps, n), np.float32)
    colours = np.full((steps, n), -1, np.int8)
    counts = np.zeros(steps, np.int64)

    def put(t: int, label: str, score: float, colour: int = -1) -> None:
        slot = int(counts[t])
        classes[t, slot], scores[t, slot], colours[t, slot] = LABELS.index(label), score, colour
        counts[t] += 1

    for t in range(3):
        put(t, "car", 0.8, RED)
    put(4, "car", 0.35, RED)
    for t in (3, 4):
        put(t, "person", 0.7, GREY)
    for t in range(steps):
        put(t, "cell phone", 0.4)
    put(5, "car", 0.9, WHITE)
    return ClipFeatures(
        name="hand.mp4", sha256="0" * 64, duration_s=3.0, times=np.arange(steps) / 2.0,
        frame_features=np.zeros((steps, 4), np.float32), object_features=np.zeros((steps, n, 8), np.float32),
        boxes=np.tile(np.array([0.1, 0.1, 0.5, 0.5], np.float32), (steps, n, 1)), classes=classes, scores=scores,
        counts=counts, colours=colours,
    )


def by_text(concepts: list[Concept]) -> dict[str, list[int]]:
    return {c.text: [int(v) for v in c.present] for c in concepts}


def test_concepts_follow_sure_detections_colours_kinds_and_absent_labels() -> None:
    def kinds(features: np.ndarray) -> list[str | None]:  # every sure object reads as a minivan
        return ["minivan"] * len(features)

    concepts = clip_concepts(hand_made_clip(), LABELS, kinds, np.random.default_rng(0), negatives=10)
    found = by_text(concepts)
    car = [1, 1, 1, 0, 0, 1]  # the faint car of frame 4 is under the bar; the white car of frame 5 is sure
    assert found["a car"] == found["car"] == found["the car"] == found["cars"] == car
    assert found["a red car"] == [1, 1, 1, 0, 0, 0]
    assert "a white car" not in found  # one frame is not enough to ask for
    assert found["a person"] == found["people"] == [0, 0, 0, 1, 1, 0]
    assert found["a grey person"] == [0, 0, 0, 1, 1, 0]
    assert found["a minivan"] == [1, 1, 1, 1, 1, 1]
    assert not any("cell phone" in text for text in found)  # never sure: neither a query nor a negative
    negatives = {c.text for c in concepts if c.negative}
    assert negatives == {"a bicycle", "a dog", "a bus"}  # labels never detected at any confidence, all of them


def test_negatives_are_drawn_from_the_rng_and_capped() -> None:
    clip = hand_made_clip()
    one = [c.text for c in clip_concepts(clip, LABELS, None, np.random.default_rng(3), negatives=1) if c.negative]
    assert len(one) == 1 and one[0] in {"a bicycle", "a dog", "a bus"}
    assert all(not c.text.startswith("a minivan") for c in clip_concepts(clip, LABELS, None))


def test_embedding_batches_every_distinct_text_once() -> None:
    calls: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return np.array([[len(t), 1.0] for t in texts], np.float32)

    concepts = [clip_concepts(hand_made_clip(), LABELS, None)] * 2
    vectors = embed_concepts(concepts, encode, batch=4)
    texts = {c.text for c in concepts[0]}
    assert set(vectors) == texts and sum(len(c) for c in calls) == len(texts) and max(len(c) for c in calls) <= 4
    assert vectors["a car"].tolist() == [5.0, 1.0]


torch = pytest.importorskip("torch")


def test_lift_loss_wants_a_margin_in_view_and_nothing_elsewhere() -> None:
    from vgsum.models.train.language_branch import MARGIN, OFF_WEIGHT, lift_loss

    plain = torch.full((1, 4), 0.5)
    present = torch.tensor([[True, True, False, False]])
    mask = torch.tensor([[True, True, True, False]])  # the last frame is padding: it never counts
    good = torch.tensor([[0.5 + MARGIN, 0.5 + 2 * MARGIN, 0.5, 0.9]])
    loss, on, off = lift_loss(good, plain, present, mask)
    assert float(loss) == pytest.approx(0.0, abs=1e-6)
    assert on == pytest.approx(1.5 * MARGIN) and off == pytest.approx(0.0)
    flat = torch.tensor([[0.5, 0.5, 0.6, 0.5]])  # no lift where it is, 0.1 where it is not
    loss, on, off = lift_loss(flat, plain, present, mask)
    assert float(loss) == pytest.approx(MARGIN + OFF_WEIGHT * 0.01) and off == pytest.approx(0.1)
    loss, on, _ = lift_loss(flat, plain, torch.zeros(1, 4, dtype=torch.bool), mask)  # a negative: only the still term
    assert np.isnan(on) and float(loss) == pytest.approx(OFF_WEIGHT * 0.01 / 3)


def test_with_query_appends_each_windows_vector_to_its_frames() -> None:
    from vgsum.models.train.language_branch import with_query

    inputs = {"query": torch.zeros(5, 2, 3), "query_mask": torch.tensor([[True, False]] * 5), "frame": torch.ones(5)}
    where = torch.tensor([0, 1, 2, 4, 5])  # windows of width 4: frames 0-2 in window 0, 4-5 in window 1
    vectors = torch.tensor([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    out = with_query(inputs, where, 4, vectors)
    assert out["query"].shape == (5, 3, 3) and out["query_mask"][:, 2].all()
    assert out["query"][:, 2, 0].tolist() == [1.0, 1.0, 1.0, 2.0, 2.0]
    assert out["frame"] is inputs["frame"] and inputs["query"].shape == (5, 2, 3)  # the plain pass is untouched


def test_pseudo_query_training_lifts_where_the_concept_is_on_real_features(
    bikes_features, footage_engines: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """bikes.mp4 through the real engines: its concepts become vectors of the real text engine, and training with
    them makes a query lift the scores of the frames that show its concept more than the others."""
    from text_engine_fixture import build_text_engine

    from vgsum.models.train.footage import FIELDS, clip_tensors, default_config, pseudo_queries, train_on_clips
    from vgsum.models.train.language_branch import with_query

    (clip,), _ = bikes_features
    text_folder = build_text_engine(tmp_path_factory).folder
    queries = pseudo_queries([clip], text_folder, seed=0)
    assert queries.counts["positive"] > 0 and queries.counts["negative"] > 0
    labels = np.load(footage_engines / "labels.npy")
    cfg = default_config(1280, clip.object_features.shape[2], labels.shape[1], seed=0, epochs=400)
    cfg = cfg.model_copy(update={"crop": 16, "batch_size": 4})
    tensors = [clip_tensors(clip, labels, cfg.videograph.max_objects)]
    model, curve = train_on_clips(cfg, tensors, progress=False, steps=300, queries=queries)
    assert {"pseudo_query", "lift_in_view"} <= set(curve[-1])
    assert curve[-1]["pseudo_query"] < curve[0]["pseudo_query"]
    # one window over the whole clip, with each concept that is in view on some frames but not all
    partial = [c for c in queries.concepts[0] if 0 < c.present.sum() < clip.steps]
    assert partial, [c.text for c in queries.concepts[0]]
    inputs = {f: getattr(tensors[0], f) for f in FIELDS}
    where = torch.arange(clip.steps)
    gaps = []
    with torch.no_grad():
        plain = model.frame(*(inputs[f] for f in FIELDS))
        for concept in partial:
            asked = with_query(inputs, where, clip.steps, torch.from_numpy(queries.vectors[concept.text])[None])
            nodes = model.frame(*(asked[f] for f in FIELDS))
            mask = torch.ones(1, clip.steps, dtype=torch.bool)
            lift = (model.window(nodes[None], mask) - model.window(plain[None], mask))[0].numpy()
            gaps.append(lift[concept.present].mean() - lift[~concept.present].mean())
    assert float(np.mean(gaps)) > 0.02, dict(zip([c.text for c in partial], gaps, strict=True))
