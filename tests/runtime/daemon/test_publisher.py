"""The daemon's publisher from its `publish:` section: with CurveZMQ keys only listed clients get messages."""

from __future__ import annotations

import json
import time
from pathlib import Path

import zmq
import zmq.auth

from vgsum.runtime.daemon.config import PublishConfig
from vgsum.runtime.daemon.curve import _ZAP
from vgsum.runtime.daemon.publisher import build_publisher
from vgsum.stream.messages import ScoreMessage


def _subscriber(context: zmq.Context, endpoint: str, keys: tuple[Path, Path] | None = None) -> zmq.Socket:
    sub = context.socket(zmq.SUB)
    sub.linger = 0
    if keys is not None:
        server_public, _ = zmq.auth.load_certificate(keys[0])
        public, secret = zmq.auth.load_certificate(keys[1])
        sub.curve_serverkey, sub.curve_publickey, sub.curve_secretkey = server_public, public, secret
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(endpoint)
    return sub


def _first(publisher, sub: zmq.Socket, timeout_s: float = 5.0) -> list[bytes] | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:  # PUB drops until the subscription (and the handshake) is done
        publisher.publish(ScoreMessage, "cam1", media_time=1.0, t=1.0, score=0.5, final=False)
        if sub.poll(100):
            return sub.recv_multipart()
    return None


def test_curve_keys_in_the_config_encrypt_the_publisher(tmp_path: Path) -> None:
    (tmp_path / "server").mkdir()
    (tmp_path / "clients").mkdir()
    server_public, server_secret = zmq.auth.create_certificates(tmp_path / "server", "server")
    _, client_secret = zmq.auth.create_certificates(tmp_path / "clients", "friend")
    cfg = PublishConfig(
        endpoints=["pub+bind:tcp://127.0.0.1:*"],
        curve={"secret_key_file": server_secret, "client_keys_dir": tmp_path / "clients"},
    )
    context = zmq.Context()
    publisher = build_publisher(cfg, context=context)
    friend = _subscriber(context, publisher.endpoints[0], (Path(server_public), Path(client_secret)))
    plain = _subscriber(context, publisher.endpoints[0])
    try:
        got = _first(publisher, friend)
        assert got is not None and got[0] == b"vgsum.score.cam1" and json.loads(got[1])["score"] == 0.5
        assert plain.poll(300) == 0
    finally:
        friend.close(0)
        plain.close(0)
        publisher.close()
    assert id(context) not in _ZAP._entries  # closing the publisher let go of the context's ZAP handler
    context.term()


def test_without_keys_the_publisher_is_plain(tmp_path: Path) -> None:
    context = zmq.Context()
    publisher = build_publisher(PublishConfig(endpoints=["pub+bind:tcp://127.0.0.1:*"], sndhwm=7), context=context)
    plain = _subscriber(context, publisher.endpoints[0])
    try:
        assert _first(publisher, plain) is not None
    finally:
        plain.close(0)
        publisher.close()
        context.term()
