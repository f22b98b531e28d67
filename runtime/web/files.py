"""Clips and thumbnails over HTTP, with single byte ranges.

Browsers play and seek an MP4 through `Range: bytes=...` requests and refuse to
seek (some refuse to play) when the server ignores them. One range per request is
all they ask for; a multi-range request gets the whole file, which HTTP allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class Span:
    """Bytes [start, end] (inclusive, as in Content-Range) of a file of `size` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"


class Unsatisfiable(ValueError):
    """The range lies outside the file (HTTP 416)."""


def parse_range(header: str | None, size: int) -> Span | None:
    """The span a Range header asks for; None for the whole file (no header, several ranges, or another unit)."""
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # bytes=-N: the last N bytes
        count = int(last)
        if count == 0 or size == 0:
            raise Unsatisfiable(header)
        return Span(max(0, size - count), size - 1, size)
    start = int(first)
    if start >= size:
        raise Unsatisfiable(header)
    end = size - 1 if not last else min(int(last), size - 1)
    if end < start:
        raise Unsatisfiable(header)
    return Span(start, end, size)


def copy_span(path: Path, span: Span, out) -> None:  # noqa: ANN001 (a writable binary stream)
    """Write bytes [span.start, span.end] of `path` to `out` in chunks."""
    with path.open("rb") as f:
        f.seek(span.start)
        left = span.length
        while left > 0:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                break
            out.write(chunk)
            left -= len(chunk)
