"""Pseudo-queries: what a viewer might type, made from what perception saw, to teach the refiner's language branch.

Live, a viewer's query reaches the refiner as one more sentence vector beside the
word-level label queries (`runtime/live/stream.py`), but the shipped refiner was trained
with label queries only, so a sentence it never saw changes its score by chance. Here
each clip's detections become query texts with the frames they are true on:

- a detected label ("a car", "cars", "the person"), true where an object of that label is
  seen surely (its confidence at the live noise filter's sure bar);
- a colour and a label ("a red car"), true where such an object's box reads that colour
  (`runtime.language.colour`, as the live matcher reads it);
- an ImageNet kind of the appearance head ("a minivan"), true where an object's top kind
  holds at least `KIND_MASS`;
- a negative: a label never detected in the clip at any confidence, true nowhere.

No hand-made label enters: the texts come from the engines' own outputs, so training on
footage stays self-supervised, and a camera owner can run it on their own footage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from vgsum.models.data.video_features import ClipFeatures
from vgsum.runtime.language.colour import COLOURS
from vgsum.runtime.language.looks import KIND_MASS
from vgsum.runtime.language.persistence import FilterSettings
from vgsum.runtime.language.vocabulary import plural

MIN_FRAMES = 2  # a concept seen on fewer frames of a clip is noise, not something to ask for
LABEL_TEMPLATES = ("a {}", "{}", "the {}", "{plural}")
IRREGULAR_PLURALS = {"person": "people", "mouse": "mice", "sheep": "sheep", "skis": "skis", "scissors": "scissors"}


@dataclass(frozen=True)
class Concept:
    """One pseudo-query of one clip: its text and the frames it is true on ([T] bool; all False: a negative)."""

    text: str
    present: np.ndarray

    @property
    def negative(self) -> bool:
        return not bool(self.present.any())


def sure_objects(clip: ClipFeatures, labels: Sequence[str], settings: FilterSettings | None = None) -> np.ndarray:
    """[T,N] bool: real objects whose confidence reaches their label's sure bar (the live filter's one-frame rule)."""
    settings = settings or FilterSettings()
    bars = np.array([settings.sure.get(name, settings.default_sure) for name in labels], np.float32)
    n = clip.classes.shape[1]
    real = np.arange(n)[None, :] < clip.counts[:, None]
    return real & (clip.scores >= bars[clip.classes])


def clip_concepts(
    clip: ClipFeatures,
    labels: Sequence[str],
    kinds: Callable[[np.ndarray], list[str | None]] | None = None,
    rng: np.random.Generator | None = None,
    negatives: int = 4,
) -> list[Concept]:
    """Every pseudo-query of a clip: labels (each template), colour + label, ImageNet kinds, and negatives.

    `kinds` names the top kind of object features [n, D] (None below KIND_MASS); without it no kind queries.
    """
    rng = rng or np.random.default_rng(0)
    sure = sure_objects(clip, labels)
    concepts: list[Concept] = []

    def add(text: str, present: np.ndarray) -> None:
        if int(present.sum()) >= MIN_FRAMES:
            concepts.append(Concept(text, present))

    for class_id in np.unique(clip.classes[sure]):
        name = labels[int(class_id)]
        of_class = sure & (clip.classes == class_id)
        present = of_class.any(1)
        for template in LABEL_TEMPLATES:
            add(template.format(name, plural=IRREGULAR_PLURALS.get(name) or plural(name)), present)
        if clip.colours is not None:
            for colour in np.unique(clip.colours[of_class]):
                if colour >= 0:
                    add(f"a {COLOURS[int(colour)]} {name}", (of_class & (clip.colours == colour)).any(1))
    if kinds is not None and sure.any():
        t_index, n_index = np.nonzero(sure)
        named = kinds(clip.object_features[t_index, n_index])
        by_kind: dict[str, np.ndarray] = {}
        for t, kind in zip(t_index, named, strict=True):
            if kind is not None:
                by_kind.setdefault(kind, np.zeros(clip.steps, bool))[t] = True
        for kind, present in by_kind.items():
            add(f"a {kind}", present)
    seen = {labels[int(c)] for t, row in enumerate(clip.classes) for c in row[: int(clip.counts[t])]}
    absent = [name for name in labels if name not in seen]
    for name in rng.choice(absent, size=min(negatives, len(absent)), replace=False):
        concepts.append(Concept(f"a {name}", np.zeros(clip.steps, bool)))
    return concepts


def kind_namer(head) -> Callable[[np.ndarray], list[str | None]]:
    """Top ImageNet kind (its first name: "minivan" of "minivan") of object features, or None under KIND_MASS."""

    def name(features: np.ndarray) -> list[str | None]:
        tops = head.top_k(features, k=1)
        return [kind.split(",")[0].strip() if mass >= KIND_MASS else None for ((kind, mass),) in tops]

    return name


def embed_concepts(concepts: Sequence[Sequence[Concept]], encode: Callable[[list[str]], np.ndarray],
                   batch: int = 64) -> dict[str, np.ndarray]:
    """text -> its text-engine vector, for every distinct text of every clip's concepts (batched)."""
    texts = sorted({c.text for clip in concepts for c in clip})
    vectors: dict[str, np.ndarray] = {}
    for start in range(0, len(texts), batch):
        chunk = texts[start : start + batch]
        for text, vector in zip(chunk, encode(chunk), strict=True):
            vectors[text] = np.asarray(vector, np.float32)
    return vectors
