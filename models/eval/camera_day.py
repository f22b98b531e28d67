"""False highlights per camera-day: what a camera owner counts, on hours of camera-made nuisance.

`vgsum eval events --camera-day` runs the live defaults over the long quiet streams of
`models/data/camera_streams.py`: four hours of one room's own quiet frames with its six
visits inside, once clean (the control) and once per camera nuisance (a burned-in clock,
exposure drift and hunting, sensor noise, mast shake, the switch to infrared), and once
with all of them. Every variant has the same seed, so the same frames: a difference from
the clean stream is the nuisance's own. A false highlight is one that touches no event;
per camera-day is that count over the hours measured, times 24 (the streams are sparse,
so their hours are nearly all quiet).
"""

from __future__ import annotations

from collections.abc import Mapping

from vgsum.models.eval.event_metrics import ClipResult, pool

# the long streams, the control first; 6 x 4 h of nuisance besides the control
STREAMS = (
    "cam-sub-quiet4h-clean",
    "cam-sub-quiet4h-clock",
    "cam-sub-quiet4h-exposure",
    "cam-sub-quiet4h-noise",
    "cam-sub-quiet4h-shake",
    "cam-sub-quiet4h-ir",
    "cam-sub-quiet4h-all",
)
ROWS = ("vgsum",)
CONTROL = STREAMS[0]


def per_day(false_highlights: int, hours: float) -> float | None:
    """False highlights per 24 h of camera time (None for no time measured)."""
    return None if hours <= 0 else false_highlights * 24.0 / hours


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_camera_day(results: Mapping[str, Mapping[str, ClipResult]]) -> str:
    """One line per stream and row, then the nuisance streams pooled (the control apart)."""
    header = (f"{'stream':<28} {'row':<10} {'hours':>6} {'events':>6} {'recall':>6} {'hl':>4} {'false':>5} "
              f"{'false/day':>9} {'lat95':>6}")
    lines = ["", "camera-day: false highlights on hours of camera nuisance", header]
    for row, per_clip in results.items():
        measured = [name for name in per_clip if name in STREAMS]
        for name in measured:
            r = per_clip[name]
            p, hours = pool([r]), r.duration_s / 3600
            lines.append(
                f"{name:<28} {row:<10} {hours:>6.2f} {r.events:>6} {_fmt(r.recall):>6} "
                f"{r.highlights:>4} {r.false_highlights:>5} {_fmt(per_day(r.false_highlights, hours)):>9} "
                f"{_fmt(p['latency_p95_s'], 1):>6}"
            )
        nuisance = [per_clip[n] for n in measured if n != CONTROL]
        if nuisance:
            p = pool(nuisance)
            hours = sum(r.duration_s for r in nuisance) / 3600
            lines.append(
                f"{'all nuisance streams':<28} {row:<10} {hours:>6.2f} {p['events']:>6} {_fmt(p['recall']):>6} "
                f"{p['highlights']:>4} {p['false_highlights']:>5} {_fmt(per_day(p['false_highlights'], hours)):>9} "
                f"{_fmt(p['latency_p95_s'], 1):>6}"
            )
    return "\n".join(lines)
