"""Schema versions: 2 (`status` gained latency_ms and queue_depth), 3 (the `event` kind), 4 (`zones` on `event` and
`highlight`, sent only when a highlight names a zone), 5 (the `recap` kind, on its own topic, and
`frames_gated` on `status`, sent only when the stream's perception gate is on): old and new subscribers."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Literal

import pytest
import zmq
from pydantic import ConfigDict, ValidationError

from vgsum.stream.messages import (
    SCHEMA_VERSION,
    EventMessage,
    HeartbeatMessage,
    HighlightMessage,
    RecapMessage,
    ScoreMessage,
    StatusMessage,
    parse_message,
)
from vgsum.stream.publish import Publisher
from vgsum.stream.subscribe import Subscriber, wait_until_subscribed

V1_STATUS = {
    "schema_version": 1,
    "kind": "status",
    "stream_id": "cam",
    "seq": 0,
    "media_time": 1.0,
    "wall_time": 1.0,
    "state": "streaming",
    "url": "rtsp://***@h/x",
    "fps_in": 25.0,
    "fps_out": 2.0,
    "frames_decoded": 50,
    "frames_sampled": 4,
    "frames_dropped": 0,
    "lag_s": 0.0,
    "reconnects": 0,
}


class StatusV1(StatusMessage):
    """A subscriber built against version 1: only version 1, none of the new fields."""

    model_config = ConfigDict(extra="forbid")
    schema_version: Literal[1] = 1


for _name in ("latency_ms", "queue_depth"):
    StatusV1.model_fields.pop(_name)
StatusV1.model_rebuild(force=True)


def test_version_is_5_and_version_1_payloads_still_parse() -> None:
    assert SCHEMA_VERSION == 5
    old = parse_message(json.dumps(V1_STATUS))
    assert isinstance(old, StatusMessage) and old.latency_ms == {} and old.queue_depth == 0


def test_an_old_subscriber_rejects_a_version_2_status_instead_of_misreading_it() -> None:
    new = StatusMessage(**{**V1_STATUS, "schema_version": 2}, latency_ms={"perception": 41.0}, queue_depth=3)
    with pytest.raises(ValidationError) as err:
        StatusV1.model_validate_json(new.model_dump_json())
    assert {e["loc"][0] for e in err.value.errors()} >= {"schema_version", "latency_ms", "queue_depth"}


def test_subscriber_says_when_a_message_is_from_a_newer_schema(caplog) -> None:
    with Publisher(["pub+bind:tcp://127.0.0.1:*"]) as publisher, Subscriber(publisher.endpoints[0]) as subscriber:
        assert wait_until_subscribed(publisher, subscriber)
        raw = publisher._socket  # noqa: SLF001 - send a payload no current publisher would make
        future = {**V1_STATUS, "schema_version": 6, "new_field": 1}
        with caplog.at_level(logging.WARNING):
            for _ in range(3):
                raw.send_multipart([b"vgsum.status.cam", json.dumps(future).encode()], flags=zmq.NOBLOCK)
                time.sleep(0.05)
            subscriber.recv(timeout_s=0.5)
        assert subscriber.newer >= 1
        assert "newer than this subscriber's 5" in caplog.text


V2_SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "messages_v2.schema.json"


def test_a_version_2_subscriber_reads_every_kind_it_knows_and_only_events_are_new() -> None:
    """`vgsum schema` as version 2 printed it validates what a version-3 publisher sends, except `event`."""
    import jsonschema

    v2 = jsonschema.Draft202012Validator(json.loads(V2_SCHEMA.read_text()))
    with Publisher(["pub+bind:tcp://127.0.0.1:*"]) as publisher, Subscriber(publisher.endpoints[0]) as subscriber:
        assert wait_until_subscribed(publisher, subscriber)
        publisher.publish(ScoreMessage, "cam", media_time=1.0, t=1.0, score=0.5, final=True)
        common = dict(start=1.0, end=3.0, score=0.9, objects={"person": 1}, query=None, clip=None)
        publisher.publish(EventMessage, "cam", media_time=3.0, id="a1", phase="end", **common)
        publisher.publish(HighlightMessage, "cam", media_time=3.0, **common)
        received = []
        deadline = time.monotonic() + 5
        while len(received) < 3 and time.monotonic() < deadline:
            item = subscriber.recv(timeout_s=0.5)
            if item is not None:
                received.append(item)
    assert [r.message.kind for r in received] == ["score", "event", "highlight"]
    payloads = {r.message.kind: json.loads(r.message.model_dump_json()) for r in received}
    v2.validate(payloads["score"])
    v2.validate(payloads["highlight"])
    assert payloads["score"]["schema_version"] == payloads["highlight"]["schema_version"] == 2
    assert payloads["event"]["schema_version"] == 3
    assert not v2.is_valid(payloads["event"])


V3_SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "messages_v3.schema.json"


def test_a_version_3_subscriber_reads_cameras_without_zones_and_is_told_of_zoned_highlights() -> None:
    """`vgsum schema` as version 3 printed it: a camera without zones sends exactly what it knows; a highlight that
    names zones says version 4, so an old subscriber flags it instead of misreading it."""
    import jsonschema

    v3 = jsonschema.Draft202012Validator(json.loads(V3_SCHEMA.read_text()))
    common = dict(start=1.0, end=3.0, score=0.9, objects={"person": 1}, query=None, clip=None)
    plain_event = EventMessage(stream_id="cam", seq=0, wall_time=1.0, id="a1", phase="end", **common)
    plain_highlight = HighlightMessage(stream_id="cam", seq=0, wall_time=1.0, **common)
    zoned_event = EventMessage(stream_id="cam", seq=1, wall_time=1.0, id="a2", phase="end", zones=["door"], **common)
    zoned_highlight = HighlightMessage(stream_id="cam", seq=1, wall_time=1.0, zones=["door"], **common)
    for plain in (plain_event, plain_highlight):
        payload = json.loads(plain.model_dump_json())
        assert "zones" not in payload and payload["schema_version"] in (2, 3)
        v3.validate(payload)
        assert parse_message(plain.model_dump_json()).zones == []
    for zoned in (zoned_event, zoned_highlight):
        payload = json.loads(zoned.model_dump_json())
        assert payload["schema_version"] == 4 and payload["zones"] == ["door"]
        assert not v3.is_valid(payload)  # the old contract refuses it whole, it never reads half of it
        assert parse_message(zoned.model_dump_json()).zones == ["door"]  # a version-4 subscriber reads it


V4_SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "messages_v4.schema.json"
V4_KINDS = ["status", "heartbeat", "frame", "score", "highlight", "event"]


def _drain(subscriber: Subscriber, count: int, timeout_s: float = 5.0) -> list:
    """The next `count` messages but the handshakes' heartbeats (`wait_until_subscribed` of either subscriber)."""
    received = []
    deadline = time.monotonic() + timeout_s
    while len(received) < count and time.monotonic() < deadline:
        item = subscriber.recv(timeout_s=0.2)
        if item is not None and not (item.message.kind == "heartbeat" and item.message.uptime_s == 0.0):
            received.append(item)
    return received


