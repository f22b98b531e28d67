"""VideoGraph: language-guided recursive spatiotemporal graphs for video summarization.

After Park, Lee, Sohn (arXiv 2509.05604), with the choices the paper leaves open made in
docs/model.md. The file reads top to bottom: config, spatial graph (objects + language ->
one vector per frame), temporal graph (frames -> nodes -> adjacency refined K times ->
scores), and the two entry points the live pipeline runs:
- `frame(...)`: once per frame, frame feature [+ objects + queries] -> node vector [B, D];
- `window(nodes, mask)`: every S frames, nodes [B, W, D] -> scores [B, W], any W.
Masks are finite (-1e4, not -inf) and every set has an always-valid token, so padded
rows and frames without objects never produce NaN, in torch or in the exported ONNX
(docs/assets.md, Exporting the refiner).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

NEG = -1e4  # finite mask value: a fully masked row becomes uniform instead of NaN


class VideoGraphConfig(BaseModel):
    """The model's shape: what a checkpoint needs to rebuild it, and the `videograph:` section of a recipe."""

    model_config = ConfigDict(extra="forbid")

    d_frame: int = Field(2048, ge=1)  # frame feature width (I3D RGB|flow on the benchmark); training sets it from data
    d_model: int = Field(128, ge=1)
    heads: int = Field(4, ge=1)
    dropout: float = Field(0.3, ge=0, lt=1)
    input_dropout: float = Field(0.2, ge=0, lt=1)
    # spatial graph (absent on the benchmark: frame features only)
    spatial: bool = False
    d_object: int = 256  # ROI feature width
    n_classes: int = 80
    d_lang: int = 384  # text embedding width (all-MiniLM-L6-v2)
    max_objects: int = 16  # N
    spatial_layers: int = 2  # G
    # temporal graph
    refine_steps: int = Field(5, ge=0)  # K (0 = the fixed initial similarity graph)
    share_refiner: bool = True  # one set of refinement weights for every k
    max_distance: int = Field(64, ge=1)  # relative-distance bias buckets (|t - t'| clipped)
    # "zero": no prior over distances. "normal" (torch's N(0, 1) default) reproduces the shipped live weights;
    # on TVSum its noise outlives training and costs 0.005 validation tau (BENCHMARKS.md).
    distance_init: Literal["zero", "normal"] = "zero"
    # sentence-level query over the temporal graph (the TVSum title row): FiLM of every node by the pooled query
    query_film: bool = False
    # word-level label queries into the spatial graph; False: the language-free path (uniform object pooling)
    # whatever queries the caller feeds, so a model trained without them runs live on the same inputs
    word_queries: bool = True


