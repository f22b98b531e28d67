"""`EdgeConfig`: the daemon's whole configuration, one YAML file (`configs/edge.yaml`).

Sections are separate models so later issues add theirs (engines, control,
metrics) without touching the stream part. Unknown keys are errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vgsum.runtime.common.paths import engine_dir
from vgsum.runtime.summary.summarizer import SummaryConfig
from vgsum.stream.config import StreamConfig

if TYPE_CHECKING:
    from vgsum.runtime.daemon.curve import CurveServerKeys

SAMPLE_SCHEME = "sample:"  # `url: sample:bikes.mp4` names a clip bundled with the install


class CurveKeysConfig(BaseModel):
    """CurveZMQ server keys: this side's secret certificate and a folder of allowed clients' public ones."""

    model_config = ConfigDict(extra="forbid")

    secret_key_file: Path
    client_keys_dir: Path

    def keys(self) -> CurveServerKeys:
        """The runtime's key holder (files are read when the socket is set up)."""
        from vgsum.runtime.daemon.curve import CurveServerKeys

        return CurveServerKeys(self.secret_key_file.expanduser(), self.client_keys_dir.expanduser())


class PublishConfig(BaseModel):
    """Socket options of the ZeroMQ publisher."""

    model_config = ConfigDict(extra="forbid")

    endpoints: list[str] = Field(default_factory=lambda: ["pub+bind:tcp://127.0.0.1:5556"])
    sndhwm: int = Field(1000, ge=1, description="messages queued per subscriber before drops")
    status_interval_s: float = Field(2.0, gt=0, description="periodic status besides the on-change ones")
    heartbeat_interval_s: float = Field(5.0, gt=0)
    frame_messages: bool = Field(True, description="publish a `frame` message per sampled frame")
    curve: CurveKeysConfig | None = Field(None, description="CurveZMQ server keys: subscribers must hold a key")


class ControlConfig(BaseModel):
    """The REP socket for queries and status. Off loopback it needs CurveZMQ keys."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    endpoint: str = "tcp://127.0.0.1:5571"
    curve: CurveKeysConfig | None = None

    def curve_keys(self) -> CurveServerKeys | None:
        """Server keys when configured."""
        return None if self.curve is None else self.curve.keys()


class MetricsConfig(BaseModel):
    """Prometheus /metrics and /healthz over HTTP."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(9571, ge=0, le=65535, description="0 picks a free port")


class EngineConfig(BaseModel):
    """Where the engines are and what runs them."""

    model_config = ConfigDict(extra="forbid")

    dir: Path | None = Field(None, description="engine folder; default $VGSUM_ENGINES or ~/.cache/vgsum/engines")
    backend: Literal["onnxruntime", "tensorrt"] = "onnxruntime"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int | None = Field(None, ge=1, le=256, description="ONNX Runtime intra-op threads; None = default")
    max_batch: int = Field(8, ge=1, le=256, description="frames perceived together across streams")

    @property
    def folder(self) -> Path:
        """The engine folder in force."""
        return Path(self.dir).expanduser() if self.dir is not None else engine_dir()


class EdgeConfig(BaseModel):
    """Top level of `vgsum serve --config FILE`."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["summarize", "ingest"] = Field(
        "summarize", description="summarize: the full product; ingest: only sources -> status/frame messages"
    )
    streams: list[StreamConfig] = Field(min_length=1)
    publish: PublishConfig = Field(default_factory=PublishConfig)
    engines: EngineConfig = Field(default_factory=EngineConfig)
    summary: SummaryConfig = Field(default_factory=SummaryConfig)
    control: ControlConfig = Field(default_factory=ControlConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    def publish_curve_keys(self) -> CurveServerKeys | None:
        """The publisher's CurveZMQ server keys, when configured."""
        return None if self.publish.curve is None else self.publish.curve.keys()

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
    def _clips_outlast_the_decision(self) -> EdgeConfig:
        """A highlight is decided up to shot_delay_s + decision_delay_s after its shot ends; its packets must
        still be buffered then."""
        needed = self.summary.shot_latency_s()
        for stream in self.streams:
            if stream.clips_dir is not None and stream.clip_buffer_s <= needed:
                raise ValueError(
                    f"stream {stream.stream_id!r}: clip_buffer_s {stream.clip_buffer_s:g} must exceed "
                    f"how late a highlight is decided ({needed:g} s: summary.shot_delay_s + decision_delay_s "
                    "+ max_shot_s), or highlight clips lose their start"
                )
        return self

    @model_validator(mode="after")
    def _resolve_samples(self) -> EdgeConfig:
        """Turn `sample:NAME` URLs into the bundled clip's path (UserError when it is not installed)."""
        from vgsum.runtime.common.sample import bundled_sample

        for stream in self.streams:
            if stream.url.startswith(SAMPLE_SCHEME):
                stream.url = str(bundled_sample(stream.url[len(SAMPLE_SCHEME) :]))
        return self
