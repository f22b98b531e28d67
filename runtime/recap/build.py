"""A recap from the history: pick parts with the knapsack, write the MP4, its captions and a JSON of why.

`plan_recap` only reads (the store, the clips' indexes, one frame per highlight
for its look); `write_plan` writes the three files. The CLI, the page's recap
action and the daemon's daily recap all call `build_recap`, which does both.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.recap.budget import Budget
from vgsum.runtime.recap.clips import ClipFormat, UnreadableClip, frames_at, index_clip
from vgsum.runtime.recap.novelty import NoveltyRamp, looks_like, novelty, signature
from vgsum.runtime.recap.parts import Candidate, Timeline, candidate, place
from vgsum.runtime.recap.selection import Valued, choose, part_length
from vgsum.runtime.recap.video import Segment, Written, write_recap
from vgsum.runtime.store.reader import MAX_LIMIT, HighlightRow, StoreReader

log = logging.getLogger(__name__)

STANDING_QUERY_WEIGHT = 1.25  # a highlight that answered its camera's own query counts this much more
NOVEL = 0.5  # parts at least this novel share the budget when part lengths are set
LOOK_AT = (0.25, 0.5, 0.75)  # where in a highlight its look is taken (shares of its length)
RECAP_VERSION = 1


@dataclass(frozen=True)
class RecapRequest:
    """What to recap: streams (None: all), a wall-time range, a budget, and optional filters."""

    since: float
    until: float
    budget: Budget
    streams: tuple[str, ...] | None = None
    query: str | None = None
    label: str | None = None
    diverse: bool = True
    shortest_s: float = 4.0  # a shorter part is hard to follow
    longest_s: float = 20.0
    part_s: float | None = None  # a fixed part length (benchmarks compare choices at one length); None: shared


@dataclass(frozen=True)
class ChosenPart:
    part: Candidate
    valued: Valued


@dataclass
class RecapPlan:
    """The chosen parts in wall-time order, what was left out and why, and the figures behind the choice."""

    request: RecapRequest
    budget_s: float
    part_s: float = 0.0
    parts: list[ChosenPart] = field(default_factory=list)
    candidates: int = 0
    highlights: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    looks: bool = False  # whether novelty used the perception engine


@dataclass(frozen=True)
class RecapResult:
    plan: RecapPlan
    written: Written | None
    json_path: Path | None
    build_s: float


Perceive = Callable[[list[np.ndarray]], list[Any]]


def _all_rows(reader: StoreReader, stream: str | None, req: RecapRequest) -> list[HighlightRow]:
    rows: list[HighlightRow] = []
    before = None
    while True:
        page = reader.highlights(
            stream_id=stream, since=req.since, until=req.until, label=req.label, limit=MAX_LIMIT, before=before
        )
        rows += page
        if len(page) < MAX_LIMIT:
            return rows
        before = (page[-1].wall_start, page[-1].id)


def _timeline(reader: StoreReader, stream: str, req: RecapRequest) -> Timeline | None:
    points = reader.scores(stream, since=req.since - 60, until=req.until + 60, max_points=400_000)
    if not points:
        return None
    return Timeline(np.array([p.wall_time for p in points]), np.array([p.score for p in points]))


def plan_recap(
    reader: StoreReader,
    req: RecapRequest,
    *,
    perceive: Perceive | None = None,
    matches: Callable[[HighlightRow], bool] | None = None,
    progress: Callable[[str, int], Any] | None = None,
) -> RecapPlan:
    """Choose the parts. UserError for an unknown stream or a budget of 0 or past the range."""
    known = [s.stream_id for s in reader.streams()]
    streams = list(req.streams) if req.streams else known
    unknown = [s for s in streams if s not in known]
    if unknown:
        raise UserError(f"unknown stream {unknown[0]!r}; the history holds: {', '.join(known) or 'no streams'}")
    plan = RecapPlan(req, req.budget.for_range(req.until - req.since))
    rows = [r for s in streams for r in _all_rows(reader, s, req)]
    if matches is not None:
        rows = [r for r in rows if matches(r)]
    plan.highlights = len(rows)
    timelines = {s: _timeline(reader, s, req) for s in streams}
    cands: list[Candidate] = []
    for row in sorted(rows, key=lambda r: (r.wall_start, r.id)):
        if not row.closed:
            plan.skipped.append({"id": row.id, "reason": "still open (no clip yet)"})
        elif not row.clip:
            plan.skipped.append({"id": row.id, "reason": "no clip kept (its stream has no clips_dir)"})
        else:
            try:
                clip = index_clip(Path(row.clip))
            except UnreadableClip as err:
                plan.skipped.append({"id": row.id, "reason": f"clip unusable: {err}"})
                plan.notes.append(f"highlight {row.id} skipped: {err}")
            else:
                cands.append(candidate(row, clip, timelines[row.stream_id]))
        if progress is not None:
            progress("reading clips", 1)
    plan.candidates = len(cands)
    if not cands:
        return plan
    signatures = _signatures(cands, perceive, progress) if req.diverse and perceive is not None else None
    plan.looks = signatures is not None
    standing = np.array([1.0 if req.query or not c.row.query else STANDING_QUERY_WEIGHT for c in cands])
    scores = np.array([c.row.score for c in cands])
    fresh = (
        novelty(scores * standing, signatures, [c.stream_id for c in cands], NoveltyRamp())
        if req.diverse else np.ones(len(cands))
    )
    valued = [Valued(float(s), float(m), float(n)) for s, m, n in zip(scores, standing, fresh, strict=True)]
    plan.part_s = req.part_s or part_length(plan.budget_s, int(np.sum(fresh >= NOVEL)), req.shortest_s, req.longest_s)
    placed = [place(c, plan.part_s, timelines[c.stream_id], req.shortest_s) for c in cands]
    picked = choose([c.duration for c in placed], [v.value for v in valued], plan.budget_s)
    chosen = (ChosenPart(placed[i], valued[i]) for i in picked)
    plan.parts = sorted(chosen, key=lambda p: (p.part.wall_from, p.part.row.id))
    return plan


def _signatures(cands: list[Candidate], perceive: Perceive, progress) -> np.ndarray:  # noqa: ANN001
    """Each candidate's look (a zero row when no frame of it can be decoded)."""
    rows: list[np.ndarray | None] = []
    for c in cands:
        span = c.clip.duration - c.starts_at
        frames = [f for f in frames_at(c.clip.path, [c.starts_at + q * span for q in LOOK_AT]) if f is not None]
        rows.append(looks_like([signature(seen) for seen in perceive(frames)]) if frames else None)
        if progress is not None:
            progress("looking at highlights", 1)
    width = next((len(r) for r in rows if r is not None), 1)
    return np.stack([np.zeros(width) if r is None else r for r in rows])


