"""`vgsum serve --config FILE`: the daemon. Every configured stream, summarized and published.

With `mode: summarize` (the default) the engines score every stream and the daemon
publishes scores and highlights, serves the control socket and the metrics; with
`mode: ingest` it only ingests and publishes status and frame messages (useful to
check cameras before the engines are built).
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from vgsum.runtime.common.configfile import load_config
from vgsum.runtime.daemon.config import EdgeConfig

log = logging.getLogger(__name__)


def _ingest_only(cfg: EdgeConfig):
    from vgsum.runtime.daemon.ingest_service import IngestService
    from vgsum.stream.publish import Publisher

    publisher = Publisher(cfg.publish.endpoints, sndhwm=cfg.publish.sndhwm)
    log.info("ingest only: %d streams, publishing on %s", len(cfg.streams), ", ".join(publisher.endpoints))
    service = IngestService(cfg, publisher)
    return service, service


def _summarize(cfg: EdgeConfig):
    from vgsum.runtime.daemon.pipeline import Engines
    from vgsum.runtime.daemon.summary_service import SummaryService

    service = SummaryService(cfg, Engines.load(cfg.engines))
    log.info("summarizing %d streams, publishing on %s", len(cfg.streams), ", ".join(service.publisher.endpoints))
    return service, service.ingest


def main(argv: list[str]) -> int:
    """Run until SIGINT/SIGTERM (clean stop within 2 s) or until every stream is final."""
    parser = argparse.ArgumentParser(prog="vgsum serve", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="YAML file (see configs/edge.yaml)")
    args = parser.parse_args(argv)
    cfg = load_config(args.config, EdgeConfig)
    logging.getLogger().setLevel(cfg.log_level)

    daemon, ingest = _ingest_only(cfg) if cfg.mode == "ingest" else _summarize(cfg)
    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()
        daemon.request_stop()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        daemon.start()
        while not stop.is_set():
            if daemon.wait(timeout_s=0.2):
                log.info("every stream has ended or failed; exiting")
                break
    finally:
        if cfg.mode == "ingest":
            ingest.stop(timeout_s=1.5)
        else:
            daemon.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    states = [w.state.value for w in ingest.workers.values()]
    log.info("stopped: %s", ", ".join(f"{sid}={s}" for sid, s in zip(ingest.workers, states, strict=True)))
    return 1 if states and all(s == "failed" for s in states) else 0
