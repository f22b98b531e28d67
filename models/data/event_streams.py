"""Long camera-like streams built from the shared clips, with exact event ground truth.

A real camera shows minutes of nothing between events; the shared clips are short and
busy by comparison. These streams stretch each clip's quiet with that same scene's own
quiet frames, played forward and backward over a short stretch at least 1 s from any
event (so the sensor noise is real and the picture never jumps), and copy every event
whole with its margins. Each output frame shows one source frame at a known source
time, so the hand-made truth maps exactly onto the output timeline (pts = index / fps),
and each stream gets a truth file in the shared format: the evaluator treats built
streams exactly like clips.

Streams are built at run time into a cache outside the repository and the shared
folder (`$VGSUM_EVENT_STREAMS`, else `~/.cache/vgsum/event-streams`), deterministically
from each recipe's seed; a stream whose recipe, sources and truth are unchanged is not
rebuilt.

Camera-like streams (`camera_streams.CAMERA_RECIPES`) add what cameras send: an encoding
profile (a substream 640x360 or a main stream 1280x720, 15 fps, H.264 with a keyframe
every 2 s) and the nuisances a camera makes (`camera_nuisance`: clock, exposure, noise,
shake, night mode), each alone and all together; some run for hours. They are built only
when named.

`python -m vgsum.models.data.event_streams [NAME ...] [--cache-dir DIR] [--quiet-s S] [--list]`
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from tqdm import tqdm

from vgsum.models.data.camera_nuisance import (
    EFFECTS_VERSION,
    NuisanceConfig,
    NuisanceParams,
    apply_nuisances,
    draw_params,
)
from vgsum.models.data.clip_frames import TIME_EPS, ClipFrames
from vgsum.models.data.events import ClipTruth, Kind, dump_ground_truth, find_clip, load_ground_truth
from vgsum.runtime.common.digest import sha256_of
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.paths import REPO_ROOT, shared_dir

# Changes whenever the bytes a recipe produces would change, so old cache entries rebuild.
BUILDER_VERSION = 1
# Looped quiet material stays this far from every event: exits leave shadows, entries cast them first.
EVENT_MARGIN_S = 1.0
# Shorter quiet stretches are left as they are: looping a few frames would look frozen.
MIN_LOOP_S = 0.8
MAX_LOOP_S = 3.0
X264_OPTIONS = {"preset": "veryfast", "crf": "23", "g": "50", "threads": "2"}  # fixed threads: same bytes


@dataclass(frozen=True)
class EncodingProfile:
    """What a camera sends on one of its streams: size, rate and a fixed keyframe interval."""

    width: int
    height: int
    fps: int
    gop_s: float = 2.0

    @property
    def gop(self) -> int:
        """Frames from one keyframe to the next."""
        return round(self.gop_s * self.fps)


# Cameras send a small substream (for analytics and phones) beside the main stream; both keep
# a fixed GOP, without B-frames, so a player or a recorder can start at any keyframe.
PROFILES: dict[str, EncodingProfile] = {
    "substream": EncodingProfile(640, 360, 15),
    "main": EncodingProfile(1280, 720, 15),
}
# Fields added with the camera-like streams; a recipe that leaves them all unset hashes (and
# encodes) as it did before they existed, so its cached build stays valid.
CAMERA_FIELDS = ("profile", "nuisances", "preset", "crf")


class SceneRecipe(BaseModel):
    """One source clip's stretch in a stream; `start_s`/`end_s` must not cut through an event."""

    model_config = ConfigDict(extra="forbid")

    clip: str
    start_s: float = Field(default=0.0, ge=0)
    end_s: float | None = None
    extra_quiet_s: float = Field(default=0.0, ge=0)


