"""The MQTT bridge: events, highlights, stream states and thumbnails to a broker, with Home Assistant discovery.

`config` (the `mqtt:` section), `topics` (the topic layout and payloads),
`discovery` (Home Assistant configs) and `bridge` (`MqttBridge`, an observer of the
publisher). Nothing here imports paho until a bridge starts, so a daemon with
`mqtt.enabled: false` never loads it.
"""
