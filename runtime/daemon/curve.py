"""CurveZMQ for the daemon's sockets: encryption plus a list of allowed clients.

Why: the control socket changes what the daemon looks for, and the PUB socket
carries what cameras saw; off loopback both need encryption and client
authentication. pyzmq's `zmq.auth` does both: a server certificate (secret key
file made by `zmq.auth.create_certificates`) and a directory of the public
certificates (`*.key`) of the clients allowed in, checked by a ZAP handler
(`ThreadAuthenticator`).

Key material never appears in a log line, message or exception raised here:
errors name the file, never its content. The ZAP handler's own logger is kept at
INFO so its debug lines (which print client public keys) are not emitted.

Usage for any server socket (call before `bind`)::

    guard = configure_curve_server(socket, CurveServerKeys(secret_key_file, client_keys_dir))
    socket.bind(endpoint)
    ...
    socket.close(); guard.release()
"""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import zmq

from vgsum.runtime.common.errors import UserError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CurveServerKeys:
    """Where a server's CurveZMQ keys live: its secret certificate and the allowed clients' public certificates."""

    secret_key_file: Path
    client_keys_dir: Path


@dataclass(frozen=True)
class CurveClientKeys:
    """What a client needs: the server's public certificate and its own secret certificate."""

    server_public_key_file: Path
    client_secret_key_file: Path


def _load(path: Path, need_secret: bool, role: str) -> tuple[bytes, bytes | None]:
    import zmq.auth

    if not path.is_file():
        raise UserError(f"{role} key file {path} does not exist (make one with zmq.auth.create_certificates)")
    try:
        public, secret = zmq.auth.load_certificate(path)
    except (OSError, ValueError):
        # The exception text is not used: it could quote the file.
        raise UserError(f"{role} key file {path} is not a ZeroMQ certificate") from None
    if len(public) != 40 or (need_secret and (secret is None or len(secret) != 40)):
        what = "secret key" if need_secret else "public key"
        raise UserError(f"{role} key file {path} holds no valid {what} (use the *.key_secret file)")
    return public, secret


def curve_available() -> bool:
    """Whether this libzmq was built with CURVE security."""
    return bool(zmq.has("curve"))


def check_client_keys_dir(directory: Path) -> int:
    """Number of client public certificates in `directory`; a missing or empty directory is a user error."""
    if not directory.is_dir():
        raise UserError(f"CurveZMQ client keys directory {directory} does not exist")
    count = len(list(directory.glob("*.key")))
    if count == 0:
        raise UserError(f"CurveZMQ client keys directory {directory} holds no *.key public certificates")
    return count


class _ZapRegistry:
    """One ZAP handler per zmq context (libzmq allows only one), shared by its Curve sockets by domain."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[int, tuple[object, int]] = {}
        self._domains = itertools.count()

    def acquire(self, context: zmq.Context, client_keys_dir: Path) -> str:
        from zmq.auth.thread import ThreadAuthenticator

        with self._lock:
            key = id(context)
            auth, refs = self._entries.get(key, (None, 0))
            if auth is None:
                zap_log = logging.getLogger("vgsum.runtime.daemon.curve.zap")
                if zap_log.level == logging.NOTSET:
                    zap_log.setLevel(logging.INFO)
                auth = ThreadAuthenticator(context, log=zap_log)
                auth.start()
            domain = f"vgsum-{next(self._domains)}"
            auth.configure_curve(domain=domain, location=str(client_keys_dir))  # type: ignore[attr-defined]
            self._entries[key] = (auth, refs + 1)
            return domain

    def release(self, context: zmq.Context) -> None:
        with self._lock:
            key = id(context)
            auth, refs = self._entries.get(key, (None, 0))
            if auth is None:
                return
            if refs <= 1:
                del self._entries[key]
                auth.stop()  # type: ignore[attr-defined]
            else:
                self._entries[key] = (auth, refs - 1)


_ZAP = _ZapRegistry()


class CurveGuard:
    """Keeps the context's ZAP handler alive while a Curve server socket lives; `release()` after closing it."""

    def __init__(self, context: zmq.Context) -> None:
        self._context: zmq.Context | None = context

    def release(self) -> None:
        """Stop sharing the ZAP handler (it stops with its last socket). Idempotent."""
        if self._context is not None:
            _ZAP.release(self._context)
            self._context = None


def configure_curve_server(socket: zmq.Socket, keys: CurveServerKeys) -> CurveGuard:
    """Make `socket` a CurveZMQ server that admits only the clients in `keys.client_keys_dir`.

    Call before `bind`. Starts (or shares) the ZAP handler of the socket's context;
    release the returned guard after closing the socket. Raises `UserError` for a
    missing or malformed key file or an empty client directory.
    """
    if not curve_available():
        raise UserError("this libzmq has no CURVE support; install pyzmq's bundled libzmq")
    public, secret = _load(Path(keys.secret_key_file), need_secret=True, role="CurveZMQ server")
    check_client_keys_dir(Path(keys.client_keys_dir))
    domain = _ZAP.acquire(socket.context, Path(keys.client_keys_dir))
    socket.zap_domain = domain.encode()
    socket.curve_secretkey = secret
    socket.curve_publickey = public
    socket.curve_server = True
    return CurveGuard(socket.context)


def configure_curve_client(socket: zmq.Socket, keys: CurveClientKeys) -> None:
    """Make `socket` a CurveZMQ client of the server whose public certificate is given. Call before `connect`."""
    if not curve_available():
        raise UserError("this libzmq has no CURVE support; install pyzmq's bundled libzmq")
    server_public, _ = _load(Path(keys.server_public_key_file), need_secret=False, role="CurveZMQ server public")
    public, secret = _load(Path(keys.client_secret_key_file), need_secret=True, role="CurveZMQ client")
    socket.curve_serverkey = server_public
    socket.curve_publickey = public
    socket.curve_secretkey = secret


class CurveSecurity:
    """CurveZMQ for `vgsum.stream.publish.Publisher(security=...)` (its `SocketSecurity` hook).

    `apply(socket, server=True)` makes the socket a Curve server (a PUB that binds);
    `apply(socket, server=False)` makes it a Curve client (a PUB that connects to a
    Curve-secured forwarder). Call `release()` after the publisher is closed, so the
    shared ZAP handler can stop with its last socket.
    """

    def __init__(self, server: CurveServerKeys | None = None, client: CurveClientKeys | None = None) -> None:
        if server is None and client is None:
            raise ValueError("CurveSecurity needs server keys, client keys or both")
        self.server = server
        self.client = client
        self._guards: list[CurveGuard] = []

    def apply(self, socket: zmq.Socket, server: bool) -> None:
        """Set the CURVE options on `socket` before it binds (server) or connects (client)."""
        if server:
            if self.server is None:
                raise UserError("this socket binds: CurveZMQ needs secret_key_file and client_keys_dir")
            self._guards.append(configure_curve_server(socket, self.server))
        else:
            if self.client is None:
                raise UserError("this socket connects: CurveZMQ needs the server's public key and a client secret key")
            configure_curve_client(socket, self.client)

    def release(self) -> None:
        """Let go of the ZAP handlers taken by `apply` (idempotent)."""
        while self._guards:
            self._guards.pop().release()
