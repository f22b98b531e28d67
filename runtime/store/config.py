"""`StoreConfig`: the `store:` section of a daemon's config (where the history lives, how long it is kept).

The data directory is `$VGSUM_DATA`, else `~/.local/share/vgsum`; the database and
the thumbnails live under it unless `path` says otherwise. `vgsum run` and
`vgsum serve` share the default file, so a demo run is browsable by the daemon.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DB_NAME = "history.db"


def data_dir() -> Path:
    """The history's home: `$VGSUM_DATA`, else `$XDG_DATA_HOME/vgsum` (`~/.local/share/vgsum`)."""
    default = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "vgsum"
    return Path(os.environ.get("VGSUM_DATA", default)).expanduser()


class RetentionConfig(BaseModel):
    """How much history one stream keeps; `None` keeps everything on that axis."""

    model_config = ConfigDict(extra="forbid")

    keep_days: float | None = Field(30.0, gt=0, description="highlights older than this are deleted with their files")
    clips_max_gb: float | None = Field(10.0, gt=0, description="a stream's clips past this size go, oldest first")


class StoreConfig(BaseModel):
    """The history database: highlights, stream states, score timelines and published messages."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    path: Path | None = Field(None, description=f"default: <data dir>/{DB_NAME}, data dir $VGSUM_DATA")
    queue_size: int = Field(10_000, ge=16, le=1_000_000, description="records waiting for the writer; past it, drops")
    batch: int = Field(500, ge=1, le=100_000, description="records per transaction at most")
    flush_s: float = Field(0.5, gt=0, le=60, description="a transaction commits at least this often")
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    retention_streams: dict[str, RetentionConfig] = Field(
        default_factory=dict, description="per stream id: overrides `retention`"
    )
    retention_interval_s: float = Field(3600.0, gt=0, description="retention runs at start and this often")

    @property
    def db_path(self) -> Path:
        """The database file in force."""
        return (self.path.expanduser() if self.path is not None else data_dir() / DB_NAME).resolve()

    @property
    def thumbnails_dir(self) -> Path:
        """Thumbnails live beside the database: `<dir>/thumbnails/<stream>/<id>.jpg`."""
        return self.db_path.parent / "thumbnails"

    @property
    def clips_dir(self) -> Path:
        """Where `vgsum run` writes clips when the store is on (the store owns them)."""
        return self.db_path.parent / "clips"

    def retention_for(self, stream_id: str) -> RetentionConfig:
        """The stream's own retention, else the default."""
        return self.retention_streams.get(stream_id, self.retention)
