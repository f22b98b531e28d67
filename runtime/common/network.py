"""Host rules shared by every listener of the daemon (control, publisher, metrics, the history page), and the
one life cycle of its HTTP servers (`/metrics` and `/healthz`, the history page)."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from vgsum.stream.errors import UserError

log = logging.getLogger(__name__)


def is_local_host(host: str) -> bool:
    """True for a loopback host (127.0.0.0/8, ::1, localhost); '', '*', 0.0.0.0, names and interfaces are not."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # '*', an interface name or a host name: not provably loopback


def http_server(
    server_class: type[ThreadingHTTPServer], host: str, port: int, handler: type[BaseHTTPRequestHandler]
) -> ThreadingHTTPServer:
    """`server_class` bound to host:port; an IPv6 host (`::1`) needs AF_INET6, which http.server never picks itself."""
    if ":" in host:
        server_class = type(f"{server_class.__name__}6", (server_class,), {"address_family": socket.AF_INET6})
    return server_class((host.strip("[]"), port), handler)


class HttpService:
    """One HTTP server in a background thread: bind, serve, say where, stop. Port 0 picks a free port.

    `name` starts every error line (`metrics: cannot listen on ...`), so a busy port
    names the server that wanted it.
    """

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        handler: type[BaseHTTPRequestHandler],
        server_class: type[ThreadingHTTPServer] = ThreadingHTTPServer,
    ) -> None:
        self.name = name
        self.host = host
        self.requested_port = port
        self.handler = handler
        self.server_class = server_class
        self.port: int | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        """Bind and serve; returns the real port. UserError when the port cannot be bound."""
        try:
            server = http_server(self.server_class, self.host, self.requested_port, self.handler)
        except OSError as err:
            where = f"{self.host}:{self.requested_port}"
            raise UserError(f"{self.name}: cannot listen on {where}: {err.strerror}") from None
        server.daemon_threads = True
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"vgsum-{self.name}", daemon=True
        )
        self._thread.start()
        return self.port

    @property
    def url(self) -> str:
        """Base URL of the server (after `start`)."""
        host = self.host.strip("[]")
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def stop(self, timeout: float = 2.0) -> None:
        """Stop serving and close the port. Idempotent."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
