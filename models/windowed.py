"""Score a whole sequence the way the live runtime scores a stream: sliding windows, fused.

The live pipeline never shows the temporal graph more than W frames at once: it runs
`VideoGraph.window` over the latest W nodes every S frames and fuses the overlapping scores
(`vgsum.runtime.summary.fusion`). Evaluations and the footage check must see the scores a
camera would get, not the whole-video scores, so they all go through this one function.
"""

from __future__ import annotations

import numpy as np
import torch

from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.fusion import fuse_offline

LIVE = SummaryConfig()


@torch.no_grad()
def windowed_scores(model, nodes: torch.Tensor, window: int = LIVE.window, stride: int = LIVE.stride) -> np.ndarray:
    """Fused scores [T] of node vectors [T, d] (from `model.frame`), windows of `window` steps every `stride`.

    Defaults are the live runtime's (SummaryConfig: W and S).
    """
    def score(start: int, end: int) -> np.ndarray:
        part = nodes[None, start:end]
        return model.window(part, torch.ones(part.shape[:2], dtype=torch.bool))[0].numpy()

    return fuse_offline(len(nodes), window, stride, score)
