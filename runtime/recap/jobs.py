"""Recaps made in the background, one at a time: the page's Recap action and the daemon's daily recap.

Why one worker thread and a short queue: a recap reads every clip of its range and
writes video; two at once on a small edge box would slow the live scoring that
shares its cores for no gain, and a page that can queue without bound could be
made to fill the disk. So jobs wait in order (`MAX_WAITING` from the page at most),
and only the last `KEEP_JOBS` finished ones of each origin are kept: an evicted page
recap loses its files, a daily one stays in the store (its row and files belong to
retention) and is read from there.

`RecapJobs` is the history page's recap service (runtime/web/recaps.py,
`RecapService`): the web package defines what it needs and the daemon, which
assembles both, hands this in. Nothing here knows of HTTP.

Files: page recaps go to `<recaps dir>/page/<id>.mp4` (+ .vtt, .json), cleared at
start since no job outlives its process; daily ones are named by the daily recap
(runtime/daemon/daily_recap.py) in `<recaps dir>` itself.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.backends import OrtBackend
from vgsum.runtime.engines.perception import PerceptionEngine
from vgsum.runtime.recap.budget import parse_budget
from vgsum.runtime.recap.build import Perceive, RecapRequest, RecapResult, build_recap, length_text, nothing_line
from vgsum.runtime.store.postgres import PostgresTarget
from vgsum.runtime.store.reader import HighlightRow, RecapRow, StoreReader
from vgsum.stream.redact import redact_text

log = logging.getLogger(__name__)

KEEP_JOBS = 8  # finished jobs remembered, of the page and daily each; older page recaps are deleted
MAX_WAITING = 3  # page recaps queued or running at once; past it the page is told to wait
MAX_ERROR_CHARS = 300
PAGE_FILE = re.compile(r"[0-9a-f]{16}\.(mp4|vtt|json)(\.part)?")
# the parts' fields the page gets: everything but the clip's path on this machine
PART_FIELDS = ("highlight_id", "stream", "wall_start", "wall_end", "recap_start", "recap_end", "objects", "query",
               "zones", "score", "novelty", "value", "why", "caption")

State = Literal["queued", "running", "done", "failed", "empty"]
Perceiver = Callable[[], "Perceive | None"]  # called on the worker thread before each recap


class SharedPerception:
    """The perception engine recaps look with (novelty): the daemon's own where a second thread may call it, else
    one of their own on the CPU, loaded at the first recap that needs it.

    Why: ONNX Runtime's sessions are safe to run from two threads at once, so the
    daemon's loaded engine costs nothing more; a TensorRT engine owns its device
    buffers and is the pipeline's alone. An engine that cannot be loaded turns
    novelty off (said once), the recap is made all the same.
    """

    def __init__(self, shared: PerceptionEngine | None, folder: Path, threads: int | None = 1) -> None:
        self.shared = shared if shared is not None and isinstance(shared.backend, OrtBackend) else None
        self.folder = folder
        self.threads = threads
        self._own: PerceptionEngine | None = None
        self._failed = False

    def __call__(self) -> Perceive | None:
        if self.shared is not None:
            return self.shared
        if self._own is None and not self._failed:
            try:
                self._own = PerceptionEngine.load(self.folder, kind="onnxruntime", device="cpu", threads=self.threads)
            except UserError as err:
                self._failed = True
                log.warning("recap: no perception engine for novelty (%s); parts are chosen without it", err)
        return self._own

    def interrupt(self) -> None:
        """Cut a call of its own engine short (the shared one is the pipeline's to interrupt)."""
        if self._own is not None:
            self._own.backend.interrupt()


class Cancelled(Exception):
    """The recaps are stopping: the job in progress ends at its next step (its partial file is removed)."""


@dataclass
class Job:
    """One recap: what was asked, where it goes, and how far it got."""

    id: str
    request: RecapRequest
    out: Path
    origin: Literal["page", "daily"]
    created_at: float = field(default_factory=time.time)
    state: State = "queued"
    stage: str | None = None
    steps: int = 0
    error: str | None = None
    message: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    result: RecapResult | None = None
    document: dict[str, Any] | None = None
    on_done: Callable[[Job], None] | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "empty")


