"""Home Assistant MQTT discovery: the retained config messages that make each stream a device with entities.

Why discovery instead of YAML in Home Assistant: the daemon knows its streams, so
adding a camera to `edge.yaml` is enough for it to appear in Home Assistant. Each
config goes to `<discovery_prefix>/<component>/<node_id>/<object_id>/config`
(retained), where `node_id` is the topic prefix with `/` as `_` and `object_id` is
`<stream>_<entity>`. Per stream, one device ("<stream>", via the daemon's device):

- `binary_sensor` `activity` (device class motion): `ON` while a highlight is open;
- `sensor` `last_highlight`: the latest highlight's objects and query, its fields as attributes;
- `image` `thumbnail`: the latest highlight's picture (JPEG, retained);
- `sensor` `state` (diagnostic): connecting, streaming, reconnecting, ended, failed.

Every stream entity is unavailable while the daemon is offline (`availability_topic`,
the daemon's last will). Per daemon, one `binary_sensor` `daemon` (device class
connectivity) reads the same topic as its state, so the daemon's own absence shows as
"disconnected" rather than "unavailable". Long field names, not the abbreviations,
so the payloads read like Home Assistant's documentation.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from vgsum.runtime.mqtt.topics import ACTIVITY_OFF, ACTIVITY_ON, AVAILABLE, NOT_AVAILABLE, Topics
from vgsum.stream.state import StreamState


def _version() -> str:
    try:
        return version("vgsum")
    except PackageNotFoundError:
        return "unknown"


def config_topic(discovery_prefix: str, component: str, node_id: str, object_id: str) -> str:
    """`<discovery_prefix>/<component>/<node_id>/<object_id>/config`."""
    return f"{discovery_prefix}/{component}/{node_id}/{object_id}/config"


def discovery_configs(
    topics: Topics, node_id: str, stream_ids: list[str], discovery_prefix: str = "homeassistant"
) -> list[tuple[str, dict[str, Any]]]:
    """(config topic, config payload) of every entity: the daemon's, then each stream's, in config order."""
    sw = _version()
    origin = {"name": "vgsum", "sw_version": sw}
    daemon_device = {
        "identifiers": [node_id],
        "name": "vgsum" if node_id == "vgsum" else f"vgsum {node_id}",
        "manufacturer": "vgsum",
        "model": "vgsum daemon",
        "sw_version": sw,
    }
    availability = {
        "availability_topic": topics.availability,
        "payload_available": AVAILABLE,
        "payload_not_available": NOT_AVAILABLE,
    }
    configs: list[tuple[str, dict[str, Any]]] = [
        (
            config_topic(discovery_prefix, "binary_sensor", node_id, "daemon"),
            {
                "name": "Daemon",
                "unique_id": f"{node_id}_daemon",
                "device_class": "connectivity",
                "entity_category": "diagnostic",
                "state_topic": topics.availability,
                "payload_on": AVAILABLE,
                "payload_off": NOT_AVAILABLE,
                "qos": 1,
                "device": daemon_device,
                "origin": origin,
            },
        )
    ]
    for sid in stream_ids:
        device = {
            "identifiers": [f"{node_id}_{sid}"],
            "name": sid,
            "manufacturer": "vgsum",
            "model": "vgsum stream",
            "sw_version": sw,
            "via_device": node_id,
        }
        common = {"qos": 1, "device": device, "origin": origin, **availability}
        configs += [
            (
                config_topic(discovery_prefix, "binary_sensor", node_id, f"{sid}_activity"),
                {
                    "name": "Activity",
                    "unique_id": f"{node_id}_{sid}_activity",
                    "device_class": "motion",
                    "state_topic": topics.activity(sid),
                    "payload_on": ACTIVITY_ON,
                    "payload_off": ACTIVITY_OFF,
                    **common,
                },
            ),
            (
                config_topic(discovery_prefix, "sensor", node_id, f"{sid}_last_highlight"),
                {
                    "name": "Last highlight",
                    "unique_id": f"{node_id}_{sid}_last_highlight",
                    "icon": "mdi:movie-open-star",
                    "state_topic": topics.last_highlight(sid),
                    "value_template": "{{ value_json.summary }}",
                    "json_attributes_topic": topics.last_highlight(sid),
                    **common,
                },
            ),
            (
                config_topic(discovery_prefix, "image", node_id, f"{sid}_thumbnail"),
                {
                    "name": "Last highlight picture",
                    "unique_id": f"{node_id}_{sid}_thumbnail",
                    "image_topic": topics.thumbnail(sid),
                    "content_type": "image/jpeg",
                    **common,
                },
            ),
            (
                config_topic(discovery_prefix, "sensor", node_id, f"{sid}_last_recap"),
                {
                    "name": "Last recap",
                    "unique_id": f"{node_id}_{sid}_last_recap",
                    "icon": "mdi:movie-roll",
                    "device_class": "duration",
                    "unit_of_measurement": "s",
                    "state_topic": topics.recap(sid),
                    "value_template": "{{ value_json.duration | round(0) }}",
                    "json_attributes_topic": topics.recap(sid),  # url, parts, since, until of the day's video
                    **common,
                },
            ),
            (
                config_topic(discovery_prefix, "sensor", node_id, f"{sid}_state"),
                {
                    "name": "Stream state",
                    "unique_id": f"{node_id}_{sid}_state",
                    "device_class": "enum",
                    "options": [state.value for state in StreamState],
                    "entity_category": "diagnostic",
                    "state_topic": topics.state(sid),
                    "value_template": "{{ value_json.state }}",
                    "json_attributes_topic": topics.state(sid),
                    **common,
                },
            ),
        ]
    return configs
