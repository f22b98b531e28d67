"""Host rules shared by every listener of the daemon (control, publisher, metrics, the history page)."""

from __future__ import annotations

import ipaddress
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
