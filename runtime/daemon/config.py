"""`EdgeConfig`: the daemon's whole configuration, one YAML file (`configs/edge.yaml`).

One model per section, each beside the code it configures where that code lives
lower down (streams in `stream/`, engines, summary), so a section can be read and
tested without the daemon. Unknown keys are errors.
"""

from __future__ import annotations

import re
from datetime import time as clock_time
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.config import EngineConfig
from vgsum.runtime.live.config import CameraConfig
from vgsum.runtime.mqtt.config import MqttConfig
from vgsum.runtime.recap.budget import parse_budget
from vgsum.runtime.store.config import StoreConfig
from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.queries import clean_queries
from vgsum.runtime.web.config import WebConfig
from vgsum.stream.config import StreamConfig

if TYPE_CHECKING:
    from vgsum.runtime.daemon.curve import CurveServerKeys

SAMPLE_SCHEME = "sample:"  # `url: sample:bikes.mp4` names a clip bundled with the install
DAY_S = 86_400.0
_AT = re.compile(r"(\d{1,2}):(\d{2})")  # a time of day, HH:MM


class RecapConfig(BaseModel):
    """The daily recap (daily_recap.py): each stream's last 24 hours, written at a local time of day and announced.

    Per stream, so that each camera has its own video, message and MQTT topic, and a
    subscriber follows the cameras it cares about. Off by default: a recap reads clips
    and writes video, work an owner asks for.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    at: str = Field("06:00", description="local time of day, HH:MM (24 h): the recap covers the 24 h before it")
    budget: str = Field("3m", description="each recap's length: 3m, 90s, 1h, or a share of the day (5%)")
    streams: list[str] | None = Field(None, description="stream ids to recap (default: every configured stream)")
    query: str | None = Field(None, max_length=200, description="only highlights that answer this text")
    keep_days: float = Field(14.0, gt=0, description="recaps older than this are deleted with their files")

    @field_validator("at", mode="before")
    @classmethod
    def _time_of_day(cls, value: object) -> object:
        """`HH:MM`, 00:00 to 23:59. YAML 1.1 reads an unquoted `6:30` as 390 (base 60): said, not misread."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError('YAML read a number; write the time of day in quotes, e.g. at: "06:30"')
        if not isinstance(value, str):
            raise ValueError("must be a time of day, \"HH:MM\"")
        match = _AT.fullmatch(value.strip())
        if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise ValueError(f"{value[:20]!r} is not a time of day; write HH:MM from 00:00 to 23:59, e.g. \"06:00\"")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @field_validator("budget", mode="before")
    @classmethod
    def _budget(cls, value: object) -> object:
        """Read now, so a bad budget stops the start, not the first recap a day later."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = f"{value:g}"
        if not isinstance(value, str):
            raise ValueError("must be a length: 3m, 90s, 1h or 5%")
        try:
            parse_budget(value).for_range(DAY_S)
        except UserError as err:
            raise ValueError(str(err)) from None
        return value.strip()

    @field_validator("streams")
    @classmethod
    def _streams(cls, streams: list[str] | None) -> list[str] | None:
        if streams is not None and not streams:
            raise ValueError("an empty list recaps nothing; leave the key out to recap every stream")
        return None if streams is None else list(dict.fromkeys(streams))

    @field_validator("query")
    @classmethod
    def _query(cls, query: str | None) -> str | None:
        return (query or "").strip() or None

    @property
    def time_of_day(self) -> clock_time:
        """`at` as a time (local)."""
        hours, minutes = self.at.split(":")
        return clock_time(int(hours), int(minutes))


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
    recap: RecapConfig = Field(default_factory=RecapConfig)
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
    def _recap_streams(self) -> EdgeConfig:
        """The daily recap reads the store, and only of streams this daemon serves."""
        if self.recap.enabled and not self.store.enabled:
            raise ValueError("recap.enabled needs store.enabled: a recap is made from the stored highlights")
        ids = [s.stream_id for s in self.streams]
        unknown = [s for s in self.recap.streams or [] if s not in ids]
        if unknown:
            raise ValueError(f"recap.streams: no stream {unknown[0][:64]!r}; streams: {', '.join(ids)}")
        return self

    @model_validator(mode="after")
    def _resolve_samples(self) -> EdgeConfig:
        """Turn `sample:NAME` URLs into the bundled clip's path (UserError when it is not installed)."""
        from vgsum.runtime.common.sample import bundled_sample

        for stream in self.streams:
            if stream.url.startswith(SAMPLE_SCHEME):
                stream.url = str(bundled_sample(stream.url[len(SAMPLE_SCHEME) :]))
        return self
