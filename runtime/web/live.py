"""Server-sent events for the page: highlights as they are written or change, and stream states.

Why the server polls the store: the daemon's writer commits from its own thread
(and `vgsum collect` from another process), so the store is the one place every
change passes; a query on `updated_at` every half second costs about a
millisecond. Each event's `id` is the feed's position, so a browser that
reconnects (EventSource does so by itself) resumes with `Last-Event-ID`.

Delivery is at least once: rows are asked for from `LAG_S` before the position
(a writer may stamp `updated_at` a moment before it commits) and those already
sent with the same `updated_at` are skipped; the page merges by id.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from vgsum.runtime.store.reader import MAX_LIMIT
from vgsum.runtime.web.api import LiveStates, Regions, StoreAccess, highlight_json, streams

LAG_S = 2.0
POLL_S = 0.5
HEARTBEAT_S = 10.0

Write = Callable[[bytes], None]


def event(name: str, data: Any, event_id: str | None = None) -> bytes:
    """One SSE frame."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def feed(
    write: Write,
    access: StoreAccess,
    live: LiveStates | None,
    stop: threading.Event,
    after: float | None,
    *,
    poll_s: float = POLL_S,
    regions: Regions | None = None,
) -> None:
    """Send events until `stop` or until the client goes away (a write raises OSError)."""
    position = time.time() if after is None else after
    sent: dict[str, float] = {}  # highlight id -> updated_at already sent
    last_streams: Any = None
    last_write = time.monotonic()
    try:
        write(b"retry: 2000\n\n")
        while True:
            snapshot = streams(access, live, regions)
            if snapshot != last_streams:
                write(event("streams", snapshot))
                last_streams, last_write = snapshot, time.monotonic()
            with access.reader() as reader:
                rows = [] if reader is None else reader.highlights_changed(position - LAG_S, MAX_LIMIT)
            for row in rows:
                if sent.get(row.id) == row.updated_at:
                    continue
                sent[row.id] = row.updated_at
                position = max(position, row.updated_at)
                write(event("highlight", highlight_json(row), event_id=repr(position)))
                last_write = time.monotonic()
            sent = {k: v for k, v in sent.items() if v >= position - LAG_S}
            if time.monotonic() - last_write > HEARTBEAT_S:
                write(b": ping\n\n")  # finds a client that went away; keeps proxies from closing the stream
                last_write = time.monotonic()
            if stop.wait(poll_s):
                return
    except OSError:  # BrokenPipeError, ConnectionResetError: the page was closed
        return
