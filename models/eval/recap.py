"""`vgsum eval recap`: the recap of a recorded camera-day beside three baselines, under one budget.

The day is `models/eval/recap_day.record_day` (real streams through `vgsum run` into a
real store). Rows, each given the same budget and the same part length:

- `vgsum`: `vgsum recap` itself: score x query match x novelty, the knapsack, the video written;
- `top-scored`: the same knapsack and part length without novelty (what repeats cost);
- `truncated`: every stored highlight in time order, each cut to its share of the budget;
- `uniform`: parts of the same length spread evenly over every camera's recorded time.

Only the `vgsum` row writes a video, so its build time is the recap's own (reading the
store and clips, looking at each highlight's peak frame, writing the MP4). Figures are
in models/eval/recap_metrics.py.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from vgsum.models.eval.recap_metrics import Coverage, Span, coverage

ROWS = ("vgsum", "top-scored", "truncated", "uniform")
DAY_HOURS = 24.0


def _day_range(day: Any) -> tuple[float, float]:
    starts = [s.anchor_wall for s in day.streams]
    ends = [s.anchor_wall + s.duration_s for s in day.streams]
    return min(starts) - 1.0, max(ends) + 1.0


def _spans(plan: Any) -> list[Span]:
    return [Span(p.part.stream_id, p.part.wall_from, p.part.wall_to) for p in plan.parts]


def truncated_spans(reader: Any, request: Any, budget_s: float) -> list[Span]:
    """Every closed highlight with a clip, in time order, each shortened to its share of the budget."""
    rows = []
    for stream in request.streams or [s.stream_id for s in reader.streams()]:
        rows += [r for r in reader.highlights(stream_id=stream, since=request.since, until=request.until, limit=10_000)
                 if r.closed and r.clip]
    total = sum(r.wall_end - r.wall_start for r in rows)
    share = min(1.0, budget_s / total) if total > 0 else 0.0
    return [Span(r.stream_id, r.wall_start, r.wall_start + (r.wall_end - r.wall_start) * share)
            for r in sorted(rows, key=lambda r: r.wall_start)]


def uniform_spans(day: Any, budget_s: float, part_s: float) -> list[Span]:
    """`budget / part` parts of `part_s`, evenly over the cameras' recorded time laid end to end."""
    n = max(1, int(budget_s // part_s))
    lengths = np.array([s.duration_s for s in day.streams])
    edges = np.concatenate([[0.0], np.cumsum(lengths)])
    spans = []
    for k in range(n):
        at = (k + 0.5) * edges[-1] / n
        i = min(int(np.searchsorted(edges, at, side="right")) - 1, len(day.streams) - 1)
        stream = day.streams[i]
        local = min(max(at - edges[i] - part_s / 2, 0.0), max(stream.duration_s - part_s, 0.0))
        spans.append(Span(stream.stream_id, stream.anchor_wall + local, stream.anchor_wall + local + part_s))
    return spans


def run_rows(day: Any, budget: str, out_dir: Path, engines: Path | None = None) -> dict[str, Any]:
    """Every row's coverage on the day, and the recap's build figures."""
    from vgsum.runtime.engines.config import EngineConfig
    from vgsum.runtime.engines.perception import PerceptionEngine
    from vgsum.runtime.recap.budget import parse_budget
    from vgsum.runtime.recap.build import RecapRequest, build_recap, plan_recap
    from vgsum.runtime.store.reader import StoreReader

    since, until = _day_range(day)
    streams = tuple(s.stream_id for s in day.streams)
    request = RecapRequest(since, until, parse_budget(budget), streams)
    perception = PerceptionEngine.load(EngineConfig(dir=engines).folder, device="cpu", threads=1)
    results: dict[str, Any] = {}
    with StoreReader(day.store) as reader:
        began = time.monotonic()
        built = build_recap(reader, request, out_dir / "recap.mp4", perceive=perception)
        build_s = time.monotonic() - began
        plan = built.plan
        results["vgsum"] = coverage(_spans(plan), day.streams)
        flat_request = RecapRequest(since, until, request.budget, streams, diverse=False, part_s=plan.part_s)
        flat = plan_recap(reader, flat_request)
        results["top-scored"] = coverage(_spans(flat), day.streams)
        results["truncated"] = coverage(truncated_spans(reader, request, plan.budget_s), day.streams)
    results["uniform"] = coverage(uniform_spans(day, plan.budget_s, plan.part_s), day.streams)
    written = built.written
    return {
        "rows": results,
        "budget_s": plan.budget_s,
        "part_s": plan.part_s,
        "highlights": plan.highlights,
        "candidates": plan.candidates,
        "build_s": build_s,
        "recorded_h": day.recorded_s / 3600.0,
        "video_s": 0.0 if written is None else written.duration,
        "mode": None if written is None else written.reason,
        "video": None if written is None else str(written.path),
    }


def format_rows(figures: dict[str, Any], day: Any) -> str:
    rows: dict[str, Coverage] = figures["rows"]
    first = next(iter(rows.values()))
    lines = [
        f"camera-day: {len(day.streams)} cameras, {figures['recorded_h']:.2f} recorded hours, "
        f"{first.events_total} distinct events of {first.kinds_total} kinds, {figures['highlights']} stored highlights",
        f"budget {figures['budget_s']:.0f} s, parts of at most {figures['part_s']:.1f} s",
        "",
        "| row | parts | seconds | event coverage | kind coverage | quiet share | repeat share |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, c in rows.items():
        lines.append(
            f"| {name} | {c.parts} | {c.seconds:.0f} | {c.events:.2f} ({c.events_covered}/{c.events_total}) | "
            f"{c.kinds:.2f} ({c.kinds_covered}/{c.kinds_total}) | {c.quiet:.3f} | {c.repeats:.3f} |"
        )
    per_hour = figures["build_s"] / figures["recorded_h"] if figures["recorded_h"] else 0.0
    lines += [
        "",
        f"recap build: {figures['build_s']:.1f} s for {figures['recorded_h']:.2f} recorded hours "
        f"({per_hour:.1f} s per recorded hour, {figures['candidates']} highlights looked at); "
        f"video {figures['video_s']:.1f} s; {figures['mode']}",
    ]
    return "\n".join(lines)


def main(args: Any) -> int:
    from vgsum.models.data.camera_day import DAYS
    from vgsum.models.eval.recap_day import record_day

    cameras = None if args.day == "day" else DAYS[args.day]
    day = record_day(quiet_s=args.quiet_s, progress=not args.no_progress, cameras=cameras)
    out_dir = args.save if args.save is not None else Path(tempfile.mkdtemp(prefix="vgsum-recap-eval-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = run_rows(day, args.budget, out_dir, args.engines)
    print(format_rows(figures, day))
    doc = dict(figures, rows={k: asdict(v) for k, v in figures["rows"].items()})
    (out_dir / "recap-eval.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"saved {out_dir / 'recap-eval.json'} and the recap video {figures['video']}", file=sys.stderr)
    return 0
