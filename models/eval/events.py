"""`vgsum eval events`: do highlights land where something happens on real footage, and nowhere else?

Every shared clip with a hand-made annotation (`../shared/data/events/`) and every
built long stream (`vgsum.models.data.event_streams`) goes through the live path: the
stream package's own reader samples it at 2 fps, and each live row runs the same
`Pipeline` (perception, refiner, scene activity, summarizer, highlight rule) that
`vgsum run` and `vgsum serve` run, with the live defaults unless the row changes one.
All rows see the same decoded frames in lockstep, and the perception engine runs once
per frame for all of them (its outputs do not depend on the row). Side by side:

- uniform: a 5-s highlight every minute, blind to the content;
- motion: frame differencing at 2 fps (what an NVR's motion gate computes);
- detector: the change in the set and count of detected classes;
- knapsack: the shipped weights with the TVSum-style rule (`selection: knapsack`);
- vgsum: the live defaults (`selection: events`);
- activity only / graph only: the default rule on each half of the default score;
- any `--refiner NAME=DIR` (another refiner, e.g. an ablation) with the live defaults;
- on request (`--rows`): vgsum-masked and vgsum-zoned (a built stream's own camera settings),
  vgsum-ungated (the live defaults with the camera's perception gate off, runtime/live/gate.py).

Every live row runs with the perception gate as a camera has it by default (on; the knapsack
row perceives every frame anyway, its rule reads every frame's look). `--no-gate` turns it
off for every live row (what the gate changes). The detector baseline reads the detections
of a row that perceives every frame (knapsack, or an ungated row), or perceives every frame
itself when every live row is gated.

The baselines' highlights come from the same highlight rule as vgsum's, run on their
own scores, so the rows differ only in the score. Alert latency is in stream time
(event start -> the media time of the frame that caused the first message); the
pipeline's own processing time adds to it live (BENCHMARKS.md reports it apart).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from vgsum.models.data.events import ClipTruth, default_clip_dirs, find_clip, load_ground_truth
from vgsum.models.eval import camera_day
from vgsum.models.eval.baselines import DetectorChange, MotionEnergy, uniform_highlights
from vgsum.models.eval.event_metrics import ClipResult, Highlight, Spans, evaluate_clip, pool
from vgsum.runtime.common.errors import UserError
from vgsum.stream.sampler import DEFAULT_SAMPLE_FPS

SAMPLE_FPS = DEFAULT_SAMPLE_FPS
BATCH = 8

# name -> SummaryConfig changes (None: a baseline computed beside the pipeline)
LIVE_ROWS: dict[str, dict[str, Any]] = {
    "knapsack": {"selection": "knapsack"},
    "vgsum": {},
    "activity only": {"activity_weight": 1.0},
    "graph only": {"activity_weight": 0.0},
}
BASELINE_ROWS = ("uniform", "motion", "detector")
ALL_ROWS = (*BASELINE_ROWS, *LIVE_ROWS)
CAMERA_DAY_ROWS = camera_day.ROWS  # `--camera-day`: hours of video, the live defaults alone
# Rows that apply the camera settings a built stream's truth carries (`camera`: a motion mask, a zone): the live
# defaults with the mask, or with the zone required. On request only (`--rows`): elsewhere they equal `vgsum`.
REGION_ROWS: dict[str, str] = {"vgsum-masked": "mask", "vgsum-zoned": "zone"}
# The live defaults with the perception gate off. On request only (`--rows`): the gate's own effect, side by side.
UNGATED_ROWS = ("vgsum-ungated",)


@dataclass(frozen=True)
class Clip:
    """One evaluated video: its file, its annotation and the group it is reported in."""

    name: str
    path: Path
    truth: ClipTruth
    group: str  # sparse | nuisance | busy | edited | built


@dataclass
class RowOutput:
    """What one row produced on one clip."""

    times: list[float] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    phases: list[dict] = field(default_factory=list)  # every highlight message: id, phase, start, end, emitted_at

    def highlights(self) -> list[Highlight]:
        """Finished highlights, each alerting at its first message."""
        first: dict[str, float] = {}
        done = []
        for p in self.phases:
            first.setdefault(p["id"], p["emitted_at"])
            if p["phase"] == "end":
                done.append(Highlight(p["start"], p["end"], first[p["id"]]))
        return done


def shared_clips(names: list[str] | None = None, truth_file: Path | None = None) -> list[Clip]:
    """The annotated clips (the shared 20 by default, or those of `truth_file`, found beside it or in the
    shared folders), grouped by their kind."""
    dirs = default_clip_dirs() if truth_file is None else [Path(truth_file).parent, *default_clip_dirs()]
    truths = load_ground_truth(truth_file, dirs)
    chosen = list(truths) if names is None else names
    unknown = [n for n in chosen if n not in truths]
    if unknown:
        raise UserError(f"no annotated clip {unknown[0]!r}; known: {', '.join(truths)}")
    return [Clip(n, find_clip(n, dirs), truths[n], truths[n].kind) for n in chosen]


def built_clips(recipes: list[str] | None = None, cache_dir: Path | None = None) -> list[Clip]:
    """The built long streams (all recipes by default), built into the cache when missing; a composite's name
    (models/data/composite_streams.py) builds that composite."""
    from vgsum.models.data.composite_streams import COMPOSITES, build_composite
    from vgsum.models.data.event_streams import build_streams

    composites = [r for r in recipes or () if r in COMPOSITES]
    plain = None if recipes is None else [r for r in recipes if r not in COMPOSITES]
    built_list = [*(build_streams(plain, cache_dir) if plain != [] else []),
                  *(build_composite(name, cache_dir) for name in composites)]
    out = []
    for built in built_list:
        truth = load_ground_truth(built.truth_path, [built.path.parent])[built.path.name]
        out.append(Clip(built.name, built.path, truth, "built"))
    return out


class SharedPerception:
    """The perception engine, run once per frame for every row that asks for it: rows ask for the same batch of
    frames, or (a gated row) for some of them."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._seen: dict[int, tuple[np.ndarray, Any]] = {}  # id(frame) -> (frame, its perception): kept alive

    def __call__(self, frames: list[np.ndarray]) -> Any:
        missing = [f for f in frames if (hit := self._seen.get(id(f))) is None or hit[0] is not f]
        if missing:
            fresh = {id(f): (f, out) for f, out in zip(missing, self.engine(missing), strict=True)}
            if len(missing) == len(frames):  # a new batch: forget the last one's frames
                self._seen = fresh
            else:
                self._seen.update(fresh)
        return [self._seen[id(f)][1] for f in frames]


