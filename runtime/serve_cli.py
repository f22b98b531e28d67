"""`vgsum serve --config FILE`: the daemon. For now: every configured stream, ingested and published.

Issue 5 adds the summarizer, the control socket and metrics to the same process.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from vgsum.runtime.config import EdgeConfig
from vgsum.runtime.configfile import load_config

log = logging.getLogger(__name__)


def main(argv: list[str]) -> int:
    """Run until SIGINT/SIGTERM (clean stop within 2 s) or until every stream is final."""
    parser = argparse.ArgumentParser(prog="vgsum serve", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="YAML file (see configs/edge.yaml)")
    args = parser.parse_args(argv)
    cfg = load_config(args.config, EdgeConfig)
    logging.getLogger().setLevel(cfg.log_level)

    from vgsum.runtime.ingest_service import IngestService
    from vgsum.stream.publish import Publisher

    publisher = Publisher(cfg.publish.endpoints, sndhwm=cfg.publish.sndhwm)
    service = IngestService(cfg, publisher)
    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()
        service.request_stop()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    log.info("serving %d streams, publishing on %s", len(cfg.streams), ", ".join(publisher.endpoints))
    try:
        service.start()
        while not stop.is_set():
            if service.wait(timeout_s=0.2):
                log.info("every stream has ended or failed; exiting")
                break
    finally:
        service.stop(timeout_s=1.2)  # + exit: the whole stop stays under 2 s
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    states = [w.state.value for w in service.workers.values()]
    log.info("stopped: %s", ", ".join(f"{sid}={s}" for sid, s in zip(service.workers, states, strict=True)))
    return 1 if states and all(s == "failed" for s in states) else 0
