"""`StoreConfig`: the `store:` section of a daemon's config (where the history lives, how long it is kept).

The data directory is `$VGSUM_DATA`, else `~/.local/share/vgsum`; the database and
the thumbnails live under it unless `path` says otherwise. `vgsum run` and
`vgsum serve` share the default file, so a demo run is browsable by the daemon.

`url: postgresql://user@host:port/db` puts the history in a PostgreSQL database
instead (several daemons may share one, each under its own stream ids and
`daemon_id`). Its password is read from `password_file` or `password_env`; a URL
holding one is refused, so the secret is never in a config that gets printed or
pasted. Clips and thumbnails stay files under the data dir (a folder shared by the
daemons, mounted at the same path on each, if one page should play them all).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vgsum.runtime.store.postgres import PostgresTarget, check_url

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
    url: str | None = Field(None, description="postgresql://user@host:port/db instead of the SQLite file")
    password_file: Path | None = Field(None, description="with `url`: a file holding the database password")
    password_env: str | None = Field(None, description="with `url`: an environment variable holding it")
    daemon_id: str | None = Field(
        None, min_length=1, max_length=100, description="recorded with each stream this daemon writes (default: host)"
    )
    queue_size: int = Field(10_000, ge=16, le=1_000_000, description="records waiting for the writer; past it, drops")
    batch: int = Field(500, ge=1, le=100_000, description="records per transaction at most")
    flush_s: float = Field(0.5, gt=0, le=60, description="a transaction commits at least this often")
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    retention_streams: dict[str, RetentionConfig] = Field(
        default_factory=dict, description="per stream id: overrides `retention`"
    )
    retention_interval_s: float = Field(3600.0, gt=0, description="retention runs at start and this often")

    @field_validator("url")
    @classmethod
    def _url(cls, url: str | None) -> str | None:
        return None if url is None else check_url(url.strip())

    @model_validator(mode="after")
    def _one_database(self) -> StoreConfig:
        if self.url is not None and self.path is not None:
            raise ValueError("give store.path (SQLite) or store.url (PostgreSQL), not both")
        if self.password_file is not None and self.password_env is not None:
            raise ValueError("give store.password_file or store.password_env, not both")
        if self.url is None and (self.password_file is not None or self.password_env is not None):
            raise ValueError("store.password_file and store.password_env go with store.url")
        return self

    @property
    def postgres(self) -> bool:
        return self.url is not None

    @property
    def target(self) -> Path | PostgresTarget:
        """What `connect`, `StoreReader` and `StoreWriter` open: the SQLite file, or the PostgreSQL database."""
        if self.url is not None:
            return PostgresTarget(self.url, self.password_file, self.password_env)
        return self.db_path

    @property
    def db_path(self) -> Path:
        """The database file in force (SQLite; with `url`, where it would be, unused)."""
        return (self.path.expanduser() if self.path is not None else data_dir() / DB_NAME).resolve()

    @property
    def files_dir(self) -> Path:
        """The folder of the history's files: beside the SQLite file, or the data dir with PostgreSQL."""
        return data_dir().resolve() if self.url is not None else self.db_path.parent

    @property
    def thumbnails_dir(self) -> Path:
        """Thumbnails live beside the database: `<dir>/thumbnails/<stream>/<id>.jpg`."""
        return self.files_dir / "thumbnails"

    @property
    def clips_dir(self) -> Path:
        """Where `vgsum run` writes clips when the store is on (the store owns them)."""
        return self.files_dir / "clips"

    @property
    def daemon(self) -> str:
        """The daemon id recorded with its streams: `daemon_id`, else the host name."""
        return self.daemon_id or socket.gethostname()

    def retention_for(self, stream_id: str) -> RetentionConfig:
        """The stream's own retention, else the default."""
        return self.retention_streams.get(stream_id, self.retention)


def is_database_url(text: str | None) -> bool:
    """Whether a `--db` value names a PostgreSQL database rather than a SQLite file."""
    return text is not None and text.split(":", 1)[0] in ("postgresql", "postgres")


def cli_store(db: str, password_file: Path | None, password_env: str | None) -> StoreConfig:
    """`--db postgresql://...` of a CLI command as a store config (one UserError line when it is not a usable URL)."""
    from vgsum.runtime.common.configfile import parse_config

    data: dict[str, object] = {"url": db, "password_file": password_file, "password_env": password_env}
    names = {"url": "--db", "password_file": "--password-file", "password_env": "--password-env", "": "--db"}
    return parse_config({k: v for k, v in data.items() if v is not None}, StoreConfig, where=None, key_names=names)


def cli_target(db: str, password_file: Path | None, password_env: str | None) -> PostgresTarget:
    """`--db postgresql://...` of a CLI command as a target (one UserError line when it is not a usable URL)."""
    target = cli_store(db, password_file, password_env).target
    assert isinstance(target, PostgresTarget)
    return target
