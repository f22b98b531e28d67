"""`CameraConfig`: one stream's whole config, its source (`StreamConfig`) and how its live path treats it.

The source settings live with the reader in `stream/`; what only the live path reads
(this stream's changes to the `summary:` section) is added here, so a camera can be
tuned on its own while the global section stays the default for every other one.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from vgsum.stream.config import StreamConfig


class CameraConfig(StreamConfig):
    """A stream as the daemon runs it: its source, and its own changes to the summary settings."""

    summary: dict[str, Any] = Field(
        default_factory=dict,
        description="changes to the `summary:` section for this stream only, with the same keys "
        "(`events` changes key by key), e.g. {motion_gain: 0.2, events: {start_above: 0.7}}",
    )