def masked_softmax(logits: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis with invalid keys (key_mask False) pushed to ~0; never NaN."""
    return torch.softmax(logits.masked_fill(~key_mask, NEG), dim=-1)


# ---------------------------------------------------------------- spatial graph


def box_geometry(boxes: torch.Tensor) -> torch.Tensor:
    """Normalised x1,y1,x2,y2 -> [x1, y1, x2, y2, area, cx, cy] (7)."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    area = (x2 - x1).clamp(min=0) * (y2 - y1).clamp(min=0)
    return torch.stack([x1, y1, x2, y2, area, (x1 + x2) / 2, (y1 + y2) / 2], dim=-1)


class CrossAttention(nn.Module):
    """Language as the query, objects as keys and values; returns per-object context and weights A [B,L,N]."""

    def __init__(self, d_lang: int, d: int, heads: int) -> None:
        super().__init__()
        self.heads, self.dh = heads, d // heads
        self.q = nn.Linear(d_lang, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.out = nn.Linear(d, d)

    def forward(self, query, objects, query_mask, object_mask):
        B, L, _ = query.shape
        N = objects.shape[1]
        q = self.q(query).view(B, L, self.heads, self.dh).transpose(1, 2)  # [B,H,L,dh]
        k = self.k(objects).view(B, N, self.heads, self.dh).transpose(1, 2)  # [B,H,N,dh]
        v = self.v(objects).view(B, N, self.heads, self.dh).transpose(1, 2)
        att = masked_softmax(q @ k.transpose(-1, -2) / math.sqrt(self.dh), object_mask[:, None, None, :])
        z = (att @ v).transpose(1, 2).reshape(B, L, self.heads * self.dh)  # [B,L,d]
        weights = att.mean(1) * query_mask[:, :, None].float()  # [B,L,N]; padded queries give nothing
        return self.out(z), weights


class SpatialGraph(nn.Module):
    """Objects of one frame + its language queries -> one spatial vector (docs/model.md, Spatial graph)."""

    def __init__(self, cfg: VideoGraphConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.token = nn.Linear(cfg.d_object + 7, d)
        self.class_embedding = nn.Embedding(cfg.n_classes, d)
        self.empty = nn.Parameter(torch.randn(d) * 0.02)  # always-valid token: zero objects still pool to something
        self.cross = CrossAttention(cfg.d_lang, d, cfg.heads)
        self.back = nn.Linear(d, d)  # W_z
        self.norm = nn.LayerNorm(d)
        self.gcn = nn.ModuleList(nn.Linear(d, d) for _ in range(cfg.spatial_layers))

    def forward(self, objects, boxes, classes, object_mask, query, query_mask):
        """objects [B,N,Do], boxes [B,N,4], classes [B,N] long, object_mask [B,N] bool,
        query [B,L,Dl], query_mask [B,L] bool -> spatial vector [B,d]."""
        B = objects.shape[0]
        x = self.token(torch.cat([objects, box_geometry(boxes)], -1)) + self.class_embedding(classes)  # [B,N,d]
        x = torch.cat([self.empty.expand(B, 1, -1), x], 1)  # [B,1+N,d]
        mask = torch.cat([torch.ones_like(object_mask[:, :1]), object_mask], 1)
        z, a = self.cross(query, x, query_mask, mask)  # z [B,L,d], a [B,L,1+N]
        h = self.norm(x + a.transpose(1, 2) @ self.back(z))  # each object takes back the context that chose it
        has_query = query_mask.any(1, keepdim=True)  # [B,1]
        n_valid = mask.float().sum(1, keepdim=True)
        # r_i = max_l A_li (a zero row keeps max defined for L = 0); uniform 1/N without language
        relevance = torch.where(has_query, torch.cat([a.new_zeros(B, 1, a.shape[2]), a], 1).amax(1), 1.0 / n_valid)
        adjacency = masked_softmax(h @ h.transpose(1, 2) / math.sqrt(h.shape[-1]), mask[:, None, :])
        for layer in self.gcn:
            h = h + F.relu(layer(adjacency @ h))
        pool = masked_softmax(relevance, mask)  # [B,1+N]
        return (pool[:, :, None] * h).sum(1)


# ---------------------------------------------------------------- temporal graph


class Refiner(nn.Module):
    """One refinement step: message passing on A_{k-1}, then a residual change of the adjacency logits."""

    def __init__(self, d: int, dropout: float) -> None:
        super().__init__()
        self.gcn = nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)
        self.ua = nn.Linear(d, d, bias=False)
        self.ub = nn.Linear(d, d, bias=False)
        self.drop = nn.Dropout(dropout)

    def propagate(self, adjacency, h):
        return h + self.drop(F.relu(self.gcn(self.norm(adjacency @ h))))

    def delta(self, h):
        return torch.tanh(self.ua(h) @ self.ub(h).transpose(1, 2) / math.sqrt(h.shape[-1]))


class VideoGraph(nn.Module):
    """The whole model; `frame` and `window` are the two halves that run live."""

    def __init__(self, cfg: VideoGraphConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.spatial = SpatialGraph(cfg) if cfg.spatial else None
        self.input_drop = nn.Dropout(cfg.input_dropout)
        self.node = nn.Sequential(  # v_t = MLP([f_t ; s_t])
            nn.Linear(cfg.d_frame + (d if cfg.spatial else 0), d), nn.ReLU(), nn.Dropout(cfg.dropout), nn.Linear(d, d)
        )
        # zero-initialised, so a query-conditioned model starts as the unconditioned one
        self.film = nn.Linear(cfg.d_lang, 2 * d) if cfg.query_film else None
        if self.film is not None:
            nn.init.zeros_(self.film.weight)
            nn.init.zeros_(self.film.bias)
        self.wa = nn.Linear(d, d, bias=False)
        self.wb = nn.Linear(d, d, bias=False)
        self.distance_bias = nn.Embedding(cfg.max_distance + 1, 1)
        if cfg.distance_init == "zero":
            nn.init.zeros_(self.distance_bias.weight)
        n_refiners = 1 if cfg.share_refiner else max(cfg.refine_steps, 1)
        self.refiners = nn.ModuleList(Refiner(d, cfg.dropout) for _ in range(n_refiners))
        self.readout = Refiner(d, cfg.dropout)  # one last pass on A_K so K = 0 is still a graph model
        self.gamma = nn.Parameter(torch.full((max(cfg.refine_steps, 1),), 0.5))  # gamma_k
        self.head = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, d), nn.ReLU(), nn.Dropout(cfg.dropout), nn.Linear(d, 1))
        self.last_adjacencies: list[torch.Tensor] = []

    # -- per frame
    def frame(self, frame_feature, objects=None, boxes=None, classes=None, object_mask=None, query=None,
              query_mask=None):
        """Frame feature [B,Df] (+ objects, queries when the spatial branch is on) -> node vector [B,d].

        With `query_film`, the mean of the valid queries scales and shifts the node, so what counts as
        important can depend on what the viewer asked for (or, on TVSum, on the video's title).
        Frame features may also be [B,T,Df] (offline), with one query set per video.
        """
        f = self.input_drop(frame_feature)
        if self.spatial is not None:
            if not self.cfg.word_queries:
                query_mask = query_mask & False
            f = torch.cat([f, self.spatial(objects, boxes, classes, object_mask, query, query_mask)], -1)
        node = self.node(f)
        if self.film is None or query is None:
            return node
        weights = query_mask.float()[..., None]  # [B,L,1]
        count = weights.sum(1)  # [B,1]
        pooled = (query * weights).sum(1) / count.clamp(min=1)  # [B,Dl]
        has_query = (count > 0).float()  # a video or frame without a query keeps its plain node
        gamma, beta = (has_query * self.film(pooled)).chunk(2, -1)
        if node.dim() == 3:
            gamma, beta = gamma[:, None], beta[:, None]
        return node * (1 + torch.tanh(gamma)) + beta

    # -- per window
    def window(self, nodes, mask):
        """Nodes [B,W,d], mask [B,W] bool (True = real frame) -> scores [B,W] in [0,1] (0 where padded)."""
        scores, _ = self.window_with_graphs(nodes, mask)
        return scores

    def window_with_graphs(self, nodes, mask):
        """Scores and the adjacency A_k of every step k = 0..K (for the entropy/density log)."""
        W = nodes.shape[1]
        pos = torch.arange(W, device=nodes.device)
        distance = (pos[:, None] - pos[None, :]).abs().clamp(max=self.cfg.max_distance)
        key_mask = mask[:, None, :]
        logits = self.wa(nodes) @ self.wb(nodes).transpose(1, 2) / math.sqrt(nodes.shape[-1])
        logits = logits + self.distance_bias(distance)[..., 0]  # E_0
        adjacency = masked_softmax(logits, key_mask)  # A_0
        graphs = [adjacency]
        h = nodes
        for k in range(self.cfg.refine_steps):
            refiner = self.refiners[0 if self.cfg.share_refiner else k]
            h = refiner.propagate(adjacency, h)  # H_k
            logits = logits + self.gamma[k] * refiner.delta(h)  # E_k = E_{k-1} + dE_k
            adjacency = masked_softmax(logits, key_mask)  # A_k
            graphs.append(adjacency)
        h = self.readout.propagate(adjacency, h)
        scores = torch.sigmoid(self.head(h)[..., 0])
        if not torch.compiler.is_exporting():  # a tensor attribute set while exporting makes torch.export warn
            self.last_adjacencies = graphs
        return torch.where(mask, scores, torch.zeros_like(scores)), graphs

    def forward(self, frame_features, mask, query=None, query_mask=None):
        """Offline: frame features [B,T,Df] (+ one query set [B,L,Dl] per video) -> scores [B,T]."""
        return self.window(self.frame(frame_features, query=query, query_mask=query_mask), mask)


def adjacency_stats(adjacency: torch.Tensor, mask: torch.Tensor) -> tuple[float, float]:
    """Mean row entropy (nats) and edge density (share of entries above 1/W) over valid rows and keys."""
    with torch.no_grad():
        valid = mask.float()
        n_valid = valid.sum(1)  # [B]
        a = adjacency * valid[:, None, :]
        entropy = -(a * torch.log(a.clamp(min=1e-12))).sum(-1)  # [B,W]
        above = ((a > 1.0 / n_valid[:, None, None]) & mask[:, None, :]).float().sum(-1) / n_valid[:, None]
        rows = valid.sum()
        return float((entropy * valid).sum() / rows), float((above * valid).sum() / rows)
