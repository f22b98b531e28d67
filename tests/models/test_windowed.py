"""Scoring a sequence in live windows: aligned with its steps, the whole-sequence result when one window covers
it, and the live runtime's window and stride by default."""

from __future__ import annotations

import inspect

import numpy as np
import torch

from vgsum.models.videograph import VideoGraph, VideoGraphConfig
from vgsum.models.windowed import windowed_scores
from vgsum.runtime.summary.config import SummaryConfig


class StepwiseModel(torch.nn.Module):
    """Scores each step from its own node alone, and counts the windows it is shown."""

    def __init__(self) -> None:
        super().__init__()
        self.windows: list[int] = []

    def window(self, nodes: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        self.windows.append(nodes.shape[1])
        return torch.sigmoid(nodes[..., 0]) * mask


def test_each_step_gets_its_own_score_through_every_overlapping_window():
    nodes = torch.randn(50, 3)
    model = StepwiseModel()
    fused = windowed_scores(model, nodes, window=16, stride=4)
    np.testing.assert_allclose(fused, torch.sigmoid(nodes[:, 0]).numpy(), atol=1e-6)
    assert max(model.windows) == 16 and len(model.windows) == 13  # a window ends every 4 steps, and at the end


def test_one_window_over_the_whole_sequence_is_the_offline_score():
    torch.manual_seed(0)
    model = VideoGraph(VideoGraphConfig(d_frame=8, d_model=16, heads=2, refine_steps=2)).eval()
    features = torch.randn(1, 20, 8)
    with torch.no_grad():
        nodes = model.frame(features)[0]
        offline = model.window(nodes[None], torch.ones(1, 20, dtype=torch.bool))[0].numpy()
    np.testing.assert_allclose(windowed_scores(model, nodes, window=20, stride=20), offline, atol=1e-6)
    shorter = windowed_scores(model, nodes, window=8, stride=2)  # the graph sees less context: other scores
    assert shorter.shape == (20,) and np.abs(shorter - offline).max() > 1e-4


def test_defaults_are_the_live_window_and_stride():
    defaults = {k: p.default for k, p in inspect.signature(windowed_scores).parameters.items()}
    live = SummaryConfig()
    assert defaults["window"] == live.window and defaults["stride"] == live.stride
