"""TLS to a real Mosquitto listener with certificates made for the test by the openssl command."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from mqtt_broker import fast_config
from polling import wait_until

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.mqtt.bridge import MqttBridge
from vgsum.stream.messages import EventMessage
from vgsum.stream.publish import Publisher


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed CA (P-256, one day): (certificate, key)."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "1", "-subj", f"/CN={name}", cwd=folder)
    return folder / f"{name}.pem", folder / f"{name}.key"


@pytest.fixture
def certs(tmp_path: Path) -> dict[str, Path]:
    if shutil.which("openssl") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("openssl is missing in CI (.ci/run installs it)")
        pytest.skip("openssl is not installed")
    ca, ca_key = make_ca(tmp_path, "test-ca")
    other_ca, _ = make_ca(tmp_path, "other-ca")
    (tmp_path / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key",
             "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=tmp_path)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
             "-out", "server.pem", "-days", "1", "-extfile", "san.ext", cwd=tmp_path)
    return {"ca": ca, "other_ca": other_ca, "cert": tmp_path / "server.pem", "key": tmp_path / "server.key"}


def test_events_flow_over_tls_and_a_wrong_ca_never_connects(make_broker, sinks, bridges, certs):
    broker = make_broker(listener_extra=[f"cafile {certs['ca']}", f"certfile {certs['cert']}",
                                         f"keyfile {certs['key']}"])
    sink = sinks(broker.port, ["vgsum/cam1/event"], tls_ca=certs["ca"])
    bridge = bridges(fast_config(broker.port, tls={"ca_file": str(certs["ca"])}), ["cam1"])
    wait_until(lambda: bridge.connected, what="the TLS connection")
    publisher = Publisher(["pub+bind:tcp://127.0.0.1:*"])
    publisher.observers.append(bridge.record)
    sent = publisher.publish(EventMessage, "cam1", id="h1", phase="start", start=0, end=1, score=0.5)
    publisher.close()
    assert sink.wait_for("vgsum/cam1/event")[0].payload == sent.model_dump_json().encode()

    stranger = bridges(fast_config(broker.port, tls={"ca_file": str(certs["other_ca"])}), ["cam1"])
    wait_until(lambda: stranger.last_error is not None, what="the failed handshake")
    assert not stranger.connected


def test_tls_files_that_are_not_certificates_stop_the_start_in_one_line(tmp_path: Path):
    junk = tmp_path / "ca.pem"
    junk.write_text("not a certificate\n")
    bridge = MqttBridge(fast_config(1883, tls={"ca_file": str(junk)}), ["cam1"])
    with pytest.raises(UserError) as caught:
        bridge.start()
    assert str(caught.value).startswith("mqtt.tls: cannot use the certificate files") and "\n" not in str(caught.value)