class StreamRecipe(BaseModel):
    """How to build one stream; the seed picks which quiet frames loop, for how long, and the scene order.

    `style`: `extend` plays each scene forward with loops in its quiet stretches; `bounce`
    does the same, then plays back from the scene's end into its last quiet stretch and
    loops there for `extra_after_s` (the event then leaves the way it came, and quiet
    follows it); `hold` only loops one quiet stretch of one scene for `extra_quiet_s`.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    seed: int
    style: Literal["extend", "bounce", "hold"]
    kind: Kind
    scenes: list[SceneRecipe] = Field(min_length=1)
    width: int = Field(gt=0, multiple_of=2)
    height: int = Field(gt=0, multiple_of=2)
    fps: int = Field(default=10, gt=0)
    shuffle_scenes: bool = False
    extra_after_s: float = Field(default=0.0, ge=0)
    description: str
    profile: Literal["substream", "main"] | None = None  # sets width, height and fps, and the GOP
    nuisances: NuisanceConfig | None = None
    preset: str | None = None  # x264 preset (default veryfast): hours-long streams use a faster one
    crf: int | None = Field(default=None, ge=0, le=51)

    @model_validator(mode="before")
    @classmethod
    def _profile_size(cls, data: object) -> object:
        """A profile gives the size and rate unless the recipe spells them out (then they must agree)."""
        if isinstance(data, dict) and data.get("profile") in PROFILES:
            profile = PROFILES[data["profile"]]
            data = {"width": profile.width, "height": profile.height, "fps": profile.fps, **data}
        return data

    @model_validator(mode="after")
    def _profile_agrees(self) -> StreamRecipe:
        if self.profile is not None:
            profile = PROFILES[self.profile]
            if (self.width, self.height, self.fps) != (profile.width, profile.height, profile.fps):
                raise ValueError(
                    f"{self.name}: profile {self.profile} is {profile.width}x{profile.height} at {profile.fps} fps"
                )
        return self

    def encoder_options(self) -> dict[str, str]:
        """libx264 options; with a profile, the camera's fixed GOP (no scene-cut keyframes, no B-frames)."""
        options = dict(X264_OPTIONS)
        if self.profile is not None:
            gop = PROFILES[self.profile].gop
            del options["g"]
            options["x264-params"] = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0"
        if self.preset is not None:
            options["preset"] = self.preset
        if self.crf is not None:
            options["crf"] = str(self.crf)
        return options

    def hash_fields(self) -> dict[str, object]:
        """The recipe as the cache hash sees it: unset camera fields left out (older builds stay valid)."""
        return self.model_dump(mode="json", exclude={f for f in CAMERA_FIELDS if getattr(self, f) is None})


def with_quiet(recipe: StreamRecipe, quiet_s: float) -> StreamRecipe:
    """The recipe with its added quiet scaled to `quiet_s` seconds in all, under its own name.

    Hours-long recipes build in seconds this way (tests, a quick look), with everything else
    (seed, scenes, nuisances, profile) as in the full recipe.
    """
    total = sum(s.extra_quiet_s for s in recipe.scenes) + recipe.extra_after_s
    factor = quiet_s / total if total > 0 else 0.0
    scenes = [s.model_copy(update={"extra_quiet_s": s.extra_quiet_s * factor}) for s in recipe.scenes]
    return recipe.model_copy(
        update={
            "name": f"{recipe.name}-q{quiet_s:g}s",
            "scenes": scenes,
            "extra_after_s": recipe.extra_after_s * factor,
        }
    )


