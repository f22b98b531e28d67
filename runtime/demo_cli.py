"""`vgsum demo`: for now, the ingest-to-publish path on the bundled sample, watched over a real socket.

It publishes on a free local port, subscribes to itself like any client would,
and prints one line per message and a summary. Issue 5 replaces it with the
summarizer on the same sample.
"""

from __future__ import annotations

import argparse
import sys
import time

from vgsum.runtime.config import EdgeConfig, PublishConfig
from vgsum.runtime.sample import bundled_sample
from vgsum.stream.config import StreamConfig
from vgsum.stream.messages import FrameMessage, StatusMessage


def main(argv: list[str]) -> int:
    """Run the sample through ingest and publish; 0 when frames arrived and the stream ended cleanly."""
    parser = argparse.ArgumentParser(prog="vgsum demo", description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="decode as fast as possible instead of at 25 fps")
    parser.add_argument("--sample-fps", type=float, default=2.0)
    args = parser.parse_args(argv)

    from vgsum.runtime.ingest_service import IngestService
    from vgsum.stream.publish import Publisher
    from vgsum.stream.subscribe import Subscriber, wait_until_subscribed
    from vgsum.stream.subscribe_cli import format_gap, format_message

    sample = bundled_sample()
    cfg = EdgeConfig(
        streams=[
            StreamConfig(
                stream_id="sample", url=str(sample), realtime=not args.fast, sample_fps=args.sample_fps, queue_size=64
            )
        ],
        publish=PublishConfig(
            endpoints=["pub+bind:tcp://127.0.0.1:*"], status_interval_s=1.0, heartbeat_interval_s=2.0
        ),
    )
    publisher = Publisher(cfg.publish.endpoints)
    endpoint = publisher.endpoints[0]
    print(f"demo: {sample.name} -> ingest (sample {args.sample_fps:g} fps) -> ZeroMQ PUB {endpoint}")
    subscriber = Subscriber(endpoint)
    wait_until_subscribed(publisher, subscriber)
    service = IngestService(cfg, publisher)
    service.start()
    counts: dict[str, int] = {}
    last_status: StatusMessage | None = None
    started = time.monotonic()
    try:
        done_at: float | None = None
        while True:
            received = subscriber.recv(timeout_s=0.2)
            if received is not None:
                message = received.message
                counts[message.kind] = counts.get(message.kind, 0) + 1
                if isinstance(message, StatusMessage):
                    last_status = message
                note = format_gap(received)
                if note:
                    print(note)
                print(format_message(message), flush=True)
            if done_at is None and service.wait(timeout_s=0):
                done_at = time.monotonic()
            if done_at is not None and time.monotonic() - done_at > 0.5:
                break  # drained what the end of the stream sent
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
        subscriber.close()
    took = time.monotonic() - started
    tracker = subscriber.tracker
    print(
        f"demo summary: {took:.1f} s; received {sum(counts.values())} messages "
        f"({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}); "
        f"{len(tracker.gaps)} seq gaps; final state "
        f"{last_status.state.value if last_status else 'unknown'}; "
        "no model yet: nothing is scored (issue 5 adds the summarizer)"
    )
    ok = (
        counts.get(FrameMessage.model_fields["kind"].default, 0) > 0
        and last_status is not None
        and last_status.state.value == "ended"
    )
    if not ok:
        print("demo: the sample did not play through", file=sys.stderr)
    return 0 if ok else 1
