"""The VASNet peer: padding neither scores nor leaks into the real steps."""

from __future__ import annotations

import torch

from vgsum.models.peer import VASNet, VASNetConfig


def test_padding_scores_zero_and_does_not_change_the_real_steps():
    torch.manual_seed(0)
    model = VASNet(VASNetConfig(d_frame=6, d_model=8)).eval()
    x = torch.randn(2, 9, 6)
    mask = torch.ones(2, 9, dtype=torch.bool)
    mask[1, 5:] = False
    with torch.no_grad():
        scores = model(x, mask)
        alone = model(x[1:, :5], mask[1:, :5])
    assert scores.shape == (2, 9) and (scores[1, 5:] == 0).all() and ((scores >= 0) & (scores <= 1)).all()
    assert torch.allclose(alone, scores[1:, :5], atol=1e-6)