def _one_line(text: str) -> str:
    flat = " ".join(redact_text(text).split())
    return flat if len(flat) <= MAX_ERROR_CHARS else flat[: MAX_ERROR_CHARS - 3] + "..."


def page_parts(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The parts of a recap's JSON as the page lists them (chapters), without file paths."""
    return [{name: part.get(name) for name in PART_FIELDS} for part in document.get("parts", [])]


class RecapJobs:
    """A queue of recaps over one store, made on one thread; the page's recap service and the daily recap's runner."""

    def __init__(
        self,
        store_path: Path | PostgresTarget,
        folder: Path,
        *,
        perceive: Perceiver | None = None,
        text_engine: Any | None = None,
        keep: int = KEEP_JOBS,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        self.store_path = store_path
        self.folder = folder
        self.page_folder = folder / "page"
        self._perceive = perceive  # what the parts look like, for novelty (recap/novelty.py); None: off
        self.text_engine = text_engine  # reads a query by meaning when given (the daemon's text engine)
        self.keep = keep
        self.max_waiting = max_waiting
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._queue: queue.Queue[Job] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> RecapJobs:
        """Make the folders, delete the page recaps an earlier run left (no job refers to them), start the thread."""
        self.page_folder.mkdir(parents=True, exist_ok=True)
        for stale in self.page_folder.iterdir():
            if PAGE_FILE.fullmatch(stale.name) and stale.is_file():
                stale.unlink(missing_ok=True)
        self._thread = threading.Thread(target=self._run, name="recaps", daemon=True)
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """The recap in progress ends at its next step (an engine call of its own is cut short); nothing queued
        starts."""
        self._stop.set()
        interrupt = getattr(self._perceive, "interrupt", None)
        if interrupt is not None:
            interrupt()

    def stop(self, timeout_s: float = 3.0) -> None:
        """Stop and wait for the worker; jobs still queued end as failed. Idempotent."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("recap: still writing after %.1f s; leaving it", timeout_s)
            self._thread = None
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            self._finish(job, "failed", error="the daemon stopped before this recap was made")

    # -- the page's side (RecapService) -------------------------------------------------
    def busy(self) -> str | None:
        """One line when the page may not queue another recap now, else None."""
        with self._lock:
            waiting = sum(1 for j in self._jobs.values() if j.origin == "page" and not j.finished)
        if waiting >= self.max_waiting:
            return f"{waiting} recaps are being made already; ask again when one is done"
        return None

    def submit(
        self,
        *,
        streams: tuple[str, ...] | None,
        since: float,
        until: float,
        budget: str,
        query: str | None = None,
        label: str | None = None,
    ) -> str:
        """Queue a page recap; its id. UserError (one line) for a request that cannot make one."""
        if until <= since:
            raise UserError("until must be after since")
        parsed = parse_budget(budget)
        parsed.for_range(until - since)  # 0, or longer than the range: said now, not when the job runs
        if streams:
            self._check_streams(streams)
        busy = self.busy()
        if busy is not None:
            raise UserError(busy)
        recap_id = uuid.uuid4().hex[:16]
        request = RecapRequest(since, until, parsed, streams or None, (query or "").strip() or None,
                               (label or "").strip() or None)
        self._enqueue(Job(recap_id, request, self.page_folder / f"{recap_id}.mp4", "page"))
        return recap_id

    def state(self, recap_id: str) -> dict[str, Any] | None:
        """A recap as the page shows it (a job, or a daily recap in the store); None when there is none."""
        with self._lock:
            job = self._jobs.get(recap_id)
            if job is not None:
                return self._job_json(job, parts=True)
        row = self._stored(recap_id)
        return None if row is None else _row_json(row, parts=True)

    def file(self, recap_id: str, kind: Literal["mp4", "vtt"]) -> Path | None:
        """The recap's video or captions, when it is done and the file still exists."""
        with self._lock:
            job = self._jobs.get(recap_id)
            video = job.out if job is not None and job.state == "done" else None
        if video is None and job is None:
            row = self._stored(recap_id)
            video = Path(row.path) if row is not None else None
        if video is None:
            return None
        path = video if kind == "mp4" else video.with_suffix(".vtt")
        return path if path.is_file() else None

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest recaps, newest first: this run's jobs and the daily recaps in the store (without parts)."""
        with self._lock:
            items = {j.id: self._job_json(j, parts=False) for j in self._jobs.values()}
        for row in self._stored_rows(limit):
            items.setdefault(row.id, _row_json(row, parts=False))
        return sorted(items.values(), key=lambda r: r["created_at"], reverse=True)[:limit]

    # -- the daily recap's side ---------------------------------------------------------
    def enqueue(self, recap_id: str, request: RecapRequest, out: Path, on_done: Callable[[Job], None]) -> Job:
        """Queue a daily recap (no page limit: one per stream a day); `on_done` runs on the worker when it ends."""
        job = Job(recap_id, request, out, "daily", on_done=on_done)
        self._enqueue(job)
        return job

    def wait(self, recap_id: str, timeout_s: float) -> dict[str, Any] | None:
        """The job's state once it is finished, or as it is after `timeout_s` (tests, the control socket)."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = self.state(recap_id)
            if found is None or found["state"] in ("done", "failed", "empty") or time.monotonic() >= deadline:
                return found
            time.sleep(0.05)

    # -- the worker ---------------------------------------------------------------------
    def _enqueue(self, job: Job) -> None:
        if self._thread is None or self._stop.is_set():
            raise UserError("recaps are not being made now (the daemon is stopping)")
        with self._lock:
            self._jobs[job.id] = job
        self._queue.put(job)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                job = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if self._stop.is_set():
                self._finish(job, "failed", error="the daemon stopped before this recap was made")
                break
            self._make(job)

    def _make(self, job: Job) -> None:
        with self._lock:
            job.state, job.started_at = "running", time.time()
        try:
            job.out.parent.mkdir(parents=True, exist_ok=True)
            perceive = self._perceiver()
            matches = self._matcher(job.request.query)
            with StoreReader(self.store_path) as reader:
                result = build_recap(reader, job.request, job.out, perceive=perceive, matches=matches,
                                     progress=lambda stage, n: self._progress(job, stage, n))
        except Cancelled:
            self._finish(job, "failed", error="the daemon stopped before this recap was done")
        except UserError as err:
            self._finish(job, "failed", error=_one_line(str(err)))
        except Exception as err:  # a damaged clip PyAV chokes on, a full disk: this recap fails, the next may not
            if self._stop.is_set():  # an engine call cut short by the daemon's stop, not a fault of the recap
                self._finish(job, "failed", error="the daemon stopped before this recap was done")
                return
            log.exception("recap %s failed", job.id)
            self._finish(job, "failed", error=_one_line(f"{type(err).__name__}: {err}"))
        else:
            if result.written is None:
                self._finish(job, "empty", result=result, message=nothing_line(result))
            else:
                document = json.loads(result.json_path.read_text(encoding="utf-8")) if result.json_path else {}
                self._finish(job, "done", result=result, document=document)

    def _progress(self, job: Job, stage: str, n: int) -> None:
        if self._stop.is_set():
            raise Cancelled()
        with self._lock:
            if job.stage != stage:
                job.stage, job.steps = stage, 0
            job.steps += n

    def _perceiver(self) -> Perceive | None:
        if self._perceive is None:  # novelty then ranks by score and query alone
            return None
        try:
            return self._perceive()
        except UserError as err:
            log.warning("recap: novelty off: %s", err)
            return None

    def _matcher(self, query: str | None) -> Callable[[HighlightRow], bool] | None:
        """By meaning with the text engine (as the page's search); else the stored query text contains it."""
        if not query:
            return None
        if self.text_engine is not None:
            from vgsum.runtime.store.search import MeaningSearch

            return MeaningSearch(self.text_engine, query).matches
        text = query.lower()
        return lambda row: bool(row.query and text in row.query.lower())

    def _finish(self, job: Job, state: State, *, result: RecapResult | None = None,
                document: dict[str, Any] | None = None, error: str | None = None, message: str | None = None) -> None:
        with self._lock:
            job.state, job.finished_at = state, time.time()
            job.result, job.document, job.error, job.message = result, document, error, message
            evicted = self._evict(job.origin)
        for old in evicted:
            if old.origin == "page":
                for path in (old.out, old.out.with_suffix(".vtt"), old.out.with_suffix(".json")):
                    path.unlink(missing_ok=True)
        if state == "failed":
            log.warning("recap %s (%s) failed: %s", job.id, job.origin, error)
        elif result is not None and result.written is not None:
            log.info("recap %s (%s): %s, %d parts, %s, in %.1f s", job.id, job.origin, job.out.name,
                     len(result.plan.parts), length_text(result.written.duration), result.build_s)
        else:
            log.info("recap %s (%s): %s", job.id, job.origin, message)
        if job.on_done is not None:
            try:
                job.on_done(job)
            except Exception:
                log.exception("recap %s: announcing it failed", job.id)

    def _evict(self, origin: str) -> list[Job]:
        """The oldest finished jobs of `origin` past `keep` (under the lock): a day of many cameras' recaps does
        not push the page's recaps out."""
        finished = [j for j in self._jobs.values() if j.finished and j.origin == origin]
        evicted = finished[: max(0, len(finished) - self.keep)]
        for job in evicted:
            del self._jobs[job.id]
        return evicted

    # -- the store ----------------------------------------------------------------------
    def _check_streams(self, streams: tuple[str, ...]) -> None:
        known = [s.stream_id for s in self._reader_rows(lambda r: r.streams())]
        unknown = [s for s in streams if s not in known]
        if unknown:
            holds = ", ".join(known) or "no streams"
            raise UserError(f"unknown stream {unknown[0][:64]!r}; the history holds: {holds}")

    def _stored(self, recap_id: str) -> RecapRow | None:
        rows = self._reader_rows(lambda r: [row] if (row := r.recap(recap_id)) is not None else [])
        return rows[0] if rows else None

    def _stored_rows(self, limit: int) -> list[RecapRow]:
        return self._reader_rows(lambda r: r.recaps(limit=limit))

    def _reader_rows(self, ask: Callable[[StoreReader], list[Any]]) -> list[Any]:
        if isinstance(self.store_path, Path) and not self.store_path.is_file():
            return []
        try:
            with StoreReader(self.store_path) as reader:
                return ask(reader)
        except UserError as err:  # a damaged file: the page says there is no such recap; the store's owner is told
            log.debug("recap: cannot read the store: %s", err)
            return []

    def _job_json(self, job: Job, *, parts: bool) -> dict[str, Any]:
        req = job.request
        out: dict[str, Any] = {
            "id": job.id,
            "origin": job.origin,
            "state": job.state,
            "streams": list(req.streams) if req.streams else None,
            "since": req.since,
            "until": req.until,
            "budget": str(req.budget),
            "query": req.query,
            "object": req.label,
            "created_at": job.created_at,
            "stage": job.stage,
            "steps": job.steps,
            "error": job.error,
            "message": job.message,
        }
        if job.state == "done" and job.result is not None and job.result.written is not None:
            written = job.result.written
            out |= {"duration": round(written.duration, 3), "mode": written.mode, "mode_reason": written.reason,
                    "build_s": round(job.result.build_s, 2), "part_count": len(job.result.plan.parts)}
            if parts:
                out["parts"] = page_parts(job.document or {})
        return out


def _row_json(row: RecapRow, *, parts: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "origin": "daily",
        "state": "done",
        "streams": [row.stream_id],
        "since": row.since,
        "until": row.until,
        "query": row.query,
        "created_at": row.created_at,
        "duration": row.duration,
        "part_count": row.parts,
        "error": None,
        "message": None,
    }
    if parts:
        document: dict[str, Any] = {}
        if row.json_path:
            try:
                document = json.loads(Path(row.json_path).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                log.debug("recap %s: its JSON %s is gone or unreadable", row.id, row.json_path)
        out["parts"] = page_parts(document)
    return out
