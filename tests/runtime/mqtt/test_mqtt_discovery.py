"""Home Assistant discovery configs as a real broker holds them, checked against HA's documented fields.

The schema below is written from Home Assistant's MQTT discovery documentation
(binary_sensor, sensor, image, the shared entity and device options), not from
the bridge's code: unknown keys fail it, as they fail discovery in Home Assistant.
"""

from __future__ import annotations

import json

import jsonschema
import pytest
from mqtt_broker import fast_config
from polling import wait_until

from vgsum.stream.messages import EventMessage, RecapMessage, StatusMessage
from vgsum.stream.publish import Publisher
from vgsum.stream.state import StreamState

COMMON = {
    "availability", "availability_mode", "availability_template", "availability_topic", "payload_available",
    "payload_not_available", "device", "enabled_by_default", "encoding", "entity_category", "entity_picture", "icon",
    "json_attributes_template", "json_attributes_topic", "name", "object_id", "default_entity_id", "origin", "qos",
    "unique_id", "platform",
}
PER_COMPONENT = {
    "binary_sensor": {
        "device_class", "expire_after", "force_update", "off_delay", "payload_off", "payload_on", "state_topic",
        "value_template",
    },
    "sensor": {
        "device_class", "expire_after", "force_update", "last_reset_value_template", "options", "state_class",
        "state_topic", "suggested_display_precision", "unit_of_measurement", "value_template",
    },
    "image": {"content_type", "image_encoding", "image_topic", "url_template", "url_topic"},
}
REQUIRED = {"binary_sensor": ["state_topic"], "sensor": ["state_topic"], "image": ["image_topic"]}
TOPIC = {"type": "string", "minLength": 1, "pattern": r"^[^#+]+$"}
DEVICE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["identifiers", "name"],
    "properties": {
        "identifiers": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
        "connections": {"type": "array"},
        "name": {"type": "string", "minLength": 1},
        **{key: {"type": "string"} for key in (
            "configuration_url", "hw_version", "manufacturer", "model", "model_id", "serial_number",
            "suggested_area", "sw_version", "via_device",
        )},
    },
}
ORIGIN = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "sw_version": {"type": "string"}, "support_url": {"type": "string"}},
}


def schema(component: str, with_availability: bool) -> dict:
    required = ["unique_id", "device", *REQUIRED[component]]
    if with_availability:
        required += ["availability_topic", "payload_available", "payload_not_available"]
    properties: dict = {key: {} for key in COMMON | PER_COMPONENT[component]}
    properties |= {
        "unique_id": {"type": "string", "pattern": r"^[A-Za-z0-9_-]+$"},
        "device": DEVICE,
        "origin": ORIGIN,
        "qos": {"enum": [0, 1, 2]},
        "state_topic": TOPIC,
        "image_topic": TOPIC,
        "availability_topic": TOPIC,
        "json_attributes_topic": TOPIC,
        "entity_category": {"enum": ["config", "diagnostic"]},
    }
    return {"type": "object", "required": required, "additionalProperties": False, "properties": properties}


