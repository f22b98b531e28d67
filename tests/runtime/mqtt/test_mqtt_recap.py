"""A daily recap over MQTT, against a real Mosquitto broker, fed by a real ZeroMQ Publisher as the daemon wires it:
`<prefix>/<stream>/recap` at QoS 1, retained, the ZeroMQ payload unchanged, also for a subscriber that comes later
and after the broker was away."""

from __future__ import annotations

import json

from mqtt_broker import fast_config
from polling import wait_until

from vgsum.runtime.mqtt.topics import Topics
from vgsum.stream.messages import RecapMessage, parse_message
from vgsum.stream.publish import Publisher


def _recap(recap_id: str, until: float) -> dict:
    return dict(id=recap_id, since=until - 86400.0, until=until, duration=95.5, parts=9, query=None,
                path=f"/var/lib/vgsum/recaps/cam1_2026-12-04_0600_{recap_id}.mp4", url=f"/recaps/{recap_id}.mp4",
                created_at=until + 40)


def test_a_recap_is_announced_retained_at_qos1_exactly_as_on_zeromq(broker, sinks, bridges):
    assert Topics("vgsum").recap("cam1") == "vgsum/cam1/recap"
    live = sinks(broker.port, ["vgsum/+/recap", "vgsum/availability"])
    bridge = bridges(fast_config(broker.port), ["cam1", "cam2"])
    live.wait_for("vgsum/availability")  # the connect's retained copies are out: what follows is new
    sent: list[str] = []
    with Publisher(["pub+bind:tcp://127.0.0.1:*"]) as publisher:
        publisher.observers.append(bridge.record)
        publisher.observers.append(lambda message, payload: sent.append(payload))
        publisher.publish(RecapMessage, "cam1", **_recap("0123456789abcdef", 1_796_450_400.0))
        got = live.wait_for("vgsum/cam1/recap")[0]
        assert got.payload == sent[0].encode() and got.qos == 1  # byte for byte, one schema for both transports
        message = parse_message(got.payload)
        assert isinstance(message, RecapMessage) and message.url == "/recaps/0123456789abcdef.mp4"

        late = sinks(broker.port, ["vgsum/#"])  # a dashboard opened later reads the latest recap at once
        kept = late.wait_for("vgsum/cam1/recap")[0]
        assert kept.retain and kept.payload == got.payload
        assert late.on("vgsum/cam2/recap") == []  # a camera without a recap has none

        publisher.publish(RecapMessage, "cam1", **_recap("fedcba9876543210", 1_796_536_800.0))  # the next day
        live.wait_for("vgsum/cam1/recap", count=2)
        newest = sinks(broker.port, ["vgsum/cam1/recap"]).wait_for("vgsum/cam1/recap")
        assert [json.loads(m.payload)["id"] for m in newest] == ["fedcba9876543210"]  # retained: the latest only
    assert bridge.dropped["cam1"] == 0


def test_a_recap_made_while_the_broker_is_away_reaches_it_when_it_is_back(make_broker, sinks, bridges):
    broker = make_broker()
    bridge = bridges(fast_config(broker.port), ["cam1"])
    wait_until(lambda: bridge.connected, what="the bridge's connection")
    broker.kill()
    wait_until(lambda: not bridge.connected, what="the bridge to notice the broker is gone")
    with Publisher(["pub+bind:tcp://127.0.0.1:*"]) as publisher:
        publisher.observers.append(bridge.record)
        publisher.publish(RecapMessage, "cam1", **_recap("0123456789abcdef", 1_796_450_400.0))
        broker.start()
        wait_until(lambda: bridge.connected, timeout=10, what="the reconnect")
        got = sinks(broker.port, ["vgsum/cam1/recap"]).wait_for("vgsum/cam1/recap", timeout_s=10)
        kept = sinks(broker.port, ["vgsum/cam1/recap"]).wait_for("vgsum/cam1/recap")  # now held by the broker
    assert {json.loads(m.payload)["id"] for m in got} == {"0123456789abcdef"}  # at least once, the same recap
    assert kept[0].retain and kept[0].payload == got[0].payload
