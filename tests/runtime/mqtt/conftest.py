"""Fixtures of the MQTT tests: brokers, subscribers and bridges that are stopped after each test.

Without the `mosquitto` binary the tests skip with the reason, except under CI
(`CI=true`), where that is a failure: `.ci/run` installs Debian's mosquitto.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from mqtt_broker import Broker, Sink, mosquitto_binary

from vgsum.runtime.mqtt.bridge import MqttBridge
from vgsum.runtime.mqtt.config import MqttConfig


@pytest.fixture(scope="session")
def mosquitto() -> str:
    """The broker binary; skip (or fail under CI) when it is missing."""
    binary = mosquitto_binary()
    if binary is None:
        reason = "mosquitto is not installed (apt-get install mosquitto)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"MQTT broker unavailable in CI: {reason}")
        pytest.skip(reason)
    pytest.importorskip("paho.mqtt.client", reason="paho-mqtt is not installed (pip install 'vgsum[mqtt]')")
    return binary


@pytest.fixture
def make_broker(mosquitto: str, tmp_path: Path) -> Iterator[Callable[..., Broker]]:
    """`make_broker(persistence=..., password_file=...)` -> a started broker, stopped after the test."""
    brokers: list[Broker] = []

    def make(**options: object) -> Broker:
        folder = tmp_path / f"broker{len(brokers)}"
        folder.mkdir()
        broker = Broker(mosquitto, folder, **options)  # type: ignore[arg-type]
        brokers.append(broker)
        return broker.start()

    yield make
    for broker in brokers:
        broker.stop()


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    """A plain broker (anonymous, no persistence)."""
    return make_broker()


@pytest.fixture
def sinks() -> Iterator[Callable[..., Sink]]:
    """`sinks(port, topics, ...)` -> a subscribed Sink, closed after the test."""
    made: list[Sink] = []

    def make(port: int, topics: list[str], **options: object) -> Sink:
        sink = Sink(port, topics, **options)  # type: ignore[arg-type]
        made.append(sink)
        return sink.wait_subscribed()

    yield make
    for sink in made:
        sink.close()


@pytest.fixture
def bridges() -> Iterator[Callable[..., MqttBridge]]:
    """`bridges(cfg, stream_ids, ...)` -> a started MqttBridge, stopped after the test."""
    made: list[MqttBridge] = []

    def make(cfg: MqttConfig, stream_ids: list[str], **options: object) -> MqttBridge:
        bridge = MqttBridge(cfg, stream_ids, **options).start()  # type: ignore[arg-type]
        made.append(bridge)
        return bridge

    yield make
    for bridge in made:
        bridge.stop(timeout_s=0.5)
