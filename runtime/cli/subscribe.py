"""`vgsum subscribe ENDPOINT [--kind K]... [--stream S]... [--count N] [--json] [--catch-up]`: watch a publisher.

Prints one line per message (or the raw JSON) and reports every seq gap, so a
lossy link or a slow consumer is visible at once. With `--catch-up`, a gap in the
`highlight` or `event` messages is filled from the daemon's history over its
control socket (`replay`): the missing messages are printed before the one that
revealed the gap (`replayed` in front, or a note on stderr with `--json`), each
(stream, kind, seq) once. `--from-seq N` also fetches what came before the first
message received, from seq N on (a consumer that restarts passes its last seq + 1).
Live plus catch-up deliver every highlight at least once.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field

from vgsum.runtime.common.errors import UserError
from vgsum.stream.messages import (
    KINDS,
    FrameMessage,
    HeartbeatMessage,
    MessageBase,
    StatusMessage,
    parse_message,
)
from vgsum.stream.subscribe import Received, Subscriber

REPLAYED_KINDS = ("highlight", "event", "recap")  # what the daemon's store keeps by seq


@dataclass
class CatchUp:
    """Fills seq gaps of the replayed kinds from a daemon's control socket, and drops what was already seen."""

    control: str
    from_seq: int | None = None
    timeout_s: float = 5.0
    resume: dict[tuple[str, str], int] = field(default_factory=dict)  # (stream, kind) -> first seq wanted
    seen: set[tuple[str, str, int]] = field(default_factory=set)
    started: set[tuple[str, str]] = field(default_factory=set)
    replayed: int = 0
    unrecovered: int = 0

    def missing_before(self, received: Received) -> list[MessageBase]:
        """The messages lost before `received` (fetched from the store), in seq order, not seen before."""
        message = received.message
        key = (message.stream_id, message.kind)
        if message.kind not in REPLAYED_KINDS:
            return []
        span = None
        first = self.resume.get(key, self.from_seq)
        if received.gap is not None:
            span = (received.gap.expected, received.gap.got - 1)
        elif key not in self.started and first is not None and message.seq > first:
            span = (first, message.seq - 1)
        self.started.add(key)
        if span is None:
            return []
        try:
            fetched = [m for m in self.fetch(message.stream_id, message.kind, *span) if self.first_time(m)]
        except UserError:
            self.unrecovered += span[1] - span[0] + 1
            raise
        self.replayed += len(fetched)
        self.unrecovered += (span[1] - span[0] + 1) - len({m.seq for m in fetched})
        return fetched

    def first_time(self, message: MessageBase) -> bool:
        """True once per (stream, kind, seq) of the replayed kinds; other kinds always."""
        if message.kind not in REPLAYED_KINDS:
            return True
        key = (message.stream_id, message.kind, message.seq)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def fetch(self, stream_id: str, kind: str, from_seq: int, to_seq: int) -> list[MessageBase]:
        """Every stored message of the range, page by page."""
        from vgsum.runtime.cli.ctl import request

        out: list[MessageBase] = []
        next_seq: int | None = from_seq
        while next_seq is not None and next_seq <= to_seq:
            ask = {"op": "replay", "stream_id": stream_id, "kind": kind, "from_seq": next_seq, "to_seq": to_seq}
            reply = request(self.control, json.dumps(ask).encode(), self.timeout_s)
            if not reply.get("ok"):
                raise UserError(f"catch-up from {self.control}: {reply.get('error', 'refused')}")
            result = reply["result"]
            out += [parse_message(json.dumps(m)) for m in result["messages"]]
            next_seq = result["next_seq"]
        return out


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
    parser.add_argument(
        "--catch-up", action="store_true", help="fetch highlight/event messages lost in a gap from the daemon's store"
    )
    parser.add_argument(
        "--control", default="tcp://127.0.0.1:5571", help="the daemon's control socket, for --catch-up"
    )
    parser.add_argument(
        "--from-seq", type=int, default=None, metavar="N",
        help="with --catch-up: also fetch each highlight/event stream from seq N up to its first live message",
    )
    args = parser.parse_args(argv)
    if args.from_seq is not None and (args.from_seq < 0 or not args.catch_up):
        raise UserError("--from-seq needs --catch-up and a seq >= 0")
    catch_up = CatchUp(args.control, args.from_seq) if args.catch_up else None

    def show(message: MessageBase, replayed: bool = False) -> None:
        if args.json:
            print(message.model_dump_json(), flush=True)
        else:
            print(("replayed " if replayed else "") + format_message(message), flush=True)

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
                if catch_up is not None:
                    try:
                        missed = catch_up.missing_before(received)
                    except UserError as err:  # the daemon's history is out of reach: say so, keep listening
                        print(f"CATCH-UP FAILED: {err}", file=sys.stderr, flush=True)
                        missed = []
                    if missed:
                        m = received.message
                        print(f"REPLAYED {m.stream_id}/{m.kind}: {len(missed)} from the store (seq "
                              f"{missed[0].seq}..{missed[-1].seq})", file=sys.stderr, flush=True)
                    for message in missed:
                        show(message, replayed=True)
                    if not catch_up.first_time(received.message):
                        continue
                show(received.message)
        except KeyboardInterrupt:
            pass
        tracker = sub.tracker
        recovered = "" if catch_up is None else f"; {catch_up.replayed} replayed, {catch_up.unrecovered} unrecovered"
        print(
            f"received {received_n} messages; {len(tracker.gaps)} gaps, {tracker.missing} missing{recovered}; "
            f"{sub.invalid} invalid; {tracker.restarts} publisher restarts",
            file=sys.stderr,
        )
        if catch_up is not None:
            return 1 if catch_up.unrecovered else 0
        return 1 if tracker.gaps else 0