def _live_rows(
    rows: list[str],
    refiners: dict[str, Path],
    engine_folder: Path | None,
    table: Mapping[str, dict[str, Any]] = LIVE_ROWS,
    refiner_changes: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """name -> (Engines, SummaryConfig) for every live row asked for; `table` maps a row to its SummaryConfig changes
    (the query benchmark passes its own), `refiner_changes` a refiner row to its own (default: the live defaults)."""
    from vgsum.runtime.daemon.config import EngineConfig
    from vgsum.runtime.engines.loader import Engines
    from vgsum.runtime.engines.refiner import RefinerEngines
    from vgsum.runtime.summary.config import SummaryConfig

    cfg = EngineConfig() if engine_folder is None else EngineConfig(dir=engine_folder)
    base = Engines.load(cfg)
    shared = replace(base, perception=SharedPerception(base.perception))
    out: dict[str, Any] = {}
    for name in rows:
        if name in table:
            out[name] = (shared, SummaryConfig(**table[name]))
        elif name in REGION_ROWS or name in UNGATED_ROWS:
            out[name] = (shared, SummaryConfig())
    for name, folder in refiners.items():
        refiner = RefinerEngines.load(Path(folder), kind=cfg.backend, device=cfg.device, threads=cfg.threads)
        out[name] = (replace(shared, refiner=refiner), SummaryConfig(**(refiner_changes or {}).get(name, {})))
    return out


def _camera(clip: Clip, row: str, gate: bool = True) -> Any:
    """The camera settings a row applies to this clip (None: the live defaults); `gate` False: with the perception
    gate off, whatever the row."""
    from vgsum.runtime.live.config import CameraConfig

    if not gate or row in UNGATED_ROWS:
        camera = _region_camera(clip, row) or CameraConfig(stream_id="eval", url=str(clip.path))
        return camera.model_copy(update={"gate": camera.gate.model_copy(update={"enabled": False})})
    return _region_camera(clip, row)


def _perceives_every_frame(row: str, summary: Any, camera: Any) -> bool:
    """Whether a live row runs perception on every frame: its gate is off, or its rule reads every frame."""
    gate_on = camera.gate.enabled if camera is not None else True
    return not gate_on or summary.selection != "events"


def _region_camera(clip: Clip, row: str) -> Any:
    """The camera settings a region row applies to this clip (None: the clip carries none, or a plain row)."""
    from vgsum.runtime.live.config import CameraConfig

    settings = clip.truth.camera
    if row not in REGION_ROWS or not settings:
        return None
    if REGION_ROWS[row] == "mask":
        return CameraConfig(stream_id="eval", url=str(clip.path), motion_masks=settings.get("motion_masks", []))
    zones = settings.get("zones", [])
    return CameraConfig(stream_id="eval", url=str(clip.path), zones=zones, require_zones=[z["name"] for z in zones])


def _phase_record(p: Any) -> dict:
    """A highlight message (a pipeline `HighlightEvent` or a rule's `HighlightPhase`) as saved JSON."""
    return {"id": p.id, "phase": p.phase, "start": p.start, "end": p.end, "score": p.score, "objects": p.objects,
            "query": p.query, "emitted_at": p.emitted_at}


def evaluate_clip_rows(
    clip: Clip,
    rows: list[str],
    live: dict[str, Any],
    progress: Callable[[int], None] | None = None,
    queries: Mapping[str, Sequence[str]] | None = None,
    gate: bool = True,
) -> dict[str, RowOutput]:
    """Run every row over one clip, in lockstep on the same sampled frames.

    `queries`: a live row's stream queries (`vgsum run --query`), by row name; none by default. `gate` False: every
    live row with the perception gate off (on by default, as on a camera).
    """
    from vgsum.models.eval.baselines import sampled_frames
    from vgsum.runtime.daemon.pipeline import Pipeline
    from vgsum.runtime.live.config import ObjectFilter
    from vgsum.runtime.live.objects import kept_objects
    from vgsum.runtime.live.sinks import StreamSinks
    from vgsum.runtime.summary.events import EventTracker, FrameActivity
    from vgsum.stream.ingest import SampledFrame

    outputs = {name: RowOutput() for name in rows}
    pipelines = {}
    labels_seen: list[tuple[float, list[str]]] = []
    cameras = {name: _camera(clip, name, gate) for name in live}
    # the detector baseline reads what a row that perceives every frame saw (a gated row repeats its last one)
    recorder = next((n for n, (_, summary) in live.items() if _perceives_every_frame(n, summary, cameras[n])), None)
    for name, (engines, summary) in live.items():
        out = outputs[name]

        def on_score(_sid, event, out=out):
            if event.final:
                out.times.append(event.t)
                out.scores.append(event.score)

        def on_highlight(_sid, event, out=out):
            out.phases.append(_phase_record(event))

        def on_frame(_sid, t, labels, record=name == recorder):
            if record:
                labels_seen.append((t, list(labels)))

        pipeline = Pipeline(engines, summary, StreamSinks(on_score, on_highlight, on_frame=on_frame), max_batch=BATCH)
        pipeline.thumbnails = False
        pipeline.add_stream(clip.name, SAMPLE_FPS, (queries or {}).get(name, ()), camera=cameras[name])
        pipelines[name] = pipeline

    from vgsum.runtime.summary.config import SummaryConfig

    rule = SummaryConfig().events
    motion, detector = MotionEnergy(), DetectorChange()
    trackers = {name: EventTracker(rule, 1.0 / SAMPLE_FPS) for name in ("motion", "detector") if name in rows}
    batch: list[SampledFrame] = []

    def flush() -> None:
        for pipeline in pipelines.values():
            pipeline.process(batch)
        if "detector" in rows and recorder is None and batch:  # every live row is gated: perceive for it
            found = live[next(iter(live))][0].perception([f.rgb for f in batch])  # shared: a gated row's frames once
            labels_seen.extend((f.media_time, kept_objects(p, ObjectFilter()).labels)
                               for f, p in zip(batch, found, strict=True))
        for frame in batch:
            t = frame.media_time
            scores = {}
            if "motion" in rows:
                scores["motion"] = motion(frame.rgb)
            if "detector" in rows:
                seen = next((labels for when, labels in reversed(labels_seen) if when == t), [])
                scores["detector"] = detector(seen)
            for name, score in scores.items():
                outputs[name].times.append(t)
                outputs[name].scores.append(score)
                outputs[name].phases += [_phase_record(p) for p in trackers[name].push(FrameActivity(t, score))]
        if progress is not None:
            progress(len(batch))
        batch.clear()

    if "detector" in rows and not live:
        raise UserError("the detector row reads the live path's detections: ask for a live row too (e.g. vgsum)")
    for i, (t, rgb) in enumerate(sampled_frames(clip.path, SAMPLE_FPS)):
        batch.append(SampledFrame(clip.name, i, 0, t, t, 0.0, rgb))
        if len(batch) == BATCH:
            flush()
    flush()
    for pipeline in pipelines.values():
        pipeline.finish(clip.name)
    for name, tracker in trackers.items():
        outputs[name].phases += [_phase_record(p) for p in tracker.close()]
    if "uniform" in rows:
        times = outputs[next(iter(live))].times if live else []
        outputs["uniform"].times = list(times)
        outputs["uniform"].scores = [0.5] * len(times)
        for n, h in enumerate(uniform_highlights(clip.truth.duration_s)):
            for phase, at in (("start", h.alert_t), ("end", h.alert_t)):
                outputs["uniform"].phases.append({"id": f"u{n}", "phase": phase, "start": h.start, "end": h.end,
                                                  "score": 0.5, "objects": {}, "emitted_at": at})
    return outputs


def run_events(
    clips: list[Clip],
    rows: list[str],
    refiners: dict[str, Path] | None = None,
    engine_folder: Path | None = None,
    save: Path | None = None,
    show_progress: bool = True,
    gate: bool = True,
) -> dict[str, dict[str, ClipResult]]:
    """row -> clip -> metrics, every row on every clip in one run; per-clip JSON under `save` when given; `gate`
    False: every live row with the perception gate off."""
    from tqdm import tqdm

    refiners = dict(refiners or {})
    live = _live_rows(rows, refiners, engine_folder)
    names = [*rows, *refiners]
    results: dict[str, dict[str, ClipResult]] = defaultdict(dict)
    total = sum(int(c.truth.duration_s * SAMPLE_FPS) for c in clips)
    with tqdm(total=total, unit="frame", disable=not show_progress, desc="eval events") as bar:
        for clip in clips:
            bar.set_postfix_str(clip.name)
            outputs = evaluate_clip_rows(clip, names, live, bar.update, gate=gate)
            spans = Spans.of(clip.truth)
            for name, out in outputs.items():
                result = evaluate_clip(spans, np.asarray(out.times), np.asarray(out.scores), out.highlights())
                results[name][clip.name] = result
                if save is not None:
                    folder = save / name.replace(" ", "-")
                    folder.mkdir(parents=True, exist_ok=True)
                    record = {"clip": clip.name, "group": clip.group, "path": str(clip.path), "row": name,
                              "metrics": result.to_json(), "highlights": out.phases,
                              "scores": [[t, s] for t, s in zip(out.times, out.scores, strict=True)]}
                    (folder / f"{clip.name}.json").write_text(json.dumps(record))
    return dict(results)


GROUPS: dict[str, tuple[str, ...]] = {
    "sparse+nuisance clips": ("sparse", "nuisance"),
    "built streams": ("built",),
    "targets (both)": ("sparse", "nuisance", "built"),
    "busy": ("busy",),
    "edited": ("edited",),
}


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_events(results: dict[str, dict[str, ClipResult]], clips: list[Clip]) -> str:
    """One block per group of clips, one line per row; then the per-clip AUC beside motion's."""
    group_of = {c.name: c.group for c in clips}
    lines = []
    header = (f"{'row':<16} {'recall':>6} {'prec':>6} {'FP/qh':>7} {'AUC':>5} {'(min)':>6} {'lat50':>6} "
              f"{'lat95':>6} {'hl':>5} {'share':>6}")
    for group, kinds in GROUPS.items():
        members = [c.name for c in clips if group_of[c.name] in kinds]
        if not members:
            continue
        lines += ["", f"{group}: {len(members)} clips", header]
        for row, per_clip in results.items():
            p = pool(per_clip[n] for n in members)
            lines.append(
                f"{row:<16} {_fmt(p['recall']):>6} {_fmt(p['precision']):>6} {_fmt(p['false_per_quiet_hour'], 1):>7} "
                f"{_fmt(p['auc_mean']):>5} {_fmt(p['auc_min']):>6} {_fmt(p['latency_p50_s'], 1):>6} "
                f"{_fmt(p['latency_p95_s'], 1):>6} {p['highlights']:>5} {_fmt(p['highlight_share']):>6}"
            )
    rows = list(results)
    lines += ["", "per clip: AUC (recall, precision)", f"{'clip':<34} {'group':<9}" + "".join(f"{r:>18}" for r in rows)]
    for clip in clips:
        cells = []
        for r in rows:
            c = results[r][clip.name]
            cells.append(f"{_fmt(c.auc)} ({_fmt(c.recall, 1)},{_fmt(c.precision, 1)})")
        lines.append(f"{clip.name:<34} {clip.group:<9}" + "".join(f"{cell:>18}" for cell in cells))
    return "\n".join(lines)


def main(args: Any) -> int:
    """`vgsum eval events` (arguments parsed by `vgsum.models.eval.cli`)."""
    rows = [r for r in args.rows.split(",") if r] if args.rows else list(ALL_ROWS)
    known = [*ALL_ROWS, *REGION_ROWS, *UNGATED_ROWS]
    unknown = [r for r in rows if r not in known]
    if unknown:
        raise UserError(f"unknown row {unknown[0]!r}; one of: {', '.join(known)}")
    refiners = {}
    for item in args.refiner:
        name, sep, folder = item.partition("=")
        if not sep or not name or not Path(folder).is_dir():
            raise UserError(f"--refiner wants NAME=DIR with an existing engine folder, got {item!r}")
        refiners[name] = Path(folder)
    clips = [] if args.clips == "none" else shared_clips(args.clips.split(",") if args.clips else None, args.truth)
    if args.camera_day:
        clips = [] if args.clips is None else clips  # the long streams alone unless clips are named
        streams = args.streams.split(",") if args.streams and args.streams != "none" else list(camera_day.STREAMS)
        clips += built_clips(streams)
    elif args.streams != "none":
        clips += built_clips(args.streams.split(",") if args.streams else None)
    started = time.perf_counter()
    results = run_events(clips, rows, refiners, args.engines, args.save, not args.no_progress, not args.no_gate)
    print(format_events(results, clips))
    if args.camera_day:
        print(camera_day.format_camera_day(results))
    print(f"\n{len(clips)} clips, {sum(c.truth.duration_s for c in clips) / 60:.1f} min of video, "
          f"{time.perf_counter() - started:.0f} s")
    return 0
