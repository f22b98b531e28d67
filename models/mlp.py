"""The floor a graph model must clear: a per-step 2-layer MLP regressor (MODEL.md, "The benchmark protocol").

Each step is scored from its own feature alone, with no context, trained with the same loss,
optimiser and epochs as VideoGraph. MODEL.md puts it at about tau 0.18 / rho 0.24 on this pack;
the table runs it beside the graph rows so that what the graph adds is measured, not assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class MLPConfig:
    d_frame: int = 2048
    d_hidden: int = 256
    dropout: float = 0.3
    input_dropout: float = 0.2


class MLPRegressor(nn.Module):
    """forward(features [B,T,D], mask [B,T]) -> scores [B,T] in [0, 1], each step on its own."""

    def __init__(self, cfg: MLPConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.net = nn.Sequential(nn.Dropout(cfg.input_dropout), nn.Linear(cfg.d_frame, cfg.d_hidden), nn.ReLU(),
                                 nn.Dropout(cfg.dropout), nn.Linear(cfg.d_hidden, 1))

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        scores = torch.sigmoid(self.net(features)[..., 0])
        return torch.where(mask, scores, torch.zeros_like(scores))
