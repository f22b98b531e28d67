"""`vgsum subscribe ENDPOINT [--kind K]... [--stream S]... [--count N] [--json]`: watch a publisher.

Prints one line per message (or the raw JSON) and reports every seq gap, so a
lossy link or a slow consumer is visible at once.
"""

from __future__ import annotations

import argparse
import sys
import time

from vgsum.stream.messages import KINDS, FrameMessage, HeartbeatMessage, MessageBase, StatusMessage
from vgsum.stream.subscribe import Received, Subscriber


def format_message(message: MessageBase) -> str:
    """A compact one-line view of a message for people."""
    head = f"{message.kind:<9} {message.stream_id:<12} #{message.seq:<5}"
    mt = f" t={message.media_time:8.2f}" if message.media_time is not None else " " * 11
    if isinstance(message, StatusMessage):
        err = f" error={message.last_error!r}" if message.last_error else ""
        return (
            f"{head}{mt} {message.state.value:<12} in={message.fps_in:5.1f}fps out={message.fps_out:4.1f}fps "
            f"decoded={message.frames_decoded} sampled={message.frames_sampled} dropped={message.frames_dropped} "
            f"lag={message.lag_s:.2f}s reconnects={message.reconnects}{err}"
        )
    if isinstance(message, FrameMessage):
        return f"{head}{mt} pts={message.pts:.3f} {message.width}x{message.height} epoch={message.epoch}"
    if isinstance(message, HeartbeatMessage):
        states = " ".join(f"{k}={v.value}" for k, v in message.streams.items())
        return f"{head}{mt} uptime={message.uptime_s:.1f}s live={message.streams_live} {states}"
    fields = message.model_dump(exclude={"schema_version", "kind", "stream_id", "seq", "media_time", "wall_time"})
    return f"{head}{mt} " + " ".join(f"{k}={v}" for k, v in fields.items())


def format_gap(received: Received) -> str | None:
    """The line that reports a gap or a publisher restart before this message, if any."""
    if received.gap is not None:
        g = received.gap
        return f"GAP {g.stream_id}/{g.kind}: {g.missing} missing (expected seq {g.expected}, got {g.got})"
    if received.restarted:
        m = received.message
        return f"RESTART {m.stream_id}/{m.kind}: seq went back to {m.seq} (publisher restarted)"
    return None


def main(argv: list[str]) -> int:
    """Print messages until --count or Ctrl-C; exit 0, or 1 when gaps were seen."""
    parser = argparse.ArgumentParser(prog="vgsum subscribe", description=__doc__.splitlines()[0])
    parser.add_argument("endpoint", help="tcp://HOST:PORT (connect), or sub+bind:/sub+connect:ADDR")
    parser.add_argument("--kind", action="append", default=[], choices=KINDS, help="only this kind (repeatable)")
    parser.add_argument("--stream", action="append", default=[], help="only this stream id (repeatable)")
    parser.add_argument("--count", type=int, default=0, help="stop after N messages (0: forever)")
    parser.add_argument("--timeout", type=float, default=0.0, help="stop after this many seconds (0: never)")
    parser.add_argument("--json", action="store_true", help="print each payload as JSON")
    args = parser.parse_args(argv)

    received_n = 0
    deadline = time.monotonic() + args.timeout if args.timeout > 0 else None
    with Subscriber(args.endpoint, kinds=args.kind, streams=args.stream) as sub:
        try:
            while args.count <= 0 or received_n < args.count:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                received = sub.recv(timeout_s=remaining)
                if received is None:
                    break
                received_n += 1
                note = format_gap(received)
                if note:
                    print(note, file=sys.stderr, flush=True)
                line = received.message.model_dump_json() if args.json else format_message(received.message)
                print(line, flush=True)
        except KeyboardInterrupt:
            pass
        tracker = sub.tracker
        print(
            f"received {received_n} messages; {len(tracker.gaps)} gaps, {tracker.missing} missing; "
            f"{sub.invalid} invalid; {tracker.restarts} publisher restarts",
            file=sys.stderr,
        )
        return 1 if tracker.gaps else 0