def test_schema_refuses_what_home_assistant_refuses() -> None:
    """The checker can fail: a config with an abbreviation it does not know, or without a device, is refused."""
    good = {"unique_id": "a", "device": {"identifiers": ["d"], "name": "d"}, "state_topic": "x/y"}
    jsonschema.validate(good, schema("sensor", False))
    for bad in ({**good, "stat_t": "x"}, {k: v for k, v in good.items() if k != "device"},
                {**good, "device": {"name": "d"}}, {**good, "state_topic": "x/#"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema("sensor", False))


RECAP = dict(id="0123456789abcdef", since=0.0, until=86400.0, duration=178.4, parts=13, query=None,
             path="/data/recaps/cam_0123456789abcdef.mp4", url="/recaps/0123456789abcdef.mp4", created_at=86401.0)


def test_discovery_configs_validate_and_point_at_topics_that_hold_values(broker, sinks, bridges) -> None:
    streams = ["cam1", "door-2"]
    sink = sinks(broker.port, ["homeassistant/#"])
    bridge = bridges(fast_config(broker.port, topic_prefix="vgsum/garage"), streams)
    wait_until(lambda: len(sink.messages) >= 1 + 5 * len(streams), what="the discovery configs")
    configs = {m.topic: json.loads(m.payload) for m in sink.messages}
    assert len(configs) == 1 + 5 * len(streams)

    publisher = Publisher(["pub+bind:tcp://127.0.0.1:*"])  # a finished highlight, so every topic has a value
    publisher.observers.append(bridge.record)
    for sid in streams:
        publisher.publish(
            StatusMessage, sid, state=StreamState.STREAMING, url="rtsp://cam", fps_in=0, fps_out=0,
            frames_decoded=0, frames_sampled=0, frames_dropped=0, lag_s=0, reconnects=0,
        )
        for phase in ("start", "end"):
            publisher.publish(
                EventMessage, sid, media_time=4, id=f"{sid}-1", phase=phase, start=1, end=4, score=0.8,
                objects={"person": 2}, query="a dog",
            )
        bridge.thumbnail(sid, f"{sid}-1", bytes.fromhex("ffd8ffd9"))
        publisher.publish(RecapMessage, sid, **RECAP)
    publisher.close()
    wait_until(lambda: bridge._queue.empty() and bridge.stats()["pending"] == 0, what="every ack")
    held = sinks(broker.port, ["vgsum/garage/#", "homeassistant/#"])  # what a Home Assistant starting now reads
    wait_until(lambda: len(held.messages) >= len(configs) + 1 + 5 * len(streams), what="the retained values")
    retained = {m.topic: m.payload for m in held.messages}
    assert all(m.retain for m in held.messages)

    unique_ids = set()
    for topic, config in configs.items():
        _, component, node_id, object_id, leaf = topic.split("/")
        assert (node_id, leaf) == ("vgsum_garage", "config") and component in PER_COMPONENT
        daemon_entity = object_id == "daemon"
        jsonschema.validate(config, schema(component, with_availability=not daemon_entity))
        unique_ids.add(config["unique_id"])
        assert retained[topic] == json.dumps(config).encode()  # retained for Home Assistant's restarts
        for key in ("state_topic", "image_topic", "json_attributes_topic", "availability_topic"):
            if key in config:
                assert config[key] in retained, f"{topic}: {key} {config[key]} holds no retained value"
        if component == "binary_sensor":
            assert retained[config["state_topic"]] in (config["payload_on"].encode(), config["payload_off"].encode())
        if not daemon_entity:
            assert config["availability_topic"] == "vgsum/garage/availability"
            assert retained[config["availability_topic"]] == config["payload_available"].encode()
            assert config["device"]["via_device"] == "vgsum_garage"
            assert config["device"]["identifiers"][0].split("_", 2)[-1] in streams
    assert len(unique_ids) == len(configs)  # unique across every entity of the daemon
    assert retained["vgsum/garage/door-2/thumbnail"] == bytes.fromhex("ffd8ffd9")


def test_value_templates_render_the_payloads_they_read(broker, sinks, bridges) -> None:
    jinja2 = pytest.importorskip("jinja2")
    sink = sinks(broker.port, ["homeassistant/sensor/#", "vgsum/cam1/#"])
    bridge = bridges(fast_config(broker.port), ["cam1"])
    publisher = Publisher(["pub+bind:tcp://127.0.0.1:*"])
    publisher.observers.append(bridge.record)
    publisher.publish(
        EventMessage, "cam1", media_time=4, id="h1", phase="end", start=1, end=4, score=0.8,
        objects={"car": 1, "person": 3}, query=None,
    )
    publisher.close()
    last = sink.wait_for("vgsum/cam1/last_highlight")[-1]
    config = json.loads(sink.wait_for("homeassistant/sensor/vgsum/cam1_last_highlight/config")[-1].payload)
    rendered = jinja2.Template(config["value_template"]).render(value_json=json.loads(last.payload))
    assert rendered == "person 3, car 1"
    recap = json.loads(RecapMessage(stream_id="cam1", seq=0, wall_time=1.0, **RECAP).model_dump_json())
    config = json.loads(sink.wait_for("homeassistant/sensor/vgsum/cam1_last_recap/config")[-1].payload)
    assert jinja2.Template(config["value_template"]).render(value_json=recap) == "178.0"
