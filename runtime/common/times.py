"""Wall-clock times as people write them, read the same way everywhere (`vgsum highlights`, the page's API).

A time is an ISO 8601 time (`2026-11-29T18:00`, local time unless it says its
zone), unix seconds, `now`, or a span back from now (`-2h`, `-30m`, `-1d`, `-1w`,
`-90s`).
"""

from __future__ import annotations

import re
import time
from datetime import datetime

FORMS = "an ISO time (2026-11-29T18:00), unix seconds, now, or -2h / -30m / -1d"
_RELATIVE = re.compile(r"-(\d+(?:\.\d+)?)([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_time(text: str, now: float | None = None) -> float:
    """Unix seconds of `text`; ValueError saying which forms are accepted when it is none of them."""
    now = time.time() if now is None else now
    value = text.strip()
    if value == "now":
        return now
    relative = _RELATIVE.fullmatch(value)
    if relative:
        return now - float(relative.group(1)) * _UNITS[relative.group(2)]
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return float(value)
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        raise ValueError(f"give {FORMS}") from None
