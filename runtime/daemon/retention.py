"""The history's retention while the daemon runs: a pass at start (orphans too) and one every interval.

A failed pass is logged and scoring goes on: retention frees space, it never stops a camera.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.store.config import StoreConfig
from vgsum.runtime.store.postgres import scrub
from vgsum.runtime.store.retention import apply_retention

log = logging.getLogger(__name__)


class RetentionLoop:
    """Retention passes over the store and the streams' clip folders."""

    def __init__(
        self,
        cfg: StoreConfig,
        clips_dirs: dict[str, Path],
        stop: threading.Event,
        *,
        recaps_keep_days: float | None = None,
        recaps_dir: Path | None = None,
        own_streams: list[str] | None = None,
    ) -> None:
        self.cfg = cfg
        self.own_streams = own_streams  # a database shared by daemons: only these streams are this one's to prune
        self.clips_dirs = clips_dirs
        self.recaps_keep_days = recaps_keep_days  # `recap.keep_days`: daily recaps go with their files
        self.recaps_dir = recaps_dir
        self._stop = stop
        self._thread = threading.Thread(target=self._run, name="store-retention", daemon=True)

    def apply(self, orphans: bool = False) -> None:
        """One pass now; `orphans` also deletes clip and thumbnail files no row points to (only before any is cut)."""
        try:
            apply_retention(self.cfg, self.clips_dirs, orphans=orphans, recaps_keep_days=self.recaps_keep_days,
                            recaps_dir=self.recaps_dir, only=self.own_streams)
        except (UserError, OSError, sqlite3.Error) as err:
            log.warning("store: retention failed: %s", err)
        except Exception as err:  # psycopg's errors (a PostgreSQL store that went away): the next pass tries again
            if not self.cfg.postgres:
                raise
            log.warning("store: retention failed: %s", scrub(f"{type(err).__name__}: {err}", self.cfg.target))

    def start(self) -> None:
        """A pass every `retention_interval_s` until the stop event is set."""
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.cfg.retention_interval_s):
            self.apply()
