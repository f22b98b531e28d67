"""The report `vgsum run --out DIR` leaves behind: scores.json, highlights.json and timeline.png.

Why a picture: someone who ran the summarizer on a video wants to see at a glance
where the highlights are and what they show. The timeline has the score curve
over media time (m:ss), each highlight's span shaded and numbered, and above the
plot a thumbnail per highlight, joined to its span by a line; the title names the
source and the queries. The JSON files are the same data for programs.

Both JSON files open with the run's `source`, `queries`, `duration` (the media time at
which the last frame read ends, on the scores' clock) and `warnings` (one line each:
why the report covers less than the source, e.g. a file that ended early; empty
when it covers all of it).

Input is plain data, so the pipeline (or a test) needs nothing else:
- scores: `(t, score, final)` triples, t in seconds of media time, score in [0, 1];
  when a time appears twice (provisional, then final) the last one wins.
- highlights: dicts with `start`, `end`, `score`, `objects` (label -> count),
  `query` (str or None), optional `clip` (path) and optional `thumbnail`
  (an RGB uint8 array; drawn in the PNG, left out of the JSON); optional `id`,
  `alerted_at` and `ended_at` (stream times of its start and end messages, drawn as
  ▶ and ■ under the span: the highlight's life cycle).

matplotlib (the `demo` extra) is imported only when the PNG is drawn, and draws on
its Agg canvas without pyplot: no display, no global state, safe in a thread.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vgsum.runtime.common.errors import UserError

SCORE_COLOR = "#1f5fa8"
SPAN_COLOR = "#f28e2b"
PROVISIONAL_COLOR = "#8aa9cf"
MAX_THUMBS = 8  # more would be too small to see; the best-scoring ones are shown


@dataclass(frozen=True)
class ReportFiles:
    """Paths of the files written."""

    scores_json: Path
    highlights_json: Path
    timeline_png: Path | None


def format_time(seconds: float, _pos: object = None) -> str:
    """m:ss, or h:mm:ss past an hour (the tick format of the timeline)."""
    total = int(round(max(0.0, seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _latest_scores(scores: Sequence[tuple[float, float, bool]]) -> list[tuple[float, float, bool]]:
    by_time: dict[float, tuple[float, float, bool]] = {}
    for t, score, final in scores:
        by_time[float(t)] = (float(t), float(score), bool(final))
    return [by_time[t] for t in sorted(by_time)]


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serializable: {type(value).__name__}")


def _highlight_record(h: Mapping[str, Any]) -> dict[str, Any]:
    record = {k: v for k, v in h.items() if k != "thumbnail"}
    for key in ("start", "end", "score"):
        if key not in record:
            raise ValueError(f"highlight lacks {key!r}: {sorted(h)}")
        record[key] = float(record[key])
    record.setdefault("objects", {})
    record.setdefault("query", None)
    return record


def write_report(
    out_dir: str | Path,
    scores: Sequence[tuple[float, float, bool]],
    highlights: Sequence[Mapping[str, Any]],
    *,
    source: str = "",
    queries: Sequence[str] = (),
    duration: float | None = None,
    warnings: Sequence[str] = (),
    png: bool = True,
) -> ReportFiles:
    """Write scores.json, highlights.json and (unless `png=False`) timeline.png into `out_dir`."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"--out {out}: cannot create the report folder ({err.strerror})") from None
    points = _latest_scores(scores)
    records = sorted((_highlight_record(h) for h in highlights), key=lambda r: r["start"])
    scores_path = out / "scores.json"
    highlights_path = out / "highlights.json"
    meta = {"source": source, "queries": list(queries), "duration": duration, "warnings": list(warnings)}
    scores_path.write_text(
        json.dumps({**meta, "scores": [{"t": t, "score": s, "final": f} for t, s, f in points]}, default=_jsonable)
        + "\n"
    )
    highlights_path.write_text(
        json.dumps({**meta, "highlights": records}, indent=2, default=_jsonable, ensure_ascii=False) + "\n"
    )
    timeline = None
    if png:
        timeline = out / "timeline.png"
        ordered = sorted(highlights, key=lambda h: float(h["start"]))
        render_timeline(timeline, points, ordered, source=source, queries=queries, duration=duration)
    return ReportFiles(scores_path, highlights_path, timeline)


