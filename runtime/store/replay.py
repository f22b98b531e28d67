"""History answers for the control socket: highlights by filter, and published messages by seq range.

Replies are bounded (rows and bytes) because a REP reply is held in memory on
both sides: a reply that stops early says where to go on (`next_seq`, `before`),
and the client asks again.

The delivery contract these serve: live PUB/SUB may lose messages (a subscriber
that is not connected, or falls behind); every `highlight` and `event` message is
also kept in the store under its (stream, kind, seq), so a subscriber that sees
a gap, or starts late, fetches the missing seqs here. Live plus catch-up deliver
each message at least once; a consumer deduplicates by (stream, kind, seq), or
by the highlight's `id`.
"""

from __future__ import annotations

import json
from typing import Any

from vgsum.runtime.store.reader import StoreReader

MAX_REPLY_BYTES = 512 * 1024
MAX_REPLAY_MESSAGES = 500
MAX_HIGHLIGHTS = 500


def highlights_reply(reader: StoreReader, *, limit: int = 100, **filters: Any) -> dict[str, Any]:
    """Newest first; `before` is the key of the last row when more match (pass it back for the next page)."""
    rows = reader.highlights(limit=min(limit, MAX_HIGHLIGHTS) + 1, **filters)
    more = len(rows) > min(limit, MAX_HIGHLIGHTS)
    out: list[dict[str, Any]] = []
    size = 0
    for row in rows[: min(limit, MAX_HIGHLIGHTS)]:
        item = row.as_dict()
        size += len(json.dumps(item))
        if size > MAX_REPLY_BYTES:
            more = True
            break
        out.append(item)
    before = [out[-1]["wall_start"], out[-1]["id"]] if more and out else None
    return {"highlights": out, "more": more, "before": before}


def replay_reply(reader: StoreReader, stream_id: str, kind: str, from_seq: int, to_seq: int | None) -> dict[str, Any]:
    """The stored payloads of seqs [from_seq, to_seq] in order; `next_seq` is where to ask again, or None."""
    payloads = reader.messages(stream_id, kind, from_seq, to_seq)
    messages: list[Any] = []
    size = 0
    for payload in payloads[:MAX_REPLAY_MESSAGES]:
        size += len(payload)
        if size > MAX_REPLY_BYTES and messages:
            break
        messages.append(json.loads(payload))
    last = messages[-1]["seq"] if messages else None
    complete = len(messages) == len(payloads) and len(payloads) < MAX_REPLAY_MESSAGES
    next_seq = None if complete or last is None else last + 1
    return {"stream_id": stream_id, "kind": kind, "messages": messages, "next_seq": next_seq}
