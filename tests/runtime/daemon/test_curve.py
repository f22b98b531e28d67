"""CurveZMQ on real sockets: two server sockets of one context share its one ZAP handler, and both still admit only
listed clients."""

from __future__ import annotations

import time
from pathlib import Path

import zmq
import zmq.auth

from vgsum.runtime.daemon.curve import CurveServerKeys, configure_curve_server


def _client(context: zmq.Context, kind: int, server_public: Path, client_secret: Path) -> zmq.Socket:
    sock = context.socket(kind)
    sock.linger = 0
    server_key, _ = zmq.auth.load_certificate(server_public)
    public, secret = zmq.auth.load_certificate(client_secret)
    sock.curve_serverkey, sock.curve_publickey, sock.curve_secretkey = server_key, public, secret
    return sock


def test_two_curve_servers_in_one_context_share_the_zap_handler(tmp_path: Path) -> None:
    for name in ("server", "allowed", "other"):
        (tmp_path / name).mkdir()
    server_public, server_secret = zmq.auth.create_certificates(tmp_path / "server", "server")
    _, client_secret = zmq.auth.create_certificates(tmp_path / "allowed", "client")
    _, stranger_secret = zmq.auth.create_certificates(tmp_path / "other", "stranger")
    keys = CurveServerKeys(Path(server_secret), tmp_path / "allowed")

    context = zmq.Context()
    rep, pub = context.socket(zmq.REP), context.socket(zmq.PUB)
    rep.linger = pub.linger = 0
    guards = [configure_curve_server(rep, keys), configure_curve_server(pub, keys)]
    rep_port = rep.bind_to_random_port("tcp://127.0.0.1")
    pub_port = pub.bind_to_random_port("tcp://127.0.0.1")
    sockets = [rep, pub]
    try:
        friend = _client(context, zmq.SUB, Path(server_public), Path(client_secret))
        stranger = _client(context, zmq.SUB, Path(server_public), Path(stranger_secret))
        sockets += [friend, stranger]
        for sub in (friend, stranger):
            sub.setsockopt(zmq.SUBSCRIBE, b"vgsum.")
            sub.connect(f"tcp://127.0.0.1:{pub_port}")
        got = None
        deadline = time.monotonic() + 5
        while got is None and time.monotonic() < deadline:  # PUB drops until the handshake is done
            pub.send_multipart([b"vgsum.score.cam1", b'{"score": 0.5}'])
            if friend.poll(100):
                got = friend.recv_multipart()
        assert got == [b"vgsum.score.cam1", b'{"score": 0.5}']
        assert stranger.poll(300) == 0

        # the REP socket of the same context still authenticates its clients
        req = _client(context, zmq.REQ, Path(server_public), Path(client_secret))
        sockets.append(req)
        req.connect(f"tcp://127.0.0.1:{rep_port}")
        req.send(b"ping")
        assert rep.poll(3000) and rep.recv() == b"ping"
        rep.send(b"pong")
        assert req.poll(3000) and req.recv() == b"pong"
    finally:
        for sock in sockets:
            sock.close(0)
        for guard in guards:
            guard.release()
        context.term()
