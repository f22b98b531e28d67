"""One stream's live summary behind one interface: frames in, scores and highlights out.

The engines stay outside (the pipeline batches them across streams), so a summary is
plain numpy and testable on its own. Two strategies decide what a highlight is, each
in its own module, and `selection.build_summarizer` picks one by `SummaryConfig.selection`:

- `EventSummarizer` (runtime/summary/event_summary.py, `selection: events`, cameras):
  a frame's score is final as soon as it is computed, and a highlight is a stretch
  of activity, announced when it starts and ended with its span;
- `KnapsackSummarizer` (runtime/summary/knapsack_summary.py, `selection: knapsack`,
  edited video): scores are fused over overlapping windows, shots are cut by KTS run
  on the stream, and a look-ahead knapsack keeps a budget of them.

Both keep the ring of the last W node vectors that `refiner.window` reads, and both
are told of a break in the stream (a reconnect, a loop) by `gap()` before its next
frame, so no window and no highlight spans one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.window import NodeRing


@dataclass
class FrameInput:
    """What the live path knows about one processed frame."""

    media_time: float
    epoch: int
    node: np.ndarray  # [d] from refiner.frame
    frame_feature: np.ndarray  # what the online shot cut compares (see `shots.shot_signature`)
    labels: list[str]
    query_match: dict[str, float]  # query -> match strength in [0, 1] for this frame
    thumbnail: np.ndarray | None = None  # small RGB, kept until its shot is decided
    appearance: np.ndarray | None = None  # the frame's visual feature alone: is the scene still? (see min_change)
    activity: float = 0.0  # share of the view departing from the scene's background, squashed (foreground.py)
    motion: float = 0.0  # share of the view departing and changed since the previous sampled frame, squashed
    cut: bool = False  # the frame starts a new scene (foreground.py)
    steady_motion: float = 0.0  # camera-compensated change since the previous sampled frame, squashed
    zones: frozenset[str] = frozenset()  # the camera's zones this frame's objects or activity are in
    may_start: bool = True  # a highlight may start on this frame (False outside every required zone)
    looks: frozenset[tuple] = frozenset()  # what its counted objects looked like (runtime/language/looks.py)


@dataclass
class ScoreEvent:
    """A frame's (boosted) score; `final` ones never change."""

    t: float
    score: float
    final: bool


@dataclass
class HighlightEvent:
    """A message in a highlight's life; `end` carries the final span (the only phase a knapsack shot has)."""

    start: float
    end: float
    score: float
    objects: dict[str, int]
    query: str | None
    thumbnail: np.ndarray | None = None
    epoch: int = 0  # the ingest epoch of the span (clips are cut from that epoch's packets)
    id: str = ""
    phase: Literal["start", "update", "end"] = "end"
    emitted_at: float = 0.0  # stream time of the frame that caused the message
    zones: list[str] = field(default_factory=list)  # the zones its objects or activity were in (events only)
    looks: list[tuple] = field(default_factory=list)  # what its objects looked like, for history search (events only)


WindowFn = Callable[[np.ndarray], np.ndarray]  # nodes [n, d] -> scores [n] in [0, 1]


class StreamSummarizer(ABC):
    """Live summary of one stream; not thread-safe (one pipeline thread owns it)."""

    def __init__(
        self,
        cfg: SummaryConfig,
        node_dim: int,
        window_fn: WindowFn,
        sample_fps: float,
        on_score: Callable[[ScoreEvent], None],
        on_highlight: Callable[[HighlightEvent], None],
    ) -> None:
        self.cfg = cfg
        self.window_fn = window_fn
        self.sample_fps = sample_fps
        self.frame_s = 1.0 / sample_fps
        self.on_score = on_score
        self.on_highlight = on_highlight
        self.ring = NodeRing(cfg.window, node_dim, cfg.stride)
        self.highlights = 0  # finished highlights sent
        self.windows = 0  # refiner.window runs

    @abstractmethod
    def add(self, frame: FrameInput) -> None:
        """Take one frame in stream order."""

    @abstractmethod
    def gap(self, reason: str) -> None:
        """The stream broke before the next frame (a reconnect, a loop): nothing may span the break."""

    @abstractmethod
    def finish(self) -> None:
        """End of stream: every score final, every highlight ended or decided."""

    def reconfigure(self, cfg: SummaryConfig) -> None:
        """Take new settings from the next frame on; only `LIVE_KEYS` (config.py) may differ from the current ones."""
        self.cfg = cfg

    def _boost(self, score: float, query_match: dict[str, float]) -> float:
        """A query match lifts the score toward 1 by `query_boost` times the best match's strength."""
        match = max(query_match.values(), default=0.0)
        return float(np.clip(score + self.cfg.query_boost * match * (1.0 - score), 0.0, 1.0))

