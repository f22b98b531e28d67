"""The `mqtt:` section: every bad config is one line naming the key, and never shows a secret."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field

from vgsum.runtime.common.configfile import load_config
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.mqtt.config import MqttConfig

SECRET = "hunter2-Pa55word"


class Edge(BaseModel):
    """The section as EdgeConfig will hold it (`mqtt: MqttConfig`), loaded through the daemon's config reader."""

    model_config = ConfigDict(extra="forbid")

    mqtt: MqttConfig = Field(default_factory=MqttConfig)


def load(tmp_path: Path, section: dict) -> MqttConfig:
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump({"mqtt": section}))
    return load_config(path, Edge).mqtt


def test_off_by_default_and_a_minimal_section_loads(tmp_path: Path) -> None:
    assert MqttConfig().enabled is False
    assert load(tmp_path, {}).enabled is False
    cfg = load(tmp_path, {"enabled": True, "host": "broker.lan", "topic_prefix": "vgsum/garage"})
    assert (cfg.host, cfg.port, cfg.node_id) == ("broker.lan", 1883, "vgsum_garage")
    assert load(tmp_path, {"host": "::1"}).host == "::1"
    assert load(tmp_path, {"host": "10.0.0.5"}).host == "10.0.0.5"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "pw").write_text(SECRET + "\n")
    (tmp_path / "ca.pem").write_text("not checked at load\n")
    return {"pw": tmp_path / "pw", "ca": tmp_path / "ca.pem"}


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"host": "mqtt://broker:1883"}, "not a URL"),
        ({"host": "broker:1883"}, "port goes in port:"),
        ({"host": "bad host!"}, "not a host name"),
        ({"host": ""}, "empty"),
        ({"host": f"user:{SECRET}@broker"}, "credentials go in"),
        ({"port": 0}, "port"),
        ({"hots": "broker"}, "mqtt.hots: unknown key"),
        ({"password": SECRET, "username": "u"}, "password in plain text is refused"),
        ({"username": "u", "password_file": "/nonexistent/pw"}, "mqtt.password_file: no such file"),
        ({"username": "u", "password_env": "NOT-A-NAME"}, "environment variable"),
        ({"password_env": "VGSUM_MQTT_PW"}, "a password needs a username"),
        ({"tls": {"ca_file": "/nonexistent/ca.pem"}}, "mqtt.tls.ca_file: no such file"),
        ({"tls": {"cert_file": "/nonexistent/c.pem", "key_file": "/nonexistent/k.pem"}}, "mqtt.tls.cert_file: no such"),
        ({"tls": {"ciphers": "x"}}, "mqtt.tls.ciphers: unknown key"),
        ({"topic_prefix": "vgsum/#"}, "no wildcards"),
        ({"topic_prefix": "vgsum//x"}, "no wildcards"),
        ({"reconnect_min_s": 5, "reconnect_max_s": 1}, "reconnect_max_s"),
    ],
)
def test_bad_sections_are_one_line_naming_the_key_without_secrets(tmp_path: Path, section: dict, fragment: str) -> None:
    with pytest.raises(UserError) as caught:
        load(tmp_path, section)
    message = str(caught.value)
    assert fragment in message, message
    assert "\n" not in message and message.startswith(f"{tmp_path / 'edge.yaml'}: mqtt")
    assert SECRET not in message


def test_tls_and_password_files_that_exist_load(tmp_path: Path, files: dict[str, Path]) -> None:
    cfg = load(tmp_path, {"username": "u", "password_file": str(files["pw"]), "tls": {"ca_file": str(files["ca"])}})
    assert cfg.read_password() == SECRET  # the trailing newline of the file is not part of it
    assert SECRET not in repr(cfg) and SECRET not in cfg.model_dump_json()
    with pytest.raises(UserError, match="cert_file and key_file go together"):
        load(tmp_path, {"tls": {"cert_file": str(files["ca"])}})


def test_reading_the_password_fails_in_one_line_naming_the_source(
    tmp_path: Path, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VGSUM_TEST_MQTT_PW", raising=False)
    cfg = MqttConfig(username="u", password_env="VGSUM_TEST_MQTT_PW")
    with pytest.raises(UserError, match="VGSUM_TEST_MQTT_PW is not set"):
        cfg.read_password()
    monkeypatch.setenv("VGSUM_TEST_MQTT_PW", SECRET)
    assert cfg.read_password() == SECRET
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(UserError, match="is empty"):
        MqttConfig(username="u", password_file=empty).read_password()
    gone = MqttConfig(username="u", password_file=files["pw"])
    files["pw"].unlink()  # removed after the config loaded
    with pytest.raises(UserError) as caught:
        gone.read_password()
    assert "cannot read it" in str(caught.value) and SECRET not in str(caught.value)


def test_nothing_loads_paho_unless_a_bridge_starts() -> None:
    script = (
        "import sys\n"
        "import vgsum.runtime.mqtt.bridge, vgsum.runtime.mqtt.config, vgsum.runtime.mqtt.discovery\n"
        "from vgsum.runtime.mqtt.bridge import MqttBridge\n"
        "from vgsum.runtime.mqtt.config import MqttConfig\n"
        "MqttBridge(MqttConfig(), ['cam1'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('paho')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
