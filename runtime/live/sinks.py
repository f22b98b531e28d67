"""Where one stream's results go: callbacks the live path calls on the pipeline thread."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vgsum.runtime.summary.summarizer import HighlightEvent, ScoreEvent


@dataclass
class StreamSinks:
    """Where the results go (the daemon's outputs, a report collector, an evaluation); called on the pipeline thread."""

    on_score: Callable[[str, ScoreEvent], None]
    on_highlight: Callable[[str, HighlightEvent], None]
    on_latency: Callable[[str, str, float], None] = lambda stream_id, stage, seconds: None
    # (stream id, media time, labels detected): what the detector saw in each frame, for reports and checks
    on_frame: Callable[[str, float, list[str]], None] = lambda stream_id, t, labels: None
    # the pipeline thread stopped on an exception (one redacted line); no stream is scored after it
    on_failure: Callable[[str], None] = lambda reason: None