def _objects_text(objects: Mapping[str, int], limit: int = 3) -> str:
    top = sorted(objects.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return ", ".join(f"{label} ×{count}" if count > 1 else label for label, count in top)


def _span_text(start: float, end: float, fine: bool) -> str:
    if fine:  # short videos: whole seconds would hide the span
        return f"{start:.1f}–{end:.1f} s"
    return f"{format_time(start)}–{format_time(end)}"


def _fit(line: str, max_chars: int) -> str:
    return line if len(line) <= max_chars else line[: max(1, max_chars - 1)] + "…"


def _caption(i: int, h: Mapping[str, Any], fine: bool = False, max_chars: int = 60) -> str:
    head = f"#{i}  {_span_text(float(h['start']), float(h['end']), fine)}  {float(h['score']):.2f}"
    parts = [head]  # number, span and score first: truncation only ever cuts the labels
    if h.get("query"):
        parts.append(f"“{h['query']}”")
    objects = _objects_text(h.get("objects") or {})
    if objects:
        parts.append(objects)
    return "\n".join(_fit(p, max_chars) for p in parts)


def _pack(centres: list[float], width: float, lo: float, hi: float) -> list[float]:
    """Left edges for boxes of `width` as close to their centres as possible, in order, without overlap."""
    n = len(centres)
    if n == 0:
        return []
    gap = width * 0.06
    lefts = [c - width / 2 for c in centres]
    for i in range(n):  # push right
        lefts[i] = max(lefts[i], lo if i == 0 else lefts[i - 1] + width + gap)
    lefts[-1] = min(lefts[-1], hi - width)
    for i in range(n - 2, -1, -1):  # pull back left where the right edge overflowed
        lefts[i] = min(lefts[i], lefts[i + 1] - width - gap)
    return lefts


def render_timeline(
    path: str | Path,
    scores: Sequence[tuple[float, float, bool]],
    highlights: Sequence[Mapping[str, Any]],
    *,
    source: str = "",
    queries: Sequence[str] = (),
    duration: float | None = None,
) -> Path:
    """Draw the timeline PNG (see the module docstring). Needs matplotlib (`pip install vgsum[demo]`)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from matplotlib.patches import ConnectionPatch, Patch
    except ImportError:
        raise UserError("the timeline picture needs matplotlib: pip install 'vgsum[demo]'") from None
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    points = _latest_scores(scores)
    t = np.array([p[0] for p in points], dtype=float)
    s = np.array([p[1] for p in points], dtype=float)
    final = np.array([p[2] for p in points], dtype=bool)
    ends = [float(h["end"]) for h in highlights]
    t_end = max([duration or 0.0, *(t.tolist() or [0.0]), *ends, 1.0])

    fig_w, fig_h, dpi = 12.0, 5.6, 110
    # A bare Figure on the Agg canvas: no pyplot global state, safe from any thread, no display needed.
    fig = Figure(figsize=(fig_w, fig_h), dpi=dpi)
    FigureCanvasAgg(fig)
    plot_box = (0.055, 0.11, 0.91, 0.44)  # left, bottom, width, height (figure fraction)
    strip_bottom, strip_top = 0.62, 0.80  # captions go above, up to ~0.89
    ax = fig.add_axes(plot_box)
    n = len(highlights)
    best = sorted(range(n), key=lambda k: -float(highlights[k]["score"]))[:MAX_THUMBS]
    picked = sorted(best)  # time order, numbered as in the plot
    shown = len(picked)
    ax.set_xlim(0.0, t_end)
    ax.set_ylim(0.0, 1.05)

    for i, h in enumerate(highlights, start=1):
        ax.axvspan(float(h["start"]), float(h["end"]), color=SPAN_COLOR, alpha=0.28, lw=0, zorder=1)
        if len(highlights) > 40 and (i - 1) not in picked:
            continue  # too many numbers would run together: number the ones with a thumbnail
        ax.text((float(h["start"]) + float(h["end"])) / 2, 1.02, str(i), ha="center", va="top", fontsize=9,
                fontweight="bold", color="#a4520b", zorder=4)
    for h in highlights:  # the life cycle: when the start message went out (▶) and the end (■)
        if h.get("alerted_at") is not None:
            ax.plot([float(h["alerted_at"])], [0.02], marker=">", ms=6, color="#a4520b", zorder=5, clip_on=False)
        if h.get("ended_at") is not None:
            ax.plot([float(h["ended_at"])], [0.02], marker="s", ms=5, color="#a4520b", zorder=5, clip_on=False)
    if len(t):
        ax.fill_between(t, 0, s, color=SCORE_COLOR, alpha=0.10, lw=0, zorder=2)
        ax.plot(np.where(final, t, np.nan), np.where(final, s, np.nan), color=SCORE_COLOR, lw=1.6, zorder=3)
        if (~final).any():
            # provisional tail: joined to the last final point so the curve has no hole
            idx = np.flatnonzero(~final)
            start = max(idx[0] - 1, 0)
            ax.plot(t[start:], s[start:], color=PROVISIONAL_COLOR, lw=1.4, ls="--", zorder=3)
    else:
        ax.text(0.5, 0.5, "no scores", transform=ax.transAxes, ha="center", va="center", color="0.5")

    ax.xaxis.set_major_formatter(FuncFormatter(format_time))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=12, steps=[1, 2, 3, 5, 6, 10]))
    ax.set_xlabel("media time (m:ss)")
    ax.set_ylabel("highlight score")
    ax.grid(axis="y", color="0.9", lw=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    legend = [
        Line2D([], [], color=SCORE_COLOR, lw=1.6, label="score (final)"),
        Patch(color=SPAN_COLOR, alpha=0.4, label="highlight"),
    ]
    if any(h.get("alerted_at") is not None for h in highlights):
        legend += [Line2D([], [], color="#a4520b", marker=">", ls="", label="start sent"),
                   Line2D([], [], color="#a4520b", marker="s", ls="", label="end sent")]
    if len(final) and (~final).any():
        legend.insert(1, Line2D([], [], color=PROVISIONAL_COLOR, lw=1.4, ls="--", label="provisional"))
    fig.legend(handles=legend, loc="upper right", bbox_to_anchor=(0.98, 0.975), ncol=len(legend), frameon=False,
               fontsize=9)

    # thumbnails above the plot, each as near its span as the others allow
    strip_h = strip_top - strip_bottom
    fig_aspect = fig_w / fig_h
    if n:
        aspect = 16 / 9
        thumbs = [highlights[k].get("thumbnail") for k in picked]
        real = [np.asarray(th) for th in thumbs if th is not None]
        if real:
            aspect = float(np.median([r.shape[1] / r.shape[0] for r in real]))
        width = strip_h * aspect / fig_aspect  # figure fraction
        x0, x1 = plot_box[0], plot_box[0] + plot_box[2]
        width = min(width, (x1 - x0) / shown / 1.06)
        height = width * fig_aspect / aspect
        to_fig = ax.transData + fig.transFigure.inverted()
        centres = [to_fig.transform(((float(highlights[k]["start"]) + float(highlights[k]["end"])) / 2, 0))[0]
                   for k in picked]
        lefts = _pack(centres, width, x0, x1)
        for k, left, thumb in zip(picked, lefts, thumbs, strict=True):
            i, h = k + 1, highlights[k]
            tax = fig.add_axes((left, strip_bottom, width, height))
            if thumb is not None:
                tax.imshow(np.asarray(thumb), aspect="auto", interpolation="antialiased")
            else:
                tax.set_facecolor("0.93")
                tax.text(0.5, 0.5, "no thumbnail", ha="center", va="center", fontsize=7, color="0.5",
                         transform=tax.transAxes)
            tax.set_xticks([])
            tax.set_yticks([])
            for spine in tax.spines.values():
                spine.set_edgecolor(SPAN_COLOR)
                spine.set_linewidth(1.5)
            size = 7.5 if width > 0.09 else 6.5
            max_chars = int(width * fig_w * 72 / (size * 0.55))  # ~0.55 em per character
            tax.text(0.5, 1.03, _caption(i, h, fine=t_end < 60, max_chars=max_chars), transform=tax.transAxes,
                     ha="center", va="bottom", fontsize=size, linespacing=1.15)
            centre = (float(h["start"]) + float(h["end"])) / 2
            fig.add_artist(ConnectionPatch(xyA=(0.5, 0.0), coordsA=tax.transAxes, xyB=(centre, 1.05),
                                           coordsB=ax.transData, color=SPAN_COLOR, lw=1.0, alpha=0.8))
    else:
        fig.text(0.5, (strip_bottom + strip_top) / 2, "no highlights", ha="center", va="center", color="0.45",
                 fontsize=12)

    covered = sum(max(0.0, float(h["end"]) - float(h["start"])) for h in highlights)
    name = Path(source).name if source else "stream"
    fig.text(0.055, 0.965, f"vgsum highlights — {name}", ha="left", va="top", fontsize=13, fontweight="bold")
    summary = f"{n} highlight{'s' if n != 1 else ''}, {format_time(covered)} of {format_time(t_end)}"
    summary += f" ({100 * covered / t_end:.0f}% of the video)" if t_end > 0 else ""
    if shown < n:
        summary += f"; thumbnails of the {shown} best"
    if queries:
        text = ", ".join(f"“{q}”" for q in queries)
        summary = f"query: {text if len(text) <= 90 else text[:88] + '…'}   ·   " + summary
    fig.text(0.055, 0.915, summary, ha="left", va="top", fontsize=9.5, color="0.35")

    out = Path(path)
    fig.savefig(out, dpi=dpi, facecolor="white")
    return out
