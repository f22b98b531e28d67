"""`SummaryConfig`: how one stream is summarized (the `summary:` section, and each stream's `summary:` changes).

Times are in seconds of stream time and converted to frames with the stream's
sampling rate where a strategy needs frames. Both highlight strategies read it:
`selection: events` for cameras (runtime/summary/event_summary.py) and
`selection: knapsack` for edited video (runtime/summary/knapsack_summary.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vgsum.runtime.summary.events import EventRuleConfig
from vgsum.runtime.summary.shots import ShotValue


class SummaryConfig(BaseModel):
    """How a stream is summarized; times in seconds, converted to frames with the sampling rate."""

    model_config = ConfigDict(extra="forbid")

    selection: Literal["events", "knapsack"] = Field(
        "events",
        description="events: a highlight per stretch of activity, announced within about a second of its start "
        "and ended with its span (cameras); knapsack: the field's summary of edited video, shots chosen within "
        "`budget` by a look-ahead knapsack, decided decision_delay_s after each shot",
    )
    events: EventRuleConfig = Field(default_factory=EventRuleConfig)
    activity_weight: float = Field(
        0.8, ge=0, le=1,
        description="events: the score is this share of the scene-activity signal (how much of the view departs "
        "from the learned background, raised while it moves) and the rest the graph model's score",
    )
    motion_gain: float = Field(
        0.4, ge=0, le=1,
        description="events: the activity signal is the larger of presence (how much of the view departs from "
        "the background) times 1 - motion_gain, and moving presence (the part of it that changed since the last "
        "frame): a person standing still keeps a highlight open, and where something is always in view (a busy "
        "scene) the moving moments stand out; 0 counts presence alone, 1 only presence that moves",
    )
    edited_cuts: int = Field(
        3, ge=0, le=1000,
        description="events: this many new scenes (cuts: most of the view changing at once) within edited_window_s "
        "mark the input as edited video, not a fixed camera; there the activity signal is the camera-compensated "
        "frame difference, since no shot lasts long enough for a background to settle (0: never)",
    )
    edited_window_s: float = Field(60.0, gt=0, le=3600, description="events: how far back edited_cuts counts")
    window: int = Field(64, ge=2, le=1024, description="W: frames the temporal graph sees (64 = 32 s at 2 fps)")
    stride: int = Field(8, ge=1, le=1024, description="S: a window every S frames")
    budget: float = Field(0.15, gt=0, lt=1, description="share of recent time kept as highlights")
    horizon_s: float = Field(600.0, gt=0, description="how much recent time the budget looks at")
    decision_delay_s: float = Field(
        60.0, ge=0, le=600,
        description="a shot is decided this long after it ends, by a knapsack over the shots seen by then: "
        "longer comes closer to the offline summary, later (keep clip_buffer_s above it + shot_delay_s + max_shot_s)",
    )
    shot_value: ShotValue = Field(
        "total", description="what a shot is worth to the knapsack: total (its summed score: fewer, longer "
        "highlights) or mean (its mean score: the field's benchmark knapsack, which favours short shots)",
    )
    min_margin: float = Field(
        0.03, ge=0, le=1, description="a highlight must beat the recent lower-quartile shot score by this much"
    )
    min_change: float = Field(
        0.008, ge=0, le=1,
        description="a highlight must look different from the horizon's typical shot by this cosine distance: "
        "a still scene stays within 0.005 (detector flicker moves its scores, not its look); 0 turns it off",
    )
    shot_cut: Literal["kts", "threshold"] = Field(
        "kts", description="kts: the field's kernel temporal segmentation, committed shot_delay_s late, with one shot "
        "per shot_s on average; threshold: a cut the moment the frame moves shot_threshold from the shot's mean",
    )
    shot_s: float = Field(4.0, gt=0, description="kts: the mean shot length it keeps (TVSum's shots: 4 s)")
    shot_delay_s: float = Field(
        30.0, ge=0, le=600, description="kts: a boundary is final this long after it; longer cuts closer to offline KTS"
    )
    shot_threshold: float = Field(
        0.25, gt=0, lt=2, description="threshold: cosine distance from the shot mean that cuts"
    )
    min_shot_s: float = Field(2.0, gt=0)
    max_shot_s: float = Field(12.0, gt=0)
    query_boost: float = Field(0.6, ge=0, le=1, description="how far a full query match lifts a score toward 1")
    query_matcher: Literal["language", "phrases", "lookup"] = Field(
        "language",
        description="how queries meet objects: language reads a query phrase by phrase against the detector's labels, "
        "the ImageNet kinds of each object, its colour and its motion, counting only objects seen with enough "
        "confidence or on enough frames (docs/queries.md); phrases does the same without the ImageNet kinds; lookup "
        "compares the whole query with the 80 label names (the older rule, a benchmark baseline)",
    )
    provisional_scores: bool = Field(True, description="publish provisional scores after each window")
    early_scores: bool = Field(
        True,
        description="score a frame as soon as it arrives (a window over the ring, not fused) instead of waiting "
        "up to S frames for the next window; costs one small refiner.window run per frame",
    )
    top_objects: int = Field(5, ge=1, le=80)

    @model_validator(mode="after")
    def _check(self) -> SummaryConfig:
        if self.stride > self.window:
            raise ValueError("stride must not exceed window (a frame would leave unscored)")
        if self.max_shot_s < self.min_shot_s:
            raise ValueError("max_shot_s must be >= min_shot_s")
        if self.shot_cut == "kts" and not self.min_shot_s <= self.shot_s <= self.max_shot_s:
            raise ValueError("shot_s must lie between min_shot_s and max_shot_s")
        return self

    def shot_latency_s(self) -> float:
        """How long after its shot ends a highlight can still be decided: its packets must be kept that long."""
        return self.decision_delay_s + (self.shot_delay_s if self.shot_cut == "kts" else 0.0) + self.max_shot_s

    def highlight_latency_s(self) -> float:
        """How far back from its last message a highlight's first frame can lie (the clip buffer must cover it)."""
        return self.events.latency_s() if self.selection == "events" else self.shot_latency_s()

    def with_changes(self, changes: Mapping[str, Any]) -> SummaryConfig:
        """This config with `changes` (a partial `summary:` section; `events` merges key by key) applied.

        ValueError of one line naming the first bad key (`motion_gain: Input should be less than or equal to 1`).
        """
        data = self.model_dump()
        for key, value in changes.items():
            if key == "events" and isinstance(value, Mapping):
                data["events"] = {**data["events"], **value}
            else:
                data[key] = value
        try:
            return SummaryConfig.model_validate(data)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "summary"
            raise ValueError(f"{where}: {str(first['msg']).removeprefix('Value error, ')}") from None


# What a running stream takes without starting over: the event rule and the score's mix. A change to the rest
# (the ring, the shot cut, the strategy, the query matcher) starts the stream's summary afresh at its next frame.
LIVE_KEYS = frozenset(
    {"events", "activity_weight", "motion_gain", "edited_cuts", "edited_window_s", "query_boost",
     "top_objects"}
)