def caption(part: Candidate) -> str:
    """`2026-12-04 14:05:12 · cam1 · person x2, car · "a red car"`: when, where, what, and the query it answered."""
    row = part.row
    when = datetime.fromtimestamp(part.wall_from).strftime("%Y-%m-%d %H:%M:%S")
    objects = ", ".join(f"{label} x{n}" if n > 1 else label for label, n in row.objects.items()) or "activity"
    text = f"{when} · {row.stream_id} · {objects}"
    if row.zones:
        text += f" · in {', '.join(row.zones)}"
    return text + (f' · "{row.query}"' if row.query else "")


def _why(chosen: ChosenPart, plan: RecapPlan) -> str:
    v = chosen.valued
    reasons = [f"score {v.score:.2f}"]
    if v.match != 1.0:
        reasons.append(f"answered its camera's query ({chosen.part.row.query})")
    if plan.request.query:
        reasons.append(f"matches {plan.request.query!r}")
    if plan.looks:
        reasons.append(f"novelty {v.novelty:.2f}")
    return ", ".join(reasons) + f": value {v.value:.2f}"


def write_plan(plan: RecapPlan, out: Path, progress: Callable[[str, int], Any] | None = None) -> tuple[Written, Path]:
    """Write the MP4 (+ .vtt) and the JSON beside it; returns what was written and the JSON's path."""
    segments = [Segment(p.part.clip.path, p.part.clip_from, p.part.clip_to, caption(p.part)) for p in plan.parts]
    formats: list[ClipFormat] = [p.part.clip.format for p in plan.parts]
    step = None if progress is None else (lambda n: progress("writing", n))
    written = write_recap(segments, formats, out, progress=step)
    json_path = out.with_suffix(".json")
    doc = recap_document(plan, written)
    partial = json_path.with_name(json_path.name + ".part")
    partial.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, json_path)
    return written, json_path


