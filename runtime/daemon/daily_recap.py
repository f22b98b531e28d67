"""The daemon's daily recap: at `recap.at` each day, one recap per stream of the 24 hours before, announced.

Why per stream: each camera's day gets its own video, row, message and MQTT topic,
so a subscriber follows the cameras it cares about. The recaps are made by the
same worker as the page's (`RecapJobs`, one at a time, never on the scoring
thread); when one is written, `announce` hands its fields to the daemon, which
publishes a `recap` message (the store's writer keeps its row from that message,
the MQTT bridge forwards it). A stream with nothing to recap that day gets no
message, only a log line.

The clock: the thread wakes at least once a minute and compares the wall clock with
the next `at` (local time, `next_run`), so a clock that is set, or a box that was
suspended, runs the recap at the right time rather than after a stale sleep. A day
the daemon was down at `at` is not made up later; `recap_now` on the control
socket makes one by hand.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as time_of_day
from typing import Any

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.daemon.config import DAY_S, RecapConfig
from vgsum.runtime.recap.budget import parse_budget
from vgsum.runtime.recap.build import RecapRequest
from vgsum.runtime.recap.jobs import Job, RecapJobs
from vgsum.runtime.store.reader import StoreReader

log = logging.getLogger(__name__)

WAKE_S = 60.0  # the longest sleep between looks at the wall clock


@dataclass(frozen=True)
class Recapped:
    """A daily recap that was written: the fields of its `recap` message (without the page's URL)."""

    stream_id: str
    id: str
    since: float
    until: float
    duration: float
    parts: int
    query: str | None
    path: str
    created_at: float

    def fields(self) -> dict[str, Any]:
        """Keyword arguments of `RecapMessage` besides the stream id."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "stream_id"}


Announce = Callable[[Recapped], None]


def next_run(at: time_of_day, now: datetime) -> datetime:
    """The first time of day `at` strictly after `now` (naive local times: `at` is the owner's clock)."""
    today = datetime.combine(now.date(), at)
    return today if today > now else datetime.combine(now.date() + timedelta(days=1), at)


def recap_file_name(stream_id: str, until: float, recap_id: str) -> str:
    """`cam1_2026-12-04_0600_3f9c1a7be2d04c55.mp4`: the camera, the day it ends, its id (retention knows the form)."""
    return f"{stream_id}_{datetime.fromtimestamp(until).strftime('%Y-%m-%d_%H%M')}_{recap_id}.mp4"


class DailyRecap:
    """Once a day at `cfg.at` (only when `cfg.enabled`), or now on request: a recap of each stream's last day."""

    def __init__(
        self,
        cfg: RecapConfig,
        stream_ids: list[str],
        jobs: RecapJobs,
        announce: Announce,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cfg = cfg
        self.stream_ids = list(cfg.streams or stream_ids)
        self.jobs = jobs
        self.announce = announce
        self.clock = clock
        self.budget = parse_budget(cfg.budget)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """The daily thread (only with `recap.enabled`; `run_now` works either way)."""
        if not self.cfg.enabled:
            return
        self._thread = threading.Thread(target=self._run, name="daily-recap", daemon=True)
        self._thread.start()
        first = next_run(self.cfg.time_of_day, datetime.fromtimestamp(self.clock()))
        log.info("daily recap of %s at %s (next %s)", ", ".join(self.stream_ids), self.cfg.at, first.isoformat(" "))

    def stop(self, timeout_s: float = 1.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def run_now(self, until: float | None = None, streams: list[str] | None = None) -> list[dict[str, Any]]:
        """Queue the recap of the 24 h before `until` (default: now) of each stream; what was queued, per stream.

        A stream the history holds nothing of yet is `empty` at once. UserError when the recaps are stopping
        or `streams` names one this recap does not cover.
        """
        until = self.clock() if until is None else until
        since = until - DAY_S
        wanted = streams or self.stream_ids
        outside = [s for s in wanted if s not in self.stream_ids]
        if outside:
            raise UserError(f"no daily recap of stream {outside[0][:64]!r}; it covers: {', '.join(self.stream_ids)}")
        known = self._known_streams()
        queued: list[dict[str, Any]] = []
        for stream_id in wanted:
            if stream_id not in known:
                queued.append({"stream_id": stream_id, "id": None, "state": "empty",
                               "message": f"nothing to recap: the history holds nothing of {stream_id} yet"})
                continue
            recap_id = uuid.uuid4().hex[:16]
            request = RecapRequest(since, until, self.budget, (stream_id,), self.cfg.query)
            out = self.jobs.folder / recap_file_name(stream_id, until, recap_id)
            job = self.jobs.enqueue(recap_id, request, out, self._done)
            queued.append({"stream_id": stream_id, "id": job.id, "state": job.state, "message": None})
        return queued

    def _known_streams(self) -> set[str]:
        with StoreReader(self.jobs.store_path) as reader:
            return {s.stream_id for s in reader.streams()}

    def _done(self, job: Job) -> None:
        """On the recap worker: a written recap is announced; an empty or failed one is only logged (by the jobs)."""
        result = job.result
        if job.state != "done" or result is None or result.written is None:
            return
        request = job.request
        assert request.streams is not None
        self.announce(Recapped(
            stream_id=request.streams[0],
            id=job.id,
            since=request.since,
            until=request.until,
            duration=round(result.written.duration, 3),
            parts=len(result.plan.parts),
            query=request.query,
            path=str(result.written.path),
            created_at=job.finished_at or self.clock(),
        ))

    def _run(self) -> None:
        at = self.cfg.time_of_day
        while not self._stop.is_set():
            due = next_run(at, datetime.fromtimestamp(self.clock())).timestamp()
            while not self._stop.is_set() and self.clock() < due:
                self._stop.wait(min(WAKE_S, max(0.01, due - self.clock())))
            if self._stop.is_set():
                return
            try:
                self.run_now(until=due)
            except (UserError, OSError) as err:  # the daemon is stopping, or the store cannot be read right now
                log.warning("daily recap at %s not made: %s", self.cfg.at, err)

