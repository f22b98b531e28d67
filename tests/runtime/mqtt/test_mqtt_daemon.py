"""A real daemon run (engines, the bundled sample, the publisher) bridged to a real broker, wired as the daemon will.

The daemon builds the bridge from its `mqtt:` section and hangs it off its fan-out as it does the
store (`observe_messages` for every message, a `ThumbnailOutput` for the pictures); a real
paho subscriber must see every `event` and `highlight` of the run, in order, and the
retained topics must end as the run did.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mqtt_broker import fast_config
from polling import wait_until

from vgsum.runtime.daemon.app import SummaryApp
from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.runtime.engines.config import EngineConfig
from vgsum.runtime.engines.loader import Engines
from vgsum.runtime.mqtt.bridge import MqttBridge

pytestmark = pytest.mark.slow


def test_every_event_of_a_daemon_run_reaches_a_subscriber_in_order_at_qos1(
    tmp_path: Path, engine_folder: Path, bikes_mp4: Path, free_tcp_port, broker, sinks
) -> None:
    cfg = EdgeConfig.model_validate({
        "streams": [{"stream_id": "bikes", "url": str(bikes_mp4)}],
        "publish": {"endpoints": [f"pub+bind:tcp://127.0.0.1:{free_tcp_port()}"], "frame_messages": False},
        "engines": {"dir": str(engine_folder), "threads": 1},
        "control": {"enabled": False},
        "metrics": {"enabled": False},
        "web": {"enabled": False},
        "store": {"path": str(tmp_path / "history.db")},
        "mqtt": fast_config(broker.port).model_dump(),
    })
    service = SummaryApp(cfg, Engines.load(EngineConfig(dir=engine_folder, threads=1)))
    bridge = service.mqtt
    assert isinstance(bridge, MqttBridge)
    sink = sinks(broker.port, ["vgsum/#"])
    sent: list[tuple[str, str]] = []
    service.outputs.observe_messages(lambda m, p: sent.append((m.kind, p)))
    service.start()
    try:
        assert service.wait(120), "the daemon did not finish its file"
        status = service.handler.stream_status("bikes")
        assert status["mqtt_connected"] is True and status["mqtt_dropped"] == 0
    finally:
        service.stop()
    events = [p for kind, p in sent if kind == "event"]
    highlights = [p for kind, p in sent if kind == "highlight"]
    assert events and highlights, "the sample made no highlight: nothing to check"
    wait_until(lambda: len(sink.on("vgsum/bikes/event")) >= len(events), what="every event")
    got = sink.on("vgsum/bikes/event")
    assert [m.payload.decode() for m in got] == events and all(m.qos == 1 for m in got)
    assert [m.payload.decode() for m in sink.wait_for("vgsum/bikes/highlight", len(highlights))] == highlights
    assert sink.on("vgsum/bikes/activity")[-1].payload == b"OFF"  # the run ended every highlight it opened
    assert json.loads(sink.on("vgsum/bikes/state")[-1].payload)["state"] == "ended"
    last_end = [json.loads(p) for p in events if json.loads(p)["phase"] == "end"][-1]
    assert json.loads(sink.on("vgsum/bikes/last_highlight")[-1].payload)["id"] == last_end["id"]
    assert sink.on("vgsum/availability")[-1].payload == b"offline"
    assert sink.on("vgsum/bikes/thumbnail")[-1].payload[:2] == b"\xff\xd8"  # the last highlight's JPEG
    assert sum(bridge.dropped.values()) == 0
