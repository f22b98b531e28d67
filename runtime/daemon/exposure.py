"""Which addresses only this machine can reach, and the daemon's rule for the others.

The rule, the same in every mode (`summarize`, `ingest`, `vgsum run`):

* the control socket changes what the daemon does, so off loopback it is refused
  unless CurveZMQ keys are configured (the config is rejected at load);
* the PUB socket and the metrics port only tell (scores, highlights, redacted
  status, counters). Subscribers and Prometheus on other hosts are the normal
  deployment, so binding them off loopback is allowed, but without CurveZMQ (PUB)
  or at all (metrics: HTTP has no keys here) it is logged as a warning at start,
  naming the address, so an exposure is never silent.

Pure functions (no zmq), so the config models can apply the rule when they load.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.network import is_local_host

log = logging.getLogger(__name__)


def is_local_endpoint(endpoint: str) -> bool:
    """True for ipc://, inproc:// and tcp:// on a loopback address. UserError for what is no endpoint."""
    scheme, sep, rest = endpoint.partition("://")
    if not sep:
        raise UserError(f"endpoint {endpoint!r} must look like tcp://127.0.0.1:5571")
    if scheme in ("ipc", "inproc"):
        return True
    if scheme != "tcp":
        raise UserError(f"endpoint {endpoint!r}: only tcp://, ipc:// and inproc:// are supported")
    host, colon, port = rest.rpartition(":")
    if not colon or not host or not port:
        raise UserError(f"endpoint {endpoint!r} needs a host and a port, e.g. tcp://127.0.0.1:5571")
    return is_local_host(host)


def control_refusal(endpoint: str, has_curve: bool) -> str | None:
    """Why a control socket on `endpoint` is refused, or None when it may bind."""
    if has_curve or is_local_endpoint(endpoint):
        return None
    return (
        f"control socket: refusing to bind {endpoint} without CurveZMQ keys; "
        "bind 127.0.0.1 or configure curve secret_key_file and client_keys_dir"
    )


def warn_public_pub(addresses: Iterable[str], has_curve: bool) -> list[str]:
    """Log (and return) a warning per PUB address bound off loopback without CurveZMQ."""
    if has_curve:
        return []
    warnings = []
    for address in addresses:
        try:
            local = is_local_endpoint(address)
        except UserError:
            local = False  # an address libzmq took that this check does not know (pgm://, ws://): not provably local
        if not local:
            warnings.append(
                f"publisher bound on {address} without CurveZMQ: any host that reaches it reads every message "
                "(configure publish.curve, or bind 127.0.0.1)"
            )
    for line in warnings:
        log.warning("%s", line)
    return warnings


def warn_public_metrics(host: str, port: int) -> str | None:
    """Log (and return) a warning when the metrics HTTP port listens off loopback (it has no authentication)."""
    if is_local_host(host):
        return None
    line = (
        f"metrics listening on {host or '0.0.0.0'}:{port} without authentication: any host that reaches it "
        "reads /metrics and /healthz (bind 127.0.0.1 and scrape through a proxy, or firewall the port)"
    )
    log.warning("%s", line)
    return line
