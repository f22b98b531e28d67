"""Bytes from a client (the control socket, an MQTT command) read as one JSON object, or one line saying why not.

Both listeners take requests from outside the process, so both check the same things in
the same order before any schema sees the data: size, strict UTF-8, JSON, nesting, an object.
"""

from __future__ import annotations

import json
from typing import Any


def json_object(raw: bytes, max_bytes: int, what: str, not_object: str) -> dict[str, Any]:
    """`raw` as a JSON object; ValueError of one line naming `what` (`request`, `command`) when it is not one.

    `not_object` is the line for valid JSON of another shape (it says what the object should hold).
    """
    if len(raw) > max_bytes:
        raise ValueError(f"{what} is {len(raw)} bytes; the limit is {max_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{what} is not valid UTF-8 (byte {err.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{what} is not JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    except RecursionError:
        raise ValueError(f"{what} nests too deeply") from None
    if not isinstance(data, dict):
        raise ValueError(not_object)
    return data
