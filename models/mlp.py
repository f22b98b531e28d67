"""The floor a graph model must clear: a per-step 2-layer MLP regressor (docs/model.md, Benchmark protocol).

Each step is scored from its own feature alone, with no context, trained with the same loss,
optimiser and epochs as VideoGraph. A model that scores no better than this on TVSum has not
shown that it uses context, so the table runs it beside the graph rows.
"""

from __future__ import annotations

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn


class MLPConfig(BaseModel):
    """The MLP's shape, and the `mlp:` section of a recipe."""

    model_config = ConfigDict(extra="forbid")

    d_frame: int = Field(2048, ge=1)  # training sets it from the data
    d_hidden: int = Field(256, ge=1)
    dropout: float = Field(0.3, ge=0, lt=1)
    input_dropout: float = Field(0.2, ge=0, lt=1)


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