RECIPES: dict[str, StreamRecipe] = {
    r.name: r
    for r in [
        StreamRecipe(
            name="short",
            seed=7,
            style="extend",
            kind="sparse",
            scenes=[SceneRecipe(clip="parking-lot-cars.mp4", end_s=13.4, extra_quiet_s=20.0)],
            width=768,
            height=432,
            description="One car passing an empty parking-lot lane, with 20 s of added quiet (for tests).",
        ),
        StreamRecipe(
            name="sparse-long-room",
            seed=11,
            style="extend",
            kind="sparse",
            scenes=[SceneRecipe(clip="room-people-one-by-one.mp4", extra_quiet_s=700.0)],
            width=768,
            height=432,
            description="An empty room for minutes at a time; six people come in one by one.",
        ),
        StreamRecipe(
            name="sparse-long-parking",
            seed=12,
            style="extend",
            kind="sparse",
            scenes=[SceneRecipe(clip="parking-lot-cars.mp4", extra_quiet_s=330.0)],
            width=768,
            height=432,
            description="A parking-lot lane, empty for minutes; four cars pass (two at once).",
        ),
        StreamRecipe(
            name="nuisance-long",
            seed=13,
            style="bounce",
            kind="nuisance",
            scenes=[SceneRecipe(clip="opencv-tree-window.avi", extra_quiet_s=180.0)],
            extra_after_s=90.0,
            width=320,
            height=240,
            description=(
                "Leaves swaying behind a window for minutes; a hand comes in, waves and, played back, leaves the "
                "way it came; then leaves again."
            ),
        ),
        StreamRecipe(
            name="multi-scene",
            seed=14,
            style="extend",
            kind="sparse",
            shuffle_scenes=True,
            scenes=[
                SceneRecipe(clip="room-people-one-by-one.mp4", start_s=45.5, end_s=91.5, extra_quiet_s=60.0),
                SceneRecipe(clip="parking-lot-cars.mp4", extra_quiet_s=60.0),
                SceneRecipe(clip="bgslibrary-road-topdown.avi", extra_quiet_s=45.0),
                SceneRecipe(clip="tracktor-spiders.mp4", extra_quiet_s=60.0),
            ],
            width=640,
            height=360,
            description="Four sparse scenes one after another; the scene changes (cuts) are not events.",
        ),
        StreamRecipe(
            name="still-flicker",
            seed=15,
            style="hold",
            kind="sparse",
            scenes=[SceneRecipe(clip="room-people-one-by-one.mp4", extra_quiet_s=180.0)],
            width=768,
            height=432,
            description="An empty room held for three minutes: nothing happens, whatever a detector flickers on.",
        ),
    ]
}


@dataclass(frozen=True)
class BuiltStream:
    """A built stream: its video, its truth file (shared format, keyed by the video's file name), its recipe name."""

    path: Path
    truth_path: Path
    name: str


@dataclass(frozen=True)
class Piece:
    """`n_frames` output frames showing `clip` from source time `src_from`, moving by `direction` / fps per frame."""

    scene: int
    clip: str
    src_from: float
    direction: int
    n_frames: int
    out_start: int

    def source_span(self, fps: int) -> tuple[float, float]:
        """The source times this piece shows, low to high."""
        src_to = self.src_from + self.direction * self.n_frames / fps
        return min(self.src_from, src_to), max(self.src_from, src_to)

    def to_output(self, t: float, fps: int) -> float:
        """Output time of source time `t` (inside this piece's span)."""
        return self.out_start / fps + (t - self.src_from) * self.direction


