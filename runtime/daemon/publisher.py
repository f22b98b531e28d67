"""The daemon's one ZeroMQ publisher, built from the `publish:` section of its config.

Every mode (`vgsum serve` summarizing or only ingesting, `vgsum run`) builds its
publisher here, so the section is read in one place: CurveZMQ keys that are
configured always secure the socket, whatever mode asked for it, and a bind off
loopback without them is always logged as a warning (`exposure.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import zmq

from vgsum.runtime.daemon.config import PublishConfig
from vgsum.runtime.daemon.curve import CurveSecurity
from vgsum.runtime.daemon.exposure import warn_public_pub
from vgsum.stream.publish import Endpoint, Publisher


class CurvePublisher(Publisher):
    """A Publisher whose socket is a CurveZMQ server; closing it also lets go of the shared ZAP handler."""

    def __init__(self, endpoints: Iterable[str], *, security: CurveSecurity, **options: Any) -> None:
        self._security = security
        try:
            super().__init__(endpoints, security=security, **options)
        except BaseException:
            security.release()
            raise

    def _release(self) -> None:
        """The ZAP handler goes after the socket and before the context (idempotent)."""
        self._security.release()


def build_publisher(cfg: PublishConfig, *, sndbuf: int | None = None, context: zmq.Context | None = None) -> Publisher:
    """Bind or connect the publisher of `cfg` (CurveZMQ when `cfg.curve` is set); UserError when it cannot.

    `sndbuf` and `context` are socket details a config does not hold (benchmarks and tests set them).
    """
    options: dict[str, Any] = {"sndhwm": cfg.sndhwm, "sndbuf": sndbuf, "context": context}
    if cfg.curve is None:
        publisher = Publisher(cfg.endpoints, **options)
    else:
        publisher = CurvePublisher(cfg.endpoints, security=CurveSecurity(server=cfg.curve.keys()), **options)
    binds = [ep.address for ep in map(Endpoint.parse, cfg.endpoints) if ep.mode == "bind"]
    warn_public_pub(binds, has_curve=cfg.curve is not None)
    return publisher
