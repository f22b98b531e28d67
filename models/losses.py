"""Training objectives (docs/model.md, Losses), each a small function over padded batches.

Shapes: scores/targets [B,T], mask [B,T] bool, features [B,T,D].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def importance_mse(scores, targets, mask):
    """Mean squared error to the ground-truth importance over real steps."""
    m = mask.float()
    return ((scores - targets) ** 2 * m).sum() / m.sum().clamp(min=1)


def ranking_hinge(scores, targets, mask, margin: float = 0.05, min_gap: float = 0.05):
    """Pairwise hinge: when target_i > target_j (by at least min_gap), want score_i > score_j + margin."""
    ds = scores[:, :, None] - scores[:, None, :]  # [B,T,T]
    dt = targets[:, :, None] - targets[:, None, :]
    pair = (dt > min_gap) & mask[:, :, None] & mask[:, None, :]
    loss = F.relu(margin - ds) * pair.float()
    return loss.sum() / pair.float().sum().clamp(min=1)


def sparsity(scores, mask, sigma: float = 0.15):
    """|mean score - sigma| per video, averaged: keeps about sigma of the video selected."""
    m = mask.float()
    mean = (scores * m).sum(1) / m.sum(1).clamp(min=1)
    return (mean - sigma).abs().mean()


def _cosine(features):
    x = F.normalize(features, dim=-1)
    return x @ x.transpose(1, 2)  # [B,T,T]


def diversity(scores, features, mask):
    """Score-weighted mean cosine similarity between different frames' features (lower = more diverse)."""
    valid = mask[:, :, None] & mask[:, None, :]
    eye = torch.eye(scores.shape[1], dtype=torch.bool, device=scores.device)[None]
    w = scores[:, :, None] * scores[:, None, :] * (valid & ~eye).float()
    return (w * _cosine(features)).sum() / w.sum().clamp(min=1e-6)


def representativeness(scores, features, mask, temperature: float = 0.1):
    """Each frame should be close to a high-scoring frame: error of a score-weighted reconstruction.

    V_hat_i = sum_j s_j exp(cos_ij / tau) V_j / sum_j s_j exp(cos_ij / tau); loss = mean ||V_i - V_hat_i||^2.
    """
    x = F.normalize(features, dim=-1)
    logits = _cosine(features) / temperature + torch.log(scores.clamp(min=1e-6))[:, None, :]
    weights = torch.softmax(logits.masked_fill(~mask[:, None, :], -1e4), dim=-1)
    error = ((x - weights @ x) ** 2).sum(-1)
    m = mask.float()
    return (error * m).sum() / m.sum().clamp(min=1)
