"""The message contract on ZeroMQ: one pydantic model per kind, JSON payloads, topic per kind and stream.

Subscribers in any language validate against `vgsum schema` (generated from these
models). Change a model only together with a `SCHEMA_VERSION` bump. Each payload
carries the version that last changed its own kind's form, so a subscriber built for
an older contract keeps reading every kind it knows and only flags the newer kinds.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    model_serializer,
    model_validator,
)

from vgsum.stream.state import StreamState

# 2: `status` gained `latency_ms` and `queue_depth` (both defaulted, so version-1 payloads still parse).
# 3: the `event` kind: a highlight's life cycle (start, updates, end) under one id. The other kinds are
#    unchanged and still say 2.
# 4: `event` and `highlight` gained `zones`, the camera's zones the highlight's objects and activity were in, and
#    `reason`, why an end came other than by the rule (`interrupted`: the daemon stopped without ending it and
#    ends it at its next start). A payload carries them, and says 4, only when it has one: a camera without zones
#    sends exactly the payloads of version 3, so subscribers built for it keep reading them.
# 5: the `recap` kind: a stream's daily recap video was written (on its own topic, `vgsum.recap.<stream>`);
#    `status` gained `frames_gated`, the frames a camera's perception gate let skip the engines, carried (and
#    saying 5) only when the stream's gate is on. Every other payload is exactly as in version 4, so a version-4
#    subscriber reads every kind it knows, and one that filters by kind never receives a recap at all.
SCHEMA_VERSION = 5
TOPIC_PREFIX = "vgsum"
_Zoned = TypeVar("_Zoned", bound=BaseModel)
DAEMON_STREAM_ID = "_daemon"  # the stream id of messages about the whole process (heartbeat)


def topic_for(kind: str, stream_id: str) -> str:
    """`vgsum.<kind>.<stream_id>`: subscribers filter by prefix (e.g. `vgsum.status.`)."""
    return f"{TOPIC_PREFIX}.{kind}.{stream_id}"


V4_FIELDS = ("zones", "reason")  # a highlight's fields only version 4 knows, sent only when set


def _zoned_version(message: _Zoned) -> _Zoned:
    """A payload with a version-4 field needs version 4 of the contract; one without stays as it was."""
    if any(getattr(message, name, None) for name in V4_FIELDS) and message.schema_version < 4:  # type: ignore
        message.schema_version = 4
    return message


def _without_empty_zones(data: dict) -> dict:
    """No version-4 key when it is not set: the payload a version-3 subscriber knows, byte for byte."""
    for name in V4_FIELDS:
        if not data.get(name):
            data.pop(name, None)
    return data


class MessageBase(BaseModel):
    """Fields every message carries. `seq` counts per (stream, kind) from 0 with no gaps at the sender."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1, 2, 3, 4, 5] = 2  # the kinds that did not change since; `recap` says 5
    kind: str
    stream_id: str
    seq: int = Field(ge=0)
    media_time: float | None = Field(None, description="seconds of stream time; null when not tied to a frame")
    wall_time: float = Field(description="unix seconds when the message was made")


class StatusMessage(MessageBase):
    """A stream's health: sent on every state change and periodically."""

    kind: Literal["status"] = "status"
    state: StreamState
    url: str = Field(description="the source URL with credentials masked")
    fps_in: float = Field(ge=0, description="decoded frames per second over the last interval")
    fps_out: float = Field(ge=0, description="sampled frames per second over the last interval")
    frames_decoded: int = Field(ge=0)
    frames_sampled: int = Field(ge=0)
    frames_dropped: int = Field(ge=0, description="sampled frames discarded by the drop_oldest queue")
    lag_s: float = Field(ge=0, description="age of the oldest frame waiting in the queue")
    reconnects: int = Field(ge=0)
    stalls: int = Field(0, ge=0)
    epoch: int = Field(-1, ge=-1, description="grows after every reconnect or loop; -1 before the first frame")
    last_error: str | None = Field(None, description="redacted")
    latency_ms: dict[str, float] = Field(
        default_factory=dict,
        description="mean per-stage latency since the last status (perception, refiner_frame, ...)",
    )
    queue_depth: int = Field(0, ge=0, description="frames waiting in the stream's queue")
    frames_gated: int | None = Field(
        None, ge=0,
        description="frames the perception gate let skip perception since the start (version 5; absent: gate off)",
    )

    @model_validator(mode="after")
    def _gate_needs_version_5(self) -> StatusMessage:
        """A payload with `frames_gated` needs version 5 of the contract; one without stays as it was."""
        if self.frames_gated is not None and self.schema_version < 5:
            self.schema_version = 5
        return self

    @model_serializer(mode="wrap")
    def _no_gate_count_when_off(self, handler: SerializerFunctionWrapHandler) -> dict:
        """No version-5 key when the gate is off: the payload a version-4 subscriber knows, byte for byte."""
        data = handler(self)
        if data.get("frames_gated") is None:
            data.pop("frames_gated", None)
        return data


class HeartbeatMessage(MessageBase):
    """The process is alive; sent every `heartbeat_interval_s` with stream id `_daemon`."""

    kind: Literal["heartbeat"] = "heartbeat"
    uptime_s: float = Field(ge=0)
    streams_live: int = Field(ge=0, description="streams in state `streaming`")
    streams: dict[str, StreamState] = Field(default_factory=dict, description="stream id -> state")