def test_a_version_4_subscriber_reads_every_kind_it_knows_and_recaps_come_on_their_own_topic() -> None:
    """`vgsum schema` as version 4 printed it validates every kind a version-5 publisher sends but `recap`; a
    subscriber that asks for the kinds it knows never even receives a recap, one of every kind gets it on
    `vgsum.recap.<stream>`, saying version 5."""
    import jsonschema

    v4 = jsonschema.Draft202012Validator(json.loads(V4_SCHEMA.read_text()))
    common = dict(start=1.0, end=3.0, score=0.9, objects={"person": 1}, query=None, clip=None)
    recap = dict(id="0123456789abcdef", since=0.0, until=86400.0, duration=42.0, parts=3, query=None,
                 path="/var/lib/vgsum/recaps/cam_1970-01-02_0000_0123456789abcdef.mp4",
                 url="/recaps/0123456789abcdef.mp4", created_at=86401.0)
    with Publisher(["pub+bind:tcp://127.0.0.1:*"]) as publisher, \
            Subscriber(publisher.endpoints[0], kinds=V4_KINDS) as old, Subscriber(publisher.endpoints[0]) as new:
        assert wait_until_subscribed(publisher, old) and wait_until_subscribed(publisher, new)
        publisher.publish(StatusMessage, "cam", **{k: v for k, v in V1_STATUS.items()
                                                  if k not in ("schema_version", "kind", "stream_id", "seq",
                                                               "wall_time", "media_time")})
        publisher.publish(HeartbeatMessage, "_daemon", uptime_s=1.0, streams_live=1)
        publisher.publish(ScoreMessage, "cam", media_time=1.0, t=1.0, score=0.5, final=True)
        publisher.publish(EventMessage, "cam", media_time=3.0, id="a1", phase="end", **common)
        publisher.publish(HighlightMessage, "cam", media_time=3.0, **common)
        sent = publisher.publish(RecapMessage, "cam", **recap)
        publisher.publish(ScoreMessage, "cam", media_time=2.0, t=2.0, score=0.6, final=True)  # after the recap
        got_new = _drain(new, 7)
        got_old = _drain(old, 6)
    assert [r.message.kind for r in got_new] == ["status", "heartbeat", "score", "event", "highlight", "recap", "score"]
    assert [r.message.kind for r in got_old] == ["status", "heartbeat", "score", "event", "highlight", "score"]
    assert not any(r.gap for r in got_old)  # a recap is no gap in the kinds an old subscriber follows
    for r in got_old:
        v4.validate(json.loads(r.message.model_dump_json()))  # every kind it knows, exactly as it knows it
    (received,) = [r for r in got_new if r.message.kind == "recap"]
    assert received.topic == "vgsum.recap.cam" and received.message == sent
    payload = json.loads(sent.model_dump_json())
    assert payload["schema_version"] == 5 and not v4.is_valid(payload)  # the old contract refuses it whole


def test_a_version_4_subscriber_reads_streams_without_the_gate_and_is_told_of_gated_ones() -> None:
    """`vgsum schema` as version 4 printed it: a stream without the perception gate sends exactly the status it
    knows; a gated stream's status carries `frames_gated` and says version 5, so an old subscriber flags it."""
    import jsonschema

    v4 = jsonschema.Draft202012Validator(json.loads(V4_SCHEMA.read_text()))
    fields = {k: v for k, v in V1_STATUS.items() if k != "schema_version"}
    plain = StatusMessage(**fields, latency_ms={"perception": 41.0}, queue_depth=0)
    gated = StatusMessage(**fields, latency_ms={"perception": 41.0}, queue_depth=0, frames_gated=0)
    payload = json.loads(plain.model_dump_json())
    assert "frames_gated" not in payload and payload["schema_version"] == 2
    v4.validate(payload)
    assert parse_message(plain.model_dump_json()).frames_gated is None
    payload = json.loads(gated.model_dump_json())
    assert payload["schema_version"] == 5 and payload["frames_gated"] == 0  # on, nothing gated yet: still said
    assert not v4.is_valid(payload)  # the old contract refuses it whole, it never reads half of it
    assert parse_message(gated.model_dump_json()).frames_gated == 0  # a version-5 subscriber reads it
