"""`EdgeConfig`: the daemon's whole configuration, one YAML file (`configs/edge.yaml`).

Sections are separate models so later issues add theirs (engines, control,
metrics) without touching the stream part. Unknown keys are errors.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vgsum.stream.config import StreamConfig

SAMPLE_SCHEME = "sample:"  # `url: sample:bikes.mp4` names a clip bundled with the install


class PublishConfig(BaseModel):
    """Socket options of the ZeroMQ publisher."""

    model_config = ConfigDict(extra="forbid")

    endpoints: list[str] = Field(default_factory=lambda: ["pub+bind:tcp://127.0.0.1:5556"])
    sndhwm: int = Field(1000, ge=1, description="messages queued per subscriber before drops")
    status_interval_s: float = Field(2.0, gt=0, description="periodic status besides the on-change ones")
    heartbeat_interval_s: float = Field(5.0, gt=0)
    frame_messages: bool = Field(True, description="publish a `frame` message per sampled frame")


class EdgeConfig(BaseModel):
    """Top level of `vgsum serve --config FILE`."""

    model_config = ConfigDict(extra="forbid")

    streams: list[StreamConfig] = Field(min_length=1)
    publish: PublishConfig = Field(default_factory=PublishConfig)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("streams")
    @classmethod
    def _unique_ids(cls, streams: list[StreamConfig]) -> list[StreamConfig]:
        seen: set[str] = set()
        for stream in streams:
            if stream.stream_id in seen:
                raise ValueError(f"stream_id {stream.stream_id!r} appears twice; ids must be unique")
            seen.add(stream.stream_id)
        return streams

    @model_validator(mode="after")
    def _resolve_samples(self) -> EdgeConfig:
        """Turn `sample:NAME` URLs into the bundled clip's path (UserError when it is not installed)."""
        from vgsum.runtime.sample import bundled_sample

        for stream in self.streams:
            if stream.url.startswith(SAMPLE_SCHEME):
                stream.url = str(bundled_sample(stream.url[len(SAMPLE_SCHEME):]))
        return self