def recap_document(plan: RecapPlan, written: Written) -> dict[str, Any]:
    """The JSON beside the video: the request, how it was joined, and each part with its source and reasons."""
    req = plan.request
    return {
        "version": RECAP_VERSION,
        "video": written.path.name,
        "captions": written.path.with_suffix(".vtt").name,
        "streams": sorted({p.part.stream_id for p in plan.parts}),
        "since": req.since,
        "until": req.until,
        "budget": str(req.budget),
        "budget_s": round(plan.budget_s, 2),
        "part_s": round(plan.part_s, 2),
        "query": req.query,
        "object": req.label,
        "diverse": req.diverse,
        "novelty_from": "perception features of three frames of each highlight" if plan.looks else "off",
        "mode": written.mode,
        "mode_reason": written.reason,
        "duration": round(written.duration, 3),
        "highlights": plan.highlights,
        "candidates": plan.candidates,
        "parts": [
            {
                "highlight_id": p.part.row.id,
                "stream": p.part.stream_id,
                "wall_start": round(p.part.wall_from, 3),
                "wall_end": round(p.part.wall_to, 3),
                "clip": str(p.part.clip.path),
                "clip_from": round(p.part.clip_from, 3),
                "clip_to": round(p.part.clip_to, 3),
                "recap_start": round(a, 3),
                "recap_end": round(b, 3),
                "objects": p.part.row.objects,
                "query": p.part.row.query,
                "zones": p.part.row.zones,
                "score": round(p.valued.score, 4),
                "match": round(p.valued.match, 4),
                "novelty": round(p.valued.novelty, 4),
                "value": round(p.valued.value, 4),
                "why": _why(p, plan),
                "caption": caption(p.part),
            }
            for p, (a, b) in zip(plan.parts, written.spans, strict=True)
        ],
        "skipped": plan.skipped,
    }


def build_recap(
    reader: StoreReader,
    req: RecapRequest,
    out: Path,
    *,
    perceive: Perceive | None = None,
    matches: Callable[[HighlightRow], bool] | None = None,
    progress: Callable[[str, int], Any] | None = None,
) -> RecapResult:
    """Plan and write; no file at all when there is nothing to recap (`written` is None)."""
    began = time.monotonic()
    if not out.parent.is_dir():
        raise UserError(f"output folder {out.parent} does not exist")
    plan = plan_recap(reader, req, perceive=perceive, matches=matches, progress=progress)
    if not plan.parts:
        return RecapResult(plan, None, None, time.monotonic() - began)
    written, json_path = write_plan(plan, out, progress)
    return RecapResult(plan, written, json_path, time.monotonic() - began)


def length_text(seconds: float) -> str:
    """`45 s`, `3 min 05 s`, `24 h 00 min`: a range or a recap's length as people say it."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def nothing_line(result: RecapResult) -> str:
    """The one line of a recap with no parts (as `vgsum recap` says it)."""
    plan, req = result.plan, result.plan.request
    where = ", ".join(req.streams) if req.streams else "any stream"
    why = "no highlights" if plan.highlights == 0 else f"{plan.highlights} highlights, none with a usable clip"
    return f"nothing to recap: {why} of {where} in that time ({length_text(req.until - req.since)})"


def default_name(streams: list[str] | None, until: float) -> str:
    """`recap-cam1-2026-12-04.mp4`, `recap-all-...` for every stream."""
    import re

    label = "all" if not streams else "-".join(streams) if len(streams) <= 3 else f"{len(streams)}-streams"
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("._")[:60] or "stream"
    return f"recap-{label}-{datetime.fromtimestamp(until).strftime('%Y-%m-%d-%H%M')}.mp4"
