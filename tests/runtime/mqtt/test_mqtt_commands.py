"""The `queries/set` command topic through a real broker, and secrets that never reach a log or an error."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import pytest
from mqtt_broker import fast_config
from polling import holds_for, wait_until

from vgsum.runtime.mqtt.bridge import MqttBridge
from vgsum.runtime.summary.queries import StreamQueries

PASSWORD = "s3cret-Pa55w@rd"
USER = "vgsum-cam"


def send(port: int, topic: str, payload: bytes | str, retain: bool = False) -> None:
    """One publish from another real client, as a person or Home Assistant would send it."""
    import paho.mqtt.publish as publish

    publish.single(topic, payload, qos=1, retain=retain, hostname="127.0.0.1", port=port)


@pytest.fixture
def queries() -> StreamQueries:
    """The daemon's own query store: its rules (clean_queries) are what the command's content must pass."""
    store = StreamQueries()
    store.add("cam1", ["person"])
    store.add("cam2", [])
    return store


def test_good_commands_change_the_queries_and_bad_ones_get_one_line_errors(broker, sinks, bridges, queries):
    sink = sinks(broker.port, ["vgsum/+/queries/reply"])
    topic = "vgsum/cam1/queries/set"
    # a retained command reaches the bridge flagged as retained when it subscribes (after every reconnect):
    # applying it would undo later changes each time, so it is refused (the broker keeps it until cleared)
    send(broker.port, topic, json.dumps({"queries": ["a cat"]}), retain=True)
    bridge = bridges(fast_config(broker.port, commands=True), ["cam1", "cam2"],
                     set_queries=queries.set, get_queries=queries.get)
    refused = sink.wait_for("vgsum/cam1/queries/reply")[0].json()
    assert not refused["ok"] and "retained commands are ignored" in refused["error"]
    assert queries.get("cam1") == ["person"]
    send(broker.port, topic, b"", retain=True)  # clears the retained command on the broker
    send(broker.port, topic, json.dumps({"queries": [" a dog ", "red car", "red car"]}))
    reply = sink.wait_for("vgsum/cam1/queries/reply", 2)[1].json()
    assert reply == {"ok": True, "stream_id": "cam1", "queries": ["a dog", "red car"], "error": None}
    assert queries.get("cam1") == ["a dog", "red car"]

    bad: list[tuple[bytes, str, bool]] = [
        (b"not json", "command is not JSON", False),
        (b'["a dog"]', "must be a JSON object", False),
        (b'{"queries": "a dog"}', "queries: Input should be a valid list", False),
        (b'{"queries": [1]}', "queries.0: Input should be a valid string", False),
        (b'{"queries": ["a"], "op": "set_queries"}', "op: Extra inputs are not permitted", False),
        (b"{}", "queries: Field required", False),
        (b"\xff\xfe{}", "not valid UTF-8", False),
        (json.dumps({"queries": ["x" * 40] * 500}).encode(), "the limit is 16384", False),
        (json.dumps({"queries": ["bell\u0007"]}).encode(), "control characters", False),  # the daemon's own rule
        (json.dumps({"queries": [f"q{i}" for i in range(17)]}).encode(), "at most 16 queries", False),
    ]
    for payload, _, retain in bad:
        send(broker.port, topic, payload, retain=retain)
    replies = [m.json() for m in sink.wait_for("vgsum/cam1/queries/reply", 2 + len(bad))[2:]]
    for reply, (_, fragment, _) in zip(replies, bad, strict=True):
        assert reply["ok"] is False and reply["queries"] is None, reply
        assert fragment in reply["error"] and "\n" not in reply["error"] and len(reply["error"]) <= 300, reply
    assert queries.get("cam1") == ["a dog", "red car"]  # nothing bad changed anything
    assert (bridge.commands, bridge.command_errors) == (2 + len(bad), 1 + len(bad))
    send(broker.port, "vgsum/cam2/queries/set", b'{"queries": []}')
    assert sink.wait_for("vgsum/cam2/queries/reply")[0].json()["queries"] == []


def test_a_failing_callback_is_an_internal_error_reply_and_a_logged_traceback(broker, sinks, bridges, caplog):
    def explode(stream_id: str, queries: list[str]) -> None:
        raise RuntimeError("pipeline gone")

    sink = sinks(broker.port, ["vgsum/cam1/queries/reply"])
    bridge = bridges(fast_config(broker.port, commands=True), ["cam1"], set_queries=explode)
    wait_until(lambda: bridge.subscribed, what="the bridge's subscriptions")
    with caplog.at_level(logging.ERROR, logger="vgsum.runtime.mqtt"):
        send(broker.port, "vgsum/cam1/queries/set", b'{"queries": ["a"]}')
        reply = sink.wait_for("vgsum/cam1/queries/reply")[0].json()
    assert reply["error"] == "internal error; see the daemon log"
    assert "pipeline gone" in caplog.text


def test_commands_are_off_unless_enabled(broker, sinks, bridges, queries):
    sink = sinks(broker.port, ["vgsum/#"])
    bridge = bridges(fast_config(broker.port), ["cam1"], set_queries=queries.set)
    wait_until(lambda: bridge.subscribed, what="the bridge's subscriptions (Home Assistant's status only)")
    send(broker.port, "vgsum/cam1/queries/set", b'{"queries": ["a cat"]}')
    sink.wait_for("vgsum/cam1/queries/set")  # the broker delivered it: the bridge just does not listen
    holds_for(lambda: sink.on("vgsum/cam1/queries/reply") == [] and bridge.commands == 0, 0.3, "no reply")
    assert queries.get("cam1") == ["person"]
    with pytest.raises(ValueError, match="set_queries callback"):
        MqttBridge(fast_config(broker.port, commands=True), ["cam1"])


def _hashed_password_file(folder: Path) -> Path:
    path = folder / "broker-passwords"
    path.write_text(f"{USER}:{PASSWORD}\n")
    subprocess.run(["mosquitto_passwd", "-U", str(path)], check=True, capture_output=True, timeout=10)
    return path


def test_secrets_never_appear_in_logs_errors_or_counters(make_broker, bridges, tmp_path, caplog, monkeypatch):
    if subprocess.run(["which", "mosquitto_passwd"], capture_output=True).returncode != 0:
        pytest.skip("mosquitto_passwd is not installed (it comes with Debian's mosquitto)")
    broker = make_broker(password_file=_hashed_password_file(tmp_path))
    secret_file = tmp_path / "mqtt-password"
    secret_file.write_text(PASSWORD + "\n")
    caplog.set_level(logging.DEBUG)  # every logger, paho's included, at its most talkative

    good = bridges(fast_config(broker.port, username=USER, password_file=str(secret_file)), ["cam1"])
    wait_until(lambda: good.connected, what="a connection with the password from the file")

    monkeypatch.setenv("VGSUM_TEST_WRONG_PW", "not-" + PASSWORD)
    wrong = bridges(fast_config(broker.port, username=USER, password_env="VGSUM_TEST_WRONG_PW"), ["cam1"])
    wait_until(lambda: wrong.last_error is not None, what="the refusal")
    wait_until(lambda: sum("refused" in r.getMessage() for r in caplog.records) >= 3, what="a few retries")
    assert not wrong.connected and "refused" in wrong.last_error
    good.stop(timeout_s=0.5)
    wrong.stop(timeout_s=0.5)

    shown = caplog.text + json.dumps([good.stats(), wrong.stats()]) + repr(good.cfg) + repr(wrong.cfg)
    assert "mqtt: connected" in caplog.text and "refused the connection" in caplog.text  # the logs were captured
    assert PASSWORD not in shown
    assert USER not in caplog.text  # the user name is in the config, not in the log
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and "refused" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not once per retry (those are DEBUG)