@dataclass
class Plan:
    """The output timeline as pieces of source clips; positions move on the output frame grid."""

    fps: int
    pieces: list[Piece] = field(default_factory=list)
    cuts: list[float] = field(default_factory=list)
    n_frames: int = 0
    scene: int = -1
    clip: str = ""
    pos: float = 0.0

    def start_scene(self, clip: str, at: float) -> None:
        """Jump to `clip` at source time `at`; a cut unless it is the first scene."""
        if self.scene >= 0:
            self.cuts.append(self.n_frames / self.fps)
        self.scene += 1
        self.clip, self.pos = clip, at

    def move(self, to: float) -> None:
        """Play from the current source time to about `to` (rounded to whole output frames), either way."""
        n = round(abs(to - self.pos) * self.fps)
        if n == 0:
            return
        direction = 1 if to > self.pos else -1
        self.pieces.append(Piece(self.scene, self.clip, self.pos, direction, n, self.n_frames))
        self.n_frames += n
        self.pos += direction * n / self.fps

    def loop(self, leg_frames: int, legs: int, first_direction: int) -> None:
        """Play `legs` legs of `leg_frames` frames, turning back after each (ping-pong, so nothing jumps)."""
        direction = first_direction
        for _ in range(legs):
            self.move(self.pos + direction * leg_frames / self.fps)
            direction = -direction

    def frame_sources(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """The clips used; per output frame, the index of its clip in that list and the source time it shows."""
        clips = sorted({p.clip for p in self.pieces})
        clip_of = np.empty(self.n_frames, dtype=np.int32)
        times = np.empty(self.n_frames, dtype=np.float64)
        for p in self.pieces:
            span = slice(p.out_start, p.out_start + p.n_frames)
            clip_of[span] = clips.index(p.clip)
            times[span] = p.src_from + p.direction * np.arange(p.n_frames) / self.fps
        return clips, clip_of, times


def _subtract(span: tuple[float, float], holes: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Parts of `span` outside every hole."""
    parts = [span]
    for h_start, h_end in holes:
        nxt = []
        for start, end in parts:
            if h_end <= start or h_start >= end:
                nxt.append((start, end))
                continue
            if h_start > start:
                nxt.append((start, h_start))
            if h_end < end:
                nxt.append((h_end, end))
        parts = nxt
    return parts


def loopable_quiet(truth: ClipTruth, start: float, end: float) -> list[tuple[float, float]]:
    """Quiet stretches inside [start, end], at least EVENT_MARGIN_S from every event, long enough to loop."""
    holes = [(e_start - EVENT_MARGIN_S, e_end + EVENT_MARGIN_S) for e_start, e_end, _ in truth.events]
    cores: list[tuple[float, float]] = []
    for q_start, q_end in truth.quiet:
        span = (max(q_start, start), min(q_end, end))
        if span[1] > span[0]:
            cores += [c for c in _subtract(span, holes) if c[1] - c[0] >= MIN_LOOP_S - TIME_EPS]
    return sorted(cores)


def _window(scene: SceneRecipe, truth: ClipTruth) -> tuple[float, float]:
    """The scene's source window; a window edge inside an event would cut it, which recipes must not do."""
    end = truth.duration_s if scene.end_s is None else min(scene.end_s, truth.duration_s)
    for edge in (scene.start_s, end):
        for e_start, e_end, what in truth.events:
            if e_start < edge < e_end:
                raise ValueError(f"{scene.clip}: window edge {edge} s cuts the event {e_start}-{e_end} s ({what})")
    if end <= scene.start_s:
        raise ValueError(f"{scene.clip}: empty window {scene.start_s}-{end} s")
    return scene.start_s, end


def _pick_loop(rng: np.random.Generator, core: tuple[float, float], fps: int, low: float) -> tuple[float, int]:
    """A stretch of the core to loop: its end (source time) and its length in output frames.

    The end sits at least one frame inside the core so that rounding to whole frames keeps the loop in it.
    """
    slack = 1.0 / fps
    first, last = max(core[0], low) + slack, core[1] - slack
    usable = last - first
    length = rng.uniform(min(MIN_LOOP_S, usable), min(MAX_LOOP_S, usable))
    leg_frames = max(2, int(length * fps))
    earliest_end = min(first + leg_frames / fps, last)
    return rng.uniform(earliest_end, last), leg_frames


def _extend_scene(plan: Plan, rng: np.random.Generator, scene: SceneRecipe, truth: ClipTruth) -> None:
    """Play the scene's window forward, looping in its quiet stretches for `extra_quiet_s` in all."""
    start, end = _window(scene, truth)
    plan.start_scene(scene.clip, start)
    cores = loopable_quiet(truth, start, end)
    if scene.extra_quiet_s > 0 and not cores:
        raise ValueError(f"{scene.clip}: no quiet stretch of {MIN_LOOP_S} s or more to extend in {start}-{end} s")
    shares = rng.dirichlet(np.full(len(cores), 2.0)) * scene.extra_quiet_s if cores else []
    for core, extra in zip(cores, shares, strict=True):
        loop_end, leg_frames = _pick_loop(rng, core, plan.fps, plan.pos)
        plan.move(loop_end)
        pairs = round(extra * plan.fps / (2 * leg_frames))
        plan.loop(leg_frames, 2 * pairs, first_direction=-1)
    plan.move(end)


def make_plan(recipe: StreamRecipe, truths: dict[str, ClipTruth]) -> Plan:
    """The recipe's output timeline; the same recipe (seed included) always gives the same plan."""
    rng = np.random.default_rng(recipe.seed)
    plan = Plan(recipe.fps)
    scenes = list(recipe.scenes)
    if recipe.shuffle_scenes:
        scenes = [scenes[i] for i in rng.permutation(len(scenes))]
    if recipe.style == "hold":
        options = [
            (scene.clip, core)
            for scene in scenes
            for core in loopable_quiet(truths[scene.clip], *_window(scene, truths[scene.clip]))
        ]
        if not options:
            raise ValueError(f"{recipe.name}: no quiet stretch to hold")
        clip, core = options[rng.integers(len(options))]
        loop_end, leg_frames = _pick_loop(rng, core, plan.fps, core[0])
        plan.start_scene(clip, loop_end - leg_frames / plan.fps)
        legs = max(1, round(sum(s.extra_quiet_s for s in scenes) * plan.fps / leg_frames))
        plan.loop(leg_frames, legs, first_direction=1)
        return plan
    for scene in scenes:
        _extend_scene(plan, rng, scene, truths[scene.clip])
    if recipe.style == "bounce":
        scene = scenes[-1]
        truth = truths[scene.clip]
        cores = loopable_quiet(truth, *_window(scene, truth))
        if not cores:
            raise ValueError(f"{recipe.name}: no quiet stretch to play back into")
        loop_end, leg_frames = _pick_loop(rng, cores[-1], plan.fps, cores[-1][0])
        plan.move(loop_end)
        legs = max(1, round(recipe.extra_after_s * plan.fps / leg_frames))
        plan.loop(leg_frames, legs, first_direction=-1)
    return plan


def _round(t: float) -> float:
    return round(t, 3)


def _merge(spans: list[tuple[float, float]], gap: float) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] <= gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def nuisance_params(recipe: StreamRecipe, plan: Plan) -> NuisanceParams | None:
    """The recipe's camera nuisances drawn for its timeline (None for a clean stream)."""
    if recipe.nuisances is None:
        return None
    return draw_params(recipe.nuisances, recipe.seed, plan.n_frames / plan.fps, recipe.width, recipe.height)


def _camera_notes(recipe: StreamRecipe, params: NuisanceParams | None) -> str:
    """The truth's sentence on how a camera would have sent the stream; empty for the older recipes."""
    parts = []
    if recipe.profile is not None:
        profile = PROFILES[recipe.profile]
        parts.append(
            f" Encoded as a camera's {recipe.profile} (H.264, a keyframe every {profile.gop_s:g} s, no B-frames)."
        )
    if params is not None:
        facts = json.dumps(params.summary(), separators=(", ", ": "))
        parts.append(f" Camera nuisances, none of them an event: {facts}.")
    return "".join(parts)


def map_truth(
    plan: Plan, recipe: StreamRecipe, truths: dict[str, ClipTruth], params: NuisanceParams | None = None
) -> ClipTruth:
    """The sources' truth on the output timeline: each event once per time it is shown, quiet merged.

    Camera nuisances change no event or quiet time (the scene is the same); the notes say when
    they happen (`params`), so a false highlight can be put down to one.
    """
    fps = plan.fps
    tol = 0.5 / fps + TIME_EPS
    copies: dict[tuple[int, int], list[tuple[float, float]]] = {}
    texts: dict[tuple[int, int], str] = {}
    quiet: list[tuple[float, float]] = []
    for piece in plan.pieces:
        low, high = piece.source_span(fps)
        truth = truths[piece.clip]
        for index, (start, end, what) in enumerate(truth.events):
            if min(end, high) - max(start, low) <= tol:
                continue
            if start < low - tol or end > high + tol:
                raise ValueError(f"{recipe.name}: a piece {low:.2f}-{high:.2f} s cuts the event {start}-{end} s")
            ends = sorted(piece.to_output(t, fps) for t in (max(start, low), min(end, high)))
            key = (piece.scene, index)
            copies.setdefault(key, []).append((ends[0], ends[1]))
            texts[key] = f"{what} [{piece.clip} {start}-{end} s]"
        for start, end in truth.quiet:
            if min(end, high) - max(start, low) > 0:
                ends = sorted(piece.to_output(t, fps) for t in (max(start, low), min(end, high)))
                quiet.append((ends[0], ends[1]))
    events = []
    for key, spans in copies.items():
        # One showing played forward then backward (a turn-around) is one event.
        events += [(_round(s), _round(e), texts[key]) for s, e in _merge(spans, 1.0 / fps + TIME_EPS)]
    clips = ", ".join(dict.fromkeys(s.clip for s in recipe.scenes))
    notes = (
        f"Built by vgsum.models.data.event_streams, recipe {recipe.name!r}, seed {recipe.seed}, from {clips} "
        f"({recipe.width}x{recipe.height}, {fps} fps): {recipe.description} Quiet stretches are extended by playing "
        f"real quiet frames of the same clip forward and backward, at least {EVENT_MARGIN_S:g} s from any event; "
        "events are copied whole with their margins; times are the sources' hand-made truth mapped onto this "
        "timeline (each event's text ends with its source clip and source times)."
    ) + _camera_notes(recipe, params)
    truth = ClipTruth(
        duration_s=plan.n_frames / fps,
        kind=recipe.kind,
        events=sorted(events),
        quiet=[(_round(s), _round(e)) for s, e in _merge(quiet, TIME_EPS)],
        cuts=[_round(c) for c in plan.cuts],
        notes=notes,
    )
    problems = truth.problems()
    if problems:
        raise ValueError(f"{recipe.name}: mapped truth is inconsistent: {problems[0]}")
    return truth


def _encode(
    plan: Plan, recipe: StreamRecipe, clip_paths: dict[str, Path], out: Path, params: NuisanceParams | None = None
) -> None:
    """Write the plan's frames as H.264 MP4 at `recipe.fps`, pts = frame index, with the camera's nuisances."""
    import av

    clips, clip_of, times = plan.frame_sources()
    readers = [
        ClipFrames(clip_paths[name], times[clip_of == i], recipe.width, recipe.height) for i, name in enumerate(clips)
    ]
    with av.open(str(out), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=recipe.fps, options=recipe.encoder_options())
        stream.width, stream.height, stream.pix_fmt = recipe.width, recipe.height, "yuv420p"
        with tqdm(total=plan.n_frames, desc=recipe.name, unit="frame", disable=None) as bar:
            for index in range(plan.n_frames):
                image = readers[clip_of[index]].frame_at(times[index])
                if params is not None:
                    image = apply_nuisances(image, index / recipe.fps, params)
                frame = av.VideoFrame.from_ndarray(image, format="yuv420p")
                frame.pts = index
                container.mux(stream.encode(frame))
                bar.update()
        container.mux(stream.encode(None))
    for reader in readers:
        reader.close()


def recipe_hash(recipe: StreamRecipe, truths: dict[str, ClipTruth], clip_paths: dict[str, Path]) -> str:
    """What the output depends on: the recipe, the builder, each source's bytes and truth."""
    sources = {
        name: {"sha256": sha256_of(clip_paths[name]), "truth": truths[name].model_dump(mode="json")}
        for name in sorted({s.clip for s in recipe.scenes})
    }
    blob: dict[str, object] = {"builder": BUILDER_VERSION, "recipe": recipe.hash_fields(), "sources": sources}
    if recipe.nuisances is not None:
        blob["effects"] = EFFECTS_VERSION
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()


def default_cache_dir() -> Path:
    """`$VGSUM_EVENT_STREAMS`, else `$XDG_CACHE_HOME/vgsum/event-streams` (`~/.cache/...`)."""
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vgsum" / "event-streams"
    return Path(os.environ.get("VGSUM_EVENT_STREAMS", base))


def _check_cache_dir(folder: Path) -> Path:
    """Refuse folders inside the repository or the shared data: built video belongs in a cache."""
    resolved = folder.expanduser().resolve()
    for forbidden, what in ((REPO_ROOT.resolve(), "the repository"), (shared_dir().resolve(), "the shared folder")):
        if resolved == forbidden or forbidden in resolved.parents:
            raise UserError(f"event-stream cache {folder} lies inside {what}; pick a folder outside it")
    return resolved


def _write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def build_stream(
    recipe: StreamRecipe,
    cache_dir: Path | str | None = None,
    data_dir: Path | str | None = None,
    truths: dict[str, ClipTruth] | None = None,
) -> BuiltStream:
    """Build one stream (video, truth file, build stamp) unless an identical build is already there."""
    folder = _check_cache_dir(Path(cache_dir) if cache_dir is not None else default_cache_dir())
    data = Path(data_dir) if data_dir is not None else shared_dir() / "data"
    clip_dirs = [data / "videos", data / "footage"]
    if truths is None:
        truths = load_ground_truth(data / "events" / "ground_truth.json", clip_dirs)
    clip_paths: dict[str, Path] = {}
    for scene in recipe.scenes:
        path = find_clip(scene.clip, clip_dirs)
        if path is None or scene.clip not in truths:
            raise UserError(f"recipe {recipe.name!r}: clip {scene.clip!r} is missing from {data} or its truth")
        clip_paths[scene.clip] = path
    video = folder / f"{recipe.name}.mp4"
    truth_file = folder / f"{recipe.name}.json"
    stamp_file = folder / f"{recipe.name}.build.json"
    built = BuiltStream(video, truth_file, recipe.name)
    wanted = recipe_hash(recipe, truths, clip_paths)
    if stamp_file.is_file() and video.is_file() and truth_file.is_file():
        try:
            stamp = json.loads(stamp_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            stamp = {}
        if stamp.get("recipe_hash") == wanted and stamp.get("video_sha256") == sha256_of(video):
            return built
    folder.mkdir(parents=True, exist_ok=True)
    stamp_file.unlink(missing_ok=True)
    began = time.monotonic()
    plan = make_plan(recipe, truths)
    params = nuisance_params(recipe, plan)
    truth = map_truth(plan, recipe, truths, params)
    partial = video.with_name(video.name + ".partial")
    _encode(plan, recipe, clip_paths, partial, params)
    os.replace(partial, video)
    _write_atomic(truth_file, dump_ground_truth({video.name: truth}))
    stamp = {
        "recipe_hash": wanted,
        "video_sha256": sha256_of(video),
        "frames": plan.n_frames,
        "build_s": round(time.monotonic() - began, 2),
        "recipe": recipe.model_dump(mode="json"),
    }
    if params is not None:
        stamp["nuisances"] = params.summary()
    _write_atomic(stamp_file, json.dumps(stamp, indent=1) + "\n")
    return built


def all_recipes() -> dict[str, StreamRecipe]:
    """Every recipe by name: the event streams, then the camera-like ones (built only when named)."""
    from vgsum.models.data.camera_streams import CAMERA_RECIPES

    return RECIPES | CAMERA_RECIPES


def build_streams(
    names: list[str] | None = None,
    cache_dir: Path | str | None = None,
    data_dir: Path | str | None = None,
    quiet_s: float | None = None,
) -> list[BuiltStream]:
    """Build the named recipes (the event streams of RECIPES by default) into the cache; built ones are reused.

    `quiet_s` builds each with its added quiet scaled to that many seconds (`with_quiet`), under its own name.
    """
    known = all_recipes()
    chosen = list(RECIPES) if names is None else list(names)
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise UserError(f"unknown event-stream recipe {unknown[0]!r}; known: {', '.join(known)}")
    data = Path(data_dir) if data_dir is not None else shared_dir() / "data"
    truths = load_ground_truth(data / "events" / "ground_truth.json", [data / "videos", data / "footage"])
    recipes = [known[n] if quiet_s is None else with_quiet(known[n], quiet_s) for n in chosen]
    return [build_stream(r, cache_dir, data, truths) for r in recipes]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vgsum.models.data.event_streams", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "names", nargs="*", help="recipes to build (default: the event streams; camera-like ones only by name)"
    )
    parser.add_argument("--cache-dir", type=Path, default=None, help="where to build (default: %(default)s)")
    parser.add_argument(
        "--quiet-s", type=float, default=None, help="scale the added quiet to this many seconds (quick builds)"
    )
    parser.add_argument("--list", action="store_true", help="list the recipes and exit")
    args = parser.parse_args(argv)
    if args.list:
        for recipe in all_recipes().values():
            profile = recipe.profile or f"{recipe.width}x{recipe.height}@{recipe.fps}"
            kinds = ",".join(recipe.nuisances.kinds) if recipe.nuisances else "-"
            print(f"{recipe.name}\t{recipe.style}\tseed {recipe.seed}\t{profile}\t{kinds}\t{recipe.description}")
        return 0
    if args.quiet_s is not None and args.quiet_s < 0:
        print("error: --quiet-s must be >= 0", file=sys.stderr)
        return 2
    try:
        streams = build_streams(args.names or None, args.cache_dir, quiet_s=args.quiet_s)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for stream in streams:
        truth = json.loads(stream.truth_path.read_text(encoding="utf-8"))[stream.path.name]
        print(f"{stream.name}\t{truth['duration_s']:.1f} s\t{len(truth['events'])} events\t{stream.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
