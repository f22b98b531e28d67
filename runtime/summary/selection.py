"""`summary.selection` made a summarizer: the one place that maps the setting to its strategy."""

from __future__ import annotations

from collections.abc import Callable

from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.event_summary import EventSummarizer
from vgsum.runtime.summary.knapsack_summary import KnapsackSummarizer
from vgsum.runtime.summary.summarizer import HighlightEvent, ScoreEvent, StreamSummarizer, WindowFn

STRATEGIES: dict[str, type[StreamSummarizer]] = {"events": EventSummarizer, "knapsack": KnapsackSummarizer}


def build_summarizer(
    cfg: SummaryConfig,
    node_dim: int,
    window_fn: WindowFn,
    sample_fps: float,
    on_score: Callable[[ScoreEvent], None],
    on_highlight: Callable[[HighlightEvent], None],
) -> StreamSummarizer:
    """One stream's summarizer of the strategy `cfg.selection` names."""
    return STRATEGIES[cfg.selection](cfg, node_dim, window_fn, sample_fps, on_score, on_highlight)
