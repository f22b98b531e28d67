"""`CameraConfig`: one stream's whole config, its source (`StreamConfig`) and how its live path treats it.

The source settings live with the reader in `stream/`; what only the live path reads is
added here, so a camera can be tuned on its own: its changes to the `summary:` section,
the motion masks its scene activity leaves out, its named zones (and whether a highlight
needs one), which objects count, and its perception gate (runtime/live/gate.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from vgsum.runtime.common.coco import COCO80
from vgsum.runtime.live.gate import GateConfig
from vgsum.runtime.summary.regions import check_polygon
from vgsum.stream.config import StreamConfig

Polygon = Annotated[list[tuple[float, float]], AfterValidator(check_polygon)]


def _known_label(label: str) -> str:
    if label not in COCO80:
        close = [name for name in COCO80 if name.startswith(label[:2])][:4]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(f"unknown label {label!r}{hint}; labels are the detector's COCO names, e.g. person, car")
    return label


Label = Annotated[str, AfterValidator(_known_label)]


class ZoneConfig(BaseModel):
    """A named area of the view: highlights say which zones their objects and activity were in."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")
    polygon: Polygon


class ObjectFilter(BaseModel):
    """Which detections count: others neither raise the graph's score nor name highlights or match queries."""

    model_config = ConfigDict(extra="forbid")

    labels: list[Label] | None = Field(None, description="only these labels count (default: every label)")
    min_area: float = Field(0.0, ge=0, le=1, description="a box smaller than this share of the frame does not count")
    min_score: dict[Label, float] = Field(
        default_factory=dict, description="per label: a detection under this confidence does not count"
    )

    @field_validator("min_score")
    @classmethod
    def _scores_in_range(cls, scores: dict[str, float]) -> dict[str, float]:
        for label, score in scores.items():
            if not 0.0 <= score <= 1.0:
                raise ValueError(f"min_score of {label!r} must lie between 0 and 1")
        return scores

    @property
    def active(self) -> bool:
        """Whether the filter drops anything at all."""
        return self.labels is not None or self.min_area > 0 or bool(self.min_score)


class CameraConfig(StreamConfig):
    """A stream as the daemon runs it: its source, and how its live path treats it."""

    summary: dict[str, Any] = Field(
        default_factory=dict,
        description="changes to the `summary:` section for this stream only, with the same keys "
        "(`events` changes key by key), e.g. {motion_gain: 0.2, events: {start_above: 0.7}}",
    )
    motion_masks: list[Polygon] = Field(
        default_factory=list,
        description="areas (polygons, x and y from 0 to 1) left out of the scene activity: a clock, a street, a screen",
    )
    zones: list[ZoneConfig] = Field(default_factory=list, description="named areas highlights report")
    require_zones: list[str] = Field(
        default_factory=list, description="a highlight starts only with activity or an object in one of these zones"
    )
    objects: ObjectFilter = Field(default_factory=ObjectFilter)
    gate: GateConfig = Field(default_factory=GateConfig)

    @model_validator(mode="after")
    def _zones_known(self) -> CameraConfig:
        names = [z.name for z in self.zones]
        if len(set(names)) != len(names):
            raise ValueError("zone names must be unique")
        for name in self.require_zones:
            if name not in names:
                known = ", ".join(names) or "none"
                raise ValueError(f"require_zones names {name!r}, which is not one of zones ({known})")
        return self

