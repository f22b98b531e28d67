"""What the control socket's operations do with one summarizing daemon's parts (`ControlHandler`).

Called from the control thread: queries go through the thread-safe `StreamQueries`
that the live streams read, status comes from the ingest workers, the pipeline's
counters and the store writer, history from the store's file, and `recap_now` queues
the daily recap on the recap thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.daemon.ingest_service import IngestService
from vgsum.runtime.daemon.pipeline import Pipeline


class DaemonControl:
    """The control socket's view of a daemon: streams, their queries, status and history."""

    def __init__(
        self,
        pipeline: Pipeline,
        ingest: IngestService,
        store: Any | None,
        mqtt: Any | None = None,
        daily: Any | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.ingest = ingest
        self.store = store
        self.mqtt = mqtt
        self.daily = daily  # the daily recap (runtime/daemon/daily_recap.py), when this daemon makes recaps

    def stream_ids(self) -> list[str]:
        """Configured stream ids."""
        return self.pipeline.queries.stream_ids()

    def get_queries(self, stream_id: str) -> list[str]:
        """The stream's queries."""
        return self.pipeline.queries.get(stream_id)

    def set_queries(self, stream_id: str, queries: list[str]) -> None:
        """Replace the stream's queries; they apply from the next frame the pipeline takes."""
        self.pipeline.queries.set(stream_id, queries)

    def query_notices(self, stream_id: str) -> dict[str, str]:
        """query -> one line for each query of the stream that names nothing vgsum can see (kept all the same)."""
        return self.pipeline.query_notices(stream_id)

    def get_summary(self, stream_id: str) -> dict[str, Any]:
        """The summary settings the stream runs with."""
        return self.pipeline.summary_of(stream_id).model_dump()

    def set_summary(self, stream_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change the stream's summary settings from its next frame on; UserError of one line for a bad change."""
        try:
            return self.pipeline.set_summary(stream_id, changes).model_dump()
        except ValueError as err:
            raise UserError(str(err)) from None

    def stream_status(self, stream_id: str) -> Mapping[str, Any]:
        """State and counters of one stream."""
        stats = self.ingest.workers[stream_id].stats()
        return {
            "state": stats.state.value,
            "frames_sampled": stats.frames_sampled,
            "frames_dropped": stats.frames_dropped,
            "reconnects": stats.reconnects,
            "stalls": stats.stalls,
            "epoch": stats.epoch,
            "frames_scored": self.pipeline.frames_done(stream_id),
            "frames_gated": self.pipeline.frames_gated(stream_id),
            "gate": self.pipeline.gate_enabled(stream_id),
            "gaps": self.pipeline.gaps(stream_id),
            "queries": self.pipeline.queries.get(stream_id),
            "last_error": stats.last_error,
            "store_dropped": None if self.store is None else self.store.dropped[stream_id],
            "store_error": None if self.store is None else self.store.failure,
            "store_connected": None if self.store is None else self.store.connected,  # false: PostgreSQL away
            "mqtt_dropped": None if self.mqtt is None else self.mqtt.dropped[stream_id],
            "mqtt_connected": None if self.mqtt is None else self.mqtt.connected,
        }

    def store_path(self) -> Path | None:
        """The history database, or None when the store is off (control ops that read history say so)."""
        return None if self.store is None else self.store.path

    def recap_now(self, stream_id: str | None) -> dict[str, Any]:
        """Queue the daily recap of the last 24 h now; each stream's recap id (its `recap` message follows)."""
        if self.daily is None:
            raise UserError("recap_now: this daemon makes no recaps (they need store.enabled, and web or recap on)")
        queued = self.daily.run_now(streams=None if stream_id is None else [stream_id])
        return {"recaps": queued}
