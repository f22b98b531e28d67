"""`vgsum serve --config FILE`: the daemon. Every configured stream, summarized and published.

With `mode: summarize` (the default) the engines score every stream and the daemon
publishes scores and highlights, serves the control socket and the metrics; with
`mode: ingest` it only ingests and publishes status and frame messages (useful to
check cameras before the engines are built).

Exit status: 0 after a signal or when every stream ended; 1 when the daemon could
not go on (the pipeline failed) or every stream failed; 2 for a user error.
"""

from __future__ import annotations

import argparse
import logging
import sys

from vgsum.runtime.common.allocator import tune_for_daemon
from vgsum.runtime.common.configfile import load_config
from vgsum.runtime.common.stop_signal import StopSignal
from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.runtime.daemon.service import Service, build_service, catch_stop_signals, run_until_done
from vgsum.stream.state import StreamState

log = logging.getLogger(__name__)


def serve(service: Service, label: str = "serve", stop: StopSignal | None = None) -> int:
    """Run `service` until a signal or until it is done; its exit status (a failure is one line on stderr).

    `stop`: set by a signal that came while the service was being built (see `catch_stop_signals`).
    """
    run_until_done(service, stop=stop)
    states = service.stream_states()
    log.info("stopped: %s", ", ".join(f"{sid}={state.value}" for sid, state in states.items()))
    if service.failure is not None:
        print(f"vgsum {label}: {service.failure}; see the log for the traceback", file=sys.stderr)
        return 1
    return 1 if states and all(state == StreamState.FAILED for state in states.values()) else 0


def main(argv: list[str]) -> int:
    """Load the config, build its service, serve."""
    parser = argparse.ArgumentParser(prog="vgsum serve", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="YAML file (see configs/edge.yaml)")
    args = parser.parse_args(argv)
    stop = catch_stop_signals()  # loading the engines takes seconds: a signal meanwhile is a clean stop too
    tune_for_daemon()  # before any thread starts: RSS stays flat over hours
    cfg = load_config(args.config, EdgeConfig)
    logging.getLogger().setLevel(cfg.log_level)
    service = build_service(cfg)
    log.info("%s: %d streams", cfg.mode, len(cfg.streams))
    return serve(service, stop=stop)
