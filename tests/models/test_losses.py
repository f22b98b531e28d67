"""Loss terms on hand-made inputs with known values."""

from __future__ import annotations

import pytest
import torch

from vgsum.models import losses


def test_loss_terms_known_values():
    mask = torch.tensor([[True, True, True, False]])
    scores = torch.tensor([[0.2, 0.2, 0.2, 0.9]])
    assert losses.sparsity(scores, mask, 0.15).item() == pytest.approx(0.05)
    assert losses.importance_mse(scores, torch.tensor([[0.2, 0.2, 0.0, 5.0]]), mask).item() == pytest.approx(0.04 / 3)
    # ranking: target order 0 > 1, scores reversed -> positive hinge; right order with margin -> zero
    t = torch.tensor([[1.0, 0.0]])
    m2 = torch.ones(1, 2, dtype=torch.bool)
    assert losses.ranking_hinge(torch.tensor([[0.1, 0.5]]), t, m2).item() == pytest.approx(0.45)
    assert losses.ranking_hinge(torch.tensor([[0.9, 0.1]]), t, m2).item() == 0.0
    # diversity: identical features are maximally similar, orthogonal ones not at all
    same = torch.ones(1, 3, 4)
    ortho = torch.eye(3, 4)[None]
    s3, m3 = torch.ones(1, 3), torch.ones(1, 3, dtype=torch.bool)
    assert losses.diversity(s3, same, m3).item() == pytest.approx(1.0)
    assert losses.diversity(s3, ortho, m3).item() == pytest.approx(0.0)


def test_representativeness_prefers_covering_scores():
    feats = torch.tensor([[[1.0, 0], [1.0, 0], [0, 1.0], [0, 1.0]]])
    mask = torch.ones(1, 4, dtype=torch.bool)
    covering = losses.representativeness(torch.tensor([[0.9, 0.01, 0.9, 0.01]]), feats, mask)
    one_sided = losses.representativeness(torch.tensor([[0.9, 0.9, 0.01, 0.01]]), feats, mask)
    assert covering < one_sided
