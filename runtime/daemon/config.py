"""`EdgeConfig`: the daemon's whole configuration, one YAML file (`configs/edge.yaml`).

One model per section, each beside the code it configures where that code lives
lower down (streams in `stream/`, engines, summary), so a section can be read and
tested without the daemon. Unknown keys are errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from vgsum.runtime.engines.config import EngineConfig
from vgsum.runtime.live.config import CameraConfig
from vgsum.runtime.mqtt.config import MqttConfig
from vgsum.runtime.store.config import StoreConfig
from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.queries import clean_queries
from vgsum.runtime.web.config import WebConfig
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

    @model_validator(mode="after")
    def _loopback_unless_curve(self) -> ControlConfig:
        """The exposure rule, checked when the config loads, so every mode (ingest too) refuses the same configs."""
        from vgsum.runtime.common.errors import UserError
        from vgsum.runtime.daemon.exposure import control_refusal

        if not self.enabled:
            return self
        try:
            refusal = control_refusal(self.endpoint, self.curve is not None)
        except UserError as err:
            raise ValueError(str(err)) from None
        if refusal is not None:
            raise ValueError(refusal)
        return self

    def curve_keys(self) -> CurveServerKeys | None:
        """Server keys when configured."""
        return None if self.curve is None else self.curve.keys()


class MetricsConfig(BaseModel):
    """Prometheus /metrics and /healthz over HTTP."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(9571, ge=0, le=65535, description="0 picks a free port")


class EdgeConfig(BaseModel):
    """Top level of `vgsum serve --config FILE`."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["summarize", "ingest"] = Field(
        "summarize", description="summarize: the full product; ingest: only sources -> status/frame messages"
    )
    streams: list[CameraConfig] = Field(min_length=1)
    publish: PublishConfig = Field(default_factory=PublishConfig)
    engines: EngineConfig = Field(default_factory=EngineConfig)
    summary: SummaryConfig = Field(default_factory=SummaryConfig)
    control: ControlConfig = Field(default_factory=ControlConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    _summaries: dict[str, SummaryConfig] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _stream_summaries(self) -> EdgeConfig:
        """Each stream's summary settings: the `summary:` section with the stream's own changes applied."""
        for index, stream in enumerate(self.streams):
            try:
                self._summaries[stream.stream_id] = self.summary.with_changes(stream.summary)
            except ValueError as err:
                raise ValueError(f"streams.{index}.summary.{err}") from None
        return self

    def summary_for(self, stream_id: str) -> SummaryConfig:
        """The summary settings stream `stream_id` runs with."""
        return self._summaries.get(stream_id, self.summary)

    @field_validator("streams", mode="before")
    @classmethod
    def _sources_are_cameras(cls, streams: object) -> object:
        """A bare `StreamConfig` (a source with nothing tuned) is a camera with the defaults."""
        if isinstance(streams, list):
            return [
                s.model_dump() if isinstance(s, StreamConfig) and not isinstance(s, CameraConfig)
                else s
                for s in streams
            ]
        return streams

    @field_validator("streams")
    @classmethod
    def _unique_ids(cls, streams: list[CameraConfig]) -> list[CameraConfig]:
        seen: set[str] = set()
        for stream in streams:
            if stream.stream_id in seen:
                raise ValueError(f"stream_id {stream.stream_id!r} appears twice; ids must be unique")
            seen.add(stream.stream_id)
        return streams

    @field_validator("streams")
    @classmethod
    def _clean_queries(cls, streams: list[CameraConfig]) -> list[CameraConfig]:
        """The rules of the control socket's `set_queries` hold for configured queries too."""
        for stream in streams:
            try:
                stream.queries = clean_queries(stream.queries)
            except ValueError as err:
                raise ValueError(f"stream {stream.stream_id!r}: {err}") from None
        return streams

    @model_validator(mode="after")
    def _clips_outlast_the_decision(self) -> EdgeConfig:
        """A highlight's clip is cut when its last message goes out; its first packets must still be buffered."""
        for stream in self.streams:
            summary = self.summary_for(stream.stream_id)
            needed = summary.highlight_latency_s()
            why = (
                "summary.events.max_s + end_s + min_s" if summary.selection == "events"
                else "summary.shot_delay_s + decision_delay_s + max_shot_s"
            )
            if stream.clips_dir is not None and stream.clip_buffer_s <= needed:
                raise ValueError(
                    f"stream {stream.stream_id!r}: clip_buffer_s {stream.clip_buffer_s:g} must exceed "
                    f"how long before its last message a highlight can start ({needed:g} s: {why}), "
                    "or highlight clips lose their start"
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