class FrameMessage(MessageBase):
    """A frame was sampled (ingest path observability; pixels are not sent)."""

    kind: Literal["frame"] = "frame"
    pts: float = Field(description="seconds in the source clock (restarts each epoch)")
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    epoch: int = Field(0, ge=0, description="frames of different epochs are not contiguous")
    frame_seq: int = Field(0, ge=0, description="sampled-frame counter of the stream (gaps = queue drops)")


class ScoreMessage(MessageBase):
    """A highlight score at stream time `t`; provisional ones may change, a final one never does."""

    kind: Literal["score"] = "score"
    t: float
    score: float = Field(ge=0.0, le=1.0)
    final: bool


class HighlightMessage(MessageBase):
    """A selected stretch of the stream with what was seen in it."""

    kind: Literal["highlight"] = "highlight"
    start: float
    end: float
    score: float = Field(ge=0.0, le=1.0)
    objects: dict[str, int] = Field(default_factory=dict, description="label -> count")
    query: str | None = Field(None, description="the matched text query, if any")
    clip: str | None = Field(None, description="path of a written clip, if any")
    zones: list[str] = Field(
        default_factory=list, description="the camera's zones its objects or activity were in (version 4; absent: none)"
    )
    reason: Literal["interrupted"] | None = Field(
        None, description="why it ended other than by the rule: interrupted (ended at the daemon's next start)"
    )

    @model_validator(mode="after")
    def _zones_need_version_4(self) -> HighlightMessage:
        return _zoned_version(self)

    @model_serializer(mode="wrap")
    def _no_empty_zones(self, handler: SerializerFunctionWrapHandler) -> dict:
        return _without_empty_zones(handler(self))


class EventMessage(MessageBase):
    """A highlight's life: `start` within about a second of the activity, `update`s, one `end` with the final span.

    The `end` goes out together with a `highlight` message of the same span, so
    subscribers of `highlight` alone see every finished highlight once.
    """

    schema_version: Literal[3, 4] = 3
    kind: Literal["event"] = "event"
    id: str = Field(min_length=1, description="the highlight's id, the same in all its messages (unique per stream)")
    phase: Literal["start", "update", "end"]
    start: float
    end: float = Field(description="the span so far; final in the `end` message")
    score: float = Field(ge=0.0, le=1.0, description="the peak score so far")
    objects: dict[str, int] = Field(default_factory=dict, description="label -> most seen at once so far")
    query: str | None = Field(None, description="the matched text query, if any")
    clip: str | None = Field(None, description="path of the written clip (in the `end` message), if any")
    zones: list[str] = Field(
        default_factory=list, description="the camera's zones its objects or activity were in so far (version 4)"
    )
    reason: Literal["interrupted"] | None = Field(
        None, description="at `end`, why it ended other than by the rule: interrupted (version 4)"
    )

    @model_validator(mode="after")
    def _zones_need_version_4(self) -> EventMessage:
        return _zoned_version(self)

    @model_serializer(mode="wrap")
    def _no_empty_zones(self, handler: SerializerFunctionWrapHandler) -> dict:
        return _without_empty_zones(handler(self))


class RecapMessage(MessageBase):
    """A stream's recap was written: a short video of its last day's highlights, chosen within a time budget.

    Sent once per stream and recap (the daemon's daily recap, `recap:` in its config), after the files exist;
    `url` plays it on the daemon's history page. Nothing is sent for a day with nothing to recap.
    """

    schema_version: Literal[5] = 5
    kind: Literal["recap"] = "recap"
    id: str = Field(min_length=1, description="the recap's id: its row in the store and its name on the page")
    since: float = Field(description="unix seconds: the start of the recapped time range")
    until: float = Field(description="unix seconds: its end")
    duration: float = Field(ge=0, description="seconds of video")
    parts: int = Field(ge=1, description="how many highlights' parts the video joins")
    query: str | None = Field(None, description="only highlights that answer this text were recapped, if set")
    path: str = Field(description="the MP4 on the daemon's machine (captions `.vtt` and the reasons `.json` beside it)")
    url: str | None = Field(
        None, description="the video on the daemon's history page, relative to its address (null: no page)"
    )
    created_at: float = Field(description="unix seconds when the video was written")


Message = Annotated[
    StatusMessage | HeartbeatMessage | FrameMessage | ScoreMessage | HighlightMessage | EventMessage | RecapMessage,
    Field(discriminator="kind"),
]
MESSAGE_TYPES: dict[str, type[MessageBase]] = {
    "status": StatusMessage,
    "heartbeat": HeartbeatMessage,
    "frame": FrameMessage,
    "score": ScoreMessage,
    "highlight": HighlightMessage,
    "event": EventMessage,
    "recap": RecapMessage,
}
KINDS = tuple(MESSAGE_TYPES)
_ADAPTER: TypeAdapter[MessageBase] = TypeAdapter(Message)


def payload_version(payload: bytes | str) -> int | None:
    """The `schema_version` a payload claims, read without validating it (None when unreadable)."""
    import json

    try:
        version = json.loads(payload).get("schema_version")
    except (ValueError, AttributeError):
        return None
    return version if isinstance(version, int) else None


def parse_message(payload: bytes | str) -> MessageBase:
    """Validate a JSON payload into its kind's model; raises pydantic.ValidationError when invalid."""
    return _ADAPTER.validate_json(payload)


def json_schema(kind: str | None = None) -> dict:
    """The JSON Schema of one kind, or of the union of all kinds."""
    if kind is None:
        return _ADAPTER.json_schema()
    return MESSAGE_TYPES[kind].model_json_schema()
