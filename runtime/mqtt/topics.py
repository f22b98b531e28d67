"""The MQTT topic layout and the bridge's own payloads (docs/mqtt.md is the reader's version).

Under `<prefix>` (`mqtt.topic_prefix`, default `vgsum`), all at QoS 1:

| topic | retained | payload |
|---|---|---|
| `<prefix>/availability` | yes | `online`, or `offline` (on stop, and the last will) |
| `<prefix>/<stream>/event` | no | the `event` message exactly as on ZeroMQ (`vgsum schema event`) |
| `<prefix>/<stream>/highlight` | no | the `highlight` message exactly as on ZeroMQ (`vgsum schema highlight`) |
| `<prefix>/<stream>/state` | yes | `StreamStatePayload`, on a change of state or error |
| `<prefix>/<stream>/activity` | yes | `ON` while a highlight is open, else `OFF` |
| `<prefix>/<stream>/last_highlight` | yes | `LastHighlightPayload`, at each highlight's end |
| `<prefix>/<stream>/thumbnail` | yes | JPEG bytes of the latest highlight's picture |
| `<prefix>/<stream>/recap` | yes | the latest `recap` message exactly as on ZeroMQ (`vgsum schema recap`) |
| `<prefix>/<stream>/queries/set` | (in) | `QueriesCommand`, only with `mqtt.commands: true` |
| `<prefix>/<stream>/queries/reply` | no | `QueriesReply` to each command |

Why the `event`, `highlight` and `recap` payloads are the ZeroMQ JSON unchanged: one
contract, one schema, the same `seq` for deduplication. The retained topics hold
the latest value only, so Home Assistant (or anything subscribing late) reads the
current state at once.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from vgsum.stream.state import StreamState

AVAILABLE = "online"
NOT_AVAILABLE = "offline"
ACTIVITY_ON = "ON"
ACTIVITY_OFF = "OFF"
SUMMARY_MAX_CHARS = 255  # Home Assistant refuses a sensor state longer than this
MAX_COMMAND_BYTES = 16 * 1024  # as the control socket's request limit
MAX_COMMAND_QUERIES = 64  # the form's bound; the daemon's own rules (clean_queries) are tighter


class Topics:
    """Every topic of one bridge, from its prefix (stream ids are safe topic levels: `[A-Za-z0-9_-]`)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.availability = f"{prefix}/availability"

    def stream(self, stream_id: str, leaf: str) -> str:
        """`<prefix>/<stream>/<leaf>`."""
        return f"{self.prefix}/{stream_id}/{leaf}"

    def event(self, stream_id: str) -> str:
        return self.stream(stream_id, "event")

    def highlight(self, stream_id: str) -> str:
        return self.stream(stream_id, "highlight")

    def state(self, stream_id: str) -> str:
        return self.stream(stream_id, "state")

    def activity(self, stream_id: str) -> str:
        return self.stream(stream_id, "activity")

    def last_highlight(self, stream_id: str) -> str:
        return self.stream(stream_id, "last_highlight")

    def thumbnail(self, stream_id: str) -> str:
        return self.stream(stream_id, "thumbnail")

    def recap(self, stream_id: str) -> str:
        return self.stream(stream_id, "recap")

    def queries_set(self, stream_id: str) -> str:
        return self.stream(stream_id, "queries/set")

    def queries_reply(self, stream_id: str) -> str:
        return self.stream(stream_id, "queries/reply")


class StreamStatePayload(BaseModel):
    """`<prefix>/<stream>/state`: the stream's state from its latest `status` message (retained)."""

    model_config = ConfigDict(extra="forbid")

    stream_id: str
    state: StreamState
    last_error: str | None = Field(None, description="redacted, as in `status`")
    wall_time: float = Field(description="unix seconds of the status message that changed it")


class LastHighlightPayload(BaseModel):
    """`<prefix>/<stream>/last_highlight`: the latest finished highlight (retained), from its `event` end."""

    model_config = ConfigDict(extra="forbid")

    id: str
    stream_id: str
    start: float = Field(description="seconds of stream time")
    end: float
    score: float = Field(ge=0.0, le=1.0)
    objects: dict[str, int] = Field(default_factory=dict, description="label -> most seen at once")
    query: str | None = Field(None, description="the matched text query, if any")
    clip: str | None = Field(None, description="the clip's path on the daemon's machine, if any")
    wall_time: float = Field(description="unix seconds when the highlight ended")
    summary: str = Field(
        max_length=SUMMARY_MAX_CHARS,
        description="one line for a sensor's state: `person 2, car 1 (query: red car)`, or `activity`",
    )


class QueriesCommand(BaseModel):
    """`<prefix>/<stream>/queries/set`: replace the stream's queries (`[]` clears them); not retained."""

    model_config = ConfigDict(extra="forbid", strict=True)

    queries: list[str] = Field(max_length=MAX_COMMAND_QUERIES)


class QueriesReply(BaseModel):
    """`<prefix>/<stream>/queries/reply`: `ok` with the stream's queries now, or one line of `error`."""

    model_config = ConfigDict(extra="forbid")

    ok: bool
    stream_id: str
    queries: list[str] | None = None
    error: str | None = None


PAYLOADS: dict[str, type[BaseModel]] = {
    "mqtt-state": StreamStatePayload,
    "mqtt-last-highlight": LastHighlightPayload,
    "mqtt-queries-set": QueriesCommand,
    "mqtt-queries-reply": QueriesReply,
}


def json_schema(name: str) -> dict:
    """The JSON Schema of one of the bridge's own payloads (`vgsum schema mqtt-state`, ...)."""
    return PAYLOADS[name].model_json_schema()


def highlight_summary(objects: dict[str, int], query: str | None) -> str:
    """One line for Home Assistant: the most seen objects first, then the matched query; cut to the sensor limit."""
    parts = [f"{label} {count}" for label, count in sorted(objects.items(), key=lambda kv: (-kv[1], kv[0]))]
    text = ", ".join(parts) or "activity"
    if query:
        text += f" (query: {query})"
    return text if len(text) <= SUMMARY_MAX_CHARS else text[: SUMMARY_MAX_CHARS - 3] + "..."


def one_line(text: str, limit: int = 300) -> str:
    """`text` as one printable line of at most `limit` characters (an error reply may echo a publisher's input)."""
    flat = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
