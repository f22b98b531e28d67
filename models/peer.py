"""The re-implemented peer: VASNet (Fajtl, Sokeh, Argyriou, Velastin, Remagnino,
"Summarizing Videos with Attention", ACCV 2018 Workshops; github.com/ok1zjf/VASNet).

A soft self-attention over the whole sequence (keys, queries, values by linear maps,
attention dropout 0.5, scaled by 0.06 as in the original), a residual connection with
the input, layer norm, then a 2-layer regressor with sigmoid, trained with MSE on the
ground-truth importance. The one change: a linear input projection to `d_model`
(the original attends at the 1024-d GoogLeNet width; our features are 2048-d I3D).
Same features, splits, shots and protocol as VideoGraph.
"""

from __future__ import annotations

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from vgsum.models.videograph import NEG


class VASNetConfig(BaseModel):
    """The peer's shape, and the `peer:` section of a recipe."""

    model_config = ConfigDict(extra="forbid")

    d_frame: int = Field(2048, ge=1)  # training sets it from the data
    d_model: int = Field(512, ge=1)
    dropout: float = Field(0.5, ge=0, lt=1)
    input_dropout: float = Field(0.2, ge=0, lt=1)


class VASNet(nn.Module):
    """Self-attention importance regressor; forward(features [B,T,D], mask [B,T]) -> scores [B,T]."""

    def __init__(self, cfg: VASNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.input = nn.Sequential(nn.Dropout(cfg.input_dropout), nn.Linear(cfg.d_frame, d))
        self.k = nn.Linear(d, d, bias=False)
        self.q = nn.Linear(d, d, bias=False)
        self.v = nn.Linear(d, d, bias=False)
        self.out = nn.Linear(d, d, bias=False)
        self.att_drop = nn.Dropout(cfg.dropout)
        self.norm_y = nn.LayerNorm(d)
        self.ka = nn.Linear(d, d)
        self.norm_ka = nn.LayerNorm(d)
        self.kd = nn.Linear(d, 1)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, features, mask):
        x = self.input(features)
        logits = 0.06 * self.q(x) @ self.k(x).transpose(1, 2)  # VASNet's fixed scale instead of 1/sqrt(d)
        att = self.att_drop(torch.softmax(logits.masked_fill(~mask[:, None, :], NEG), -1))
        y = self.out(att @ self.v(x)) + x
        y = self.norm_y(self.drop(y))
        y = self.norm_ka(self.drop(torch.relu(self.ka(y))))
        scores = torch.sigmoid(self.kd(y)[..., 0])
        return torch.where(mask, scores, torch.zeros_like(scores))
