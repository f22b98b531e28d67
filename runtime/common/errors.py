"""`UserError` for the runtime and the CLI (defined in `vgsum.stream.errors`, the bottom layer)."""

from __future__ import annotations

from vgsum.stream.errors import UserError

__all__ = ["UserError"]
