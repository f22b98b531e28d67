"""What a query must be before it is read: UTF-8 text, not empty, at most 1 KiB.

Queries arrive from the config file, the command line and the control socket; a query
that is empty matches everything or nothing, a huge one is an attack or a paste error,
and bytes that are not UTF-8 cannot be tokenised the same way twice. Each is one
clear line to the operator, not a silently ignored query.
"""

from __future__ import annotations

import unicodedata

from vgsum.runtime.common.errors import UserError

MAX_QUERY_BYTES = 1024


def check_query(query: str | bytes) -> str:
    """The query stripped of surrounding space; a UserError when it is empty, too long or not UTF-8 text."""
    if isinstance(query, bytes):
        try:
            query = query.decode("utf-8")
        except UnicodeDecodeError:
            raise UserError("a query is not UTF-8 text; send queries as UTF-8") from None
    if not isinstance(query, str):
        raise UserError(f"a query must be text, got {type(query).__name__}")
    try:
        size = len(query.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates: bytes that were not UTF-8, decoded with surrogateescape
        raise UserError("a query is not UTF-8 text; send queries as UTF-8") from None
    if size > MAX_QUERY_BYTES:
        raise UserError(f"a query is {size} bytes long; at most {MAX_QUERY_BYTES} bytes (a few words) are allowed")
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in query):
        raise UserError(f"query {query[:40]!r} holds control characters; type plain text")
    text = " ".join(query.split())
    if not text:
        raise UserError("a query is empty; give a few words, e.g. 'a person walking'")
    return text
