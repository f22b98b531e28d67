"""The page's Recap action: what the server needs from a recap service, and the request it reads from the page.

Why a Protocol: the recaps are made by `runtime.recap` (a sibling of this package,
so neither imports the other). The web package says here what it needs (queue a
recap, its state, its files, the latest ones) and the daemon, which assembles
both, hands in `runtime.recap.jobs.RecapJobs`. A page server without one (no
daemon, or no store) hides the Recap control and answers 404 to recap requests.

The body of `POST /api/recaps` is client input: size-checked, strict UTF-8 JSON,
one object, then a pydantic form with `extra="forbid"`; any mistake is one line
(HTTP 400). Times are read as everywhere else (runtime/common/times.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vgsum.runtime.common.configfile import describe_validation_error
from vgsum.runtime.common.json_input import json_object
from vgsum.runtime.common.times import parse_time
from vgsum.runtime.web.api import BadRequest

MAX_BODY_BYTES = 16 * 1024
DAY_S = 86_400.0
FINISHED = ("done", "failed", "empty")


class RecapService(Protocol):
    """Makes recaps in the background (one at a time) and keeps the latest; called from request threads."""

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
        """Queue a recap; its id. `UserError` (one line) for one it cannot make (a bad budget, an unknown stream)."""
        ...

    def busy(self) -> str | None:
        """One line when no more recaps can be queued now (the page is told to wait), else None."""
        ...

    def state(self, recap_id: str) -> dict[str, Any] | None:
        """The recap's state (`state`: queued, running, done, failed, empty; `parts` when done), or None."""
        ...

    def file(self, recap_id: str, kind: Literal["mp4", "vtt"]) -> Path | None:
        """The finished recap's video or WebVTT captions, or None."""
        ...

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest recaps, newest first (the page's and the daily ones), without their parts."""
        ...


class RecapBody(BaseModel):
    """`POST /api/recaps`: what to recap. Every key may be left out (all streams, the last 24 h, 3 minutes)."""

    model_config = ConfigDict(extra="forbid")

    streams: list[str] | None = Field(None, max_length=64, description="stream ids (a string: comma-separated)")
    since: str | float | None = Field(None, description="any time form of the API; default 24 h before until")
    until: str | float | None = Field(None, description="default now")
    query: str | None = Field(None, max_length=200, description="only highlights that answer this text")
    object: str | None = Field(None, max_length=64, description="only highlights where this object was seen")
    budget: str = Field("3m", max_length=16, description="the recap's length: 3m, 90s, 1h or 5%")

    @field_validator("streams", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part for part in (p.strip() for p in value.split(",")) if part] or None
        return value

    @field_validator("streams")
    @classmethod
    def _ids(cls, streams: list[str] | None) -> list[str] | None:
        for stream in streams or []:
            if not 1 <= len(stream) <= 128 or not stream.isprintable():
                raise ValueError("each stream id is 1 to 128 printable characters")
        return list(dict.fromkeys(streams)) if streams else None

    @field_validator("budget", mode="before")
    @classmethod
    def _seconds(cls, value: object) -> object:
        return f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else value


@dataclass(frozen=True)
class RecapAsk:
    """A checked recap request: times resolved to unix seconds."""

    streams: tuple[str, ...] | None
    since: float
    until: float
    budget: str
    query: str | None
    label: str | None


def read_ask(raw: bytes, now: float | None = None) -> RecapAsk:
    """The body of `POST /api/recaps` as a request; BadRequest (one line) for anything else."""
    now = time.time() if now is None else now
    try:
        data = json_object(raw, MAX_BODY_BYTES, "body", 'body must be a JSON object, e.g. {"budget": "3m"}')
        body = RecapBody.model_validate(data)
    except ValueError as err:  # pydantic's ValidationError is one too
        if isinstance(err, ValidationError):
            raise BadRequest(describe_validation_error(err, None)) from None
        raise BadRequest(str(err)) from None
    until = _when(body.until, "until", now) if body.until is not None else now
    since = _when(body.since, "since", now) if body.since is not None else until - DAY_S
    if until <= since:
        raise BadRequest("until must be after since")
    return RecapAsk(
        streams=tuple(body.streams) if body.streams else None,
        since=since,
        until=until,
        budget=body.budget,
        query=(body.query or "").strip() or None,
        label=(body.object or "").strip() or None,
    )


def _when(value: str | float, name: str, now: float) -> float:
    if isinstance(value, int | float):
        return float(value)
    try:
        return parse_time(value, now)
    except ValueError as err:
        raise BadRequest(f"{name} {value[:40]!r}: {err}") from None


def video_path(recap_id: str) -> str:
    """The recap's video on the page's server (relative to its address): `/recaps/<id>.mp4`."""
    return f"/recaps/{recap_id}.mp4"


def with_urls(state: dict[str, Any]) -> dict[str, Any]:
    """A recap's state as the page reads it: the video's and captions' URLs once it is done."""
    done = state.get("state") == "done"
    recap_id = state["id"]
    return {**state, "video_url": video_path(recap_id) if done else None,
            "captions_url": f"/recaps/{recap_id}.vtt" if done else None}
