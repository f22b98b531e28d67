"""A small site's camera-day: five cameras, hours of quiet, a few dozen events of a few kinds, some repeating.

`vgsum recap` summarizes a camera's stored history under a time budget, so it is judged on
what a site's day holds: long quiet, events of several kinds, and the same kind of thing
happening again (a repeat is worth less in a recap than a new event). Each camera here plays
one shared clip twice over its ~25 minutes, with long stretches of that scene's own quiet
frames between (the event-stream builder's `extra_quiet_s`), encoded as a camera's substream.

A recipe lists its clip twice as two scenes: the builder plans each scene on its own (a jump
back to the clip's start is a cut, recorded in the truth's `cuts`), and its mapped truth keeps
one event per scene and source event. Each occurrence gets a kind (`KINDS`, assigned here
per source event) and a distinct id (source clip + event index), shared by both plays of
the same source event: that is what makes a repeat. The window camera's hand is cut off by
the scene change the first time (the clip ends with it in view) and, the second time,
leaves the way it came (style `bounce`, as `nuisance-long`).

`build_day` builds the streams into the event-stream cache (reused when unchanged);
`models/eval/recap_day.py` records them through `vgsum run` into a history store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vgsum.models.data.camera_streams import LONG_CRF, LONG_PRESET, PARKING, ROOM, SPIDERS
from vgsum.models.data.event_streams import BuiltStream, SceneRecipe, StreamRecipe, build_stream, with_quiet
from vgsum.models.data.events import ClipTruth, load_ground_truth
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.paths import shared_dir

ROAD = "bgslibrary-road-topdown.avi"
TREE = "opencv-tree-window.avi"
# Source lengths (shared truth's duration_s): they set how much quiet fills a camera's day.
CLIP_S = {ROOM: 139.4, PARKING: 30.16, ROAD: 12.47, SPIDERS: 39.2, TREE: 29.6}
CAMERA_S = 1500.0  # each camera's day: 25 minutes, five cameras about 2 recorded hours
# The window camera plays its hand back out, then shows leaves for this long.
TREE_AFTER_S = 240.0
# How a camera's added quiet is shared among its scenes: first play, second play (, quiet tail).
SHARES = (0.45, 0.55)
TAIL_SHARES = (0.4, 0.35, 0.25)

# What each source event is, for a recap that prefers variety: (clip, event index) -> kind.
KINDS: dict[tuple[str, int], str] = {
    **{(ROOM, i): "person" for i in range(6)},
    **{(PARKING, i): "car" for i in range(4)},
    **{(ROAD, i): "car" for i in range(5)},
    (SPIDERS, 0): "spider",  # the small spider walks up (nearly invisible at thumbnail scale)
    (SPIDERS, 1): "person",  # a person's head passes
    (SPIDERS, 2): "spider",  # the small spider steps to the right
    (TREE, 0): "hand",
}


def _shares(scenes: int) -> tuple[float, ...]:
    """How a camera's added quiet is shared among its scenes: the fixed shares for the day, rising ones beyond."""
    if scenes == len(SHARES):
        return SHARES
    if scenes == len(TAIL_SHARES):
        return TAIL_SHARES
    weights = [0.8 + 0.4 * i / max(1, scenes - 1) for i in range(scenes)]
    return tuple(round(w / sum(weights), 4) for w in weights)


def _camera(
    name: str, seed: int, clip: str, description: str, *, bounce: bool = False, tail_end_s: float | None = None,
    plays: int = 2,
) -> StreamRecipe:
    """One camera: `clip` played `plays` times, quiet added so that the day lasts about CAMERA_S.

    `tail_end_s`: for a clip whose only loopable quiet comes before its events (the road,
    the web), a third scene plays the clip's quiet opening up to there and holds it, so
    the day does not end on its last event.
    """
    after = TREE_AFTER_S if bounce else 0.0
    played = plays * CLIP_S[clip] + after + (tail_end_s or 0.0)
    if bounce:  # the playback from the clip's end into its last quiet (about the hand's length)
        played += CLIP_S[clip] - 22.1
    extra = CAMERA_S - played
    count = plays + (tail_end_s is not None)
    scenes = [
        SceneRecipe(clip=clip, end_s=tail_end_s if i == plays else None, extra_quiet_s=round(extra * share, 1))
        for i, share in enumerate(_shares(count))
    ]
    return StreamRecipe(
        name=name,
        seed=seed,
        style="bounce" if bounce else "extend",
        kind="nuisance" if bounce else "sparse",
        profile="substream",
        scenes=scenes,
        extra_after_s=after,
        preset=LONG_PRESET,
        crf=LONG_CRF,
        description=description,
    )


def _site(prefix: str, plays: int, seed: int) -> list[StreamRecipe]:
    """The five cameras, each playing its clip `plays` times over its day."""
    times = {2: "twice", 4: "four times"}.get(plays, f"{plays} times")
    return [
        _camera(f"{prefix}-lobby", seed + 1, ROOM,
                f"A lobby, empty for minutes; six people come in one by one, {times} a day.", plays=plays),
        _camera(f"{prefix}-parking", seed + 2, PARKING,
                f"A parking-lot lane, empty for minutes; four cars pass, {times} a day.", plays=plays),
        _camera(f"{prefix}-road", seed + 3, ROAD,
                f"A road seen from above, empty for minutes; five cars drive by, {times} a day; then it stays empty.",
                tail_end_s=1.95, plays=plays),
        _camera(f"{prefix}-web", seed + 4, SPIDERS,
                f"A web with a large spider still for minutes; a small one walks up and a head passes, {times} a "
                "day; then all is still.", tail_end_s=3.8, plays=plays),
        _camera(f"{prefix}-window", seed + 5, TREE,
                "Leaves swaying behind a window for minutes; a hand comes in (cut off by a scene change the first "
                "time; the second time it leaves the way it came)." if plays == 2 else
                "Leaves swaying behind a window for minutes; a hand comes in (cut off by each scene change; the "
                "last time it leaves the way it came).", bounce=True, plays=plays),
    ]


# The day: each camera's events twice. The busy day: the same cameras and length, each event four
# times (the same people and cars coming back), so that its highlights hold more than a 3-minute
# recap can show and the choice among them matters.
DAY_RECIPES: dict[str, StreamRecipe] = {r.name: r for r in _site("day", 2, 400)}
BUSY_DAY_RECIPES: dict[str, StreamRecipe] = {r.name: r for r in _site("busy", 4, 500)}
DAYS: dict[str, list[str]] = {"day": list(DAY_RECIPES), "busy": list(BUSY_DAY_RECIPES)}


@dataclass(frozen=True)
class CameraEvent:
    """One event occurrence on a camera's timeline (stream seconds), with its kind and distinct source event."""

    start: float
    end: float
    kind: str
    distinct_id: str  # "<source clip>#<event index>": both plays of a source event share it
    text: str


def distinct_id(clip: str, index: int) -> str:
    return f"{clip}#{index}"


def scaled(recipe: StreamRecipe, quiet_s: float | None = None, quiet_scale: float | None = None) -> StreamRecipe:
    """The recipe with its added quiet set to `quiet_s` seconds in all, or scaled by `quiet_scale` (tiny days)."""
    if quiet_s is not None and quiet_scale is not None:
        raise ValueError("give quiet_s or quiet_scale, not both")
    if quiet_scale is not None:
        if quiet_scale < 0:
            raise ValueError("quiet_scale must be >= 0")
        total = sum(s.extra_quiet_s for s in recipe.scenes) + recipe.extra_after_s
        return with_quiet(recipe, round(total * quiet_scale, 3))
    if quiet_s is not None:
        if quiet_s < 0:
            raise ValueError("quiet_s must be >= 0")
        return with_quiet(recipe, quiet_s)
    return recipe


def day_recipes(
    cameras: Sequence[str] | None = None, quiet_s: float | None = None, quiet_scale: float | None = None
) -> list[StreamRecipe]:
    """The chosen cameras' recipes (all by default), with their quiet changed as `scaled` says."""
    known = DAY_RECIPES | BUSY_DAY_RECIPES
    names = list(DAY_RECIPES) if cameras is None else list(cameras)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UserError(f"unknown camera {unknown[0]!r}; known: {', '.join(known)}")
    return [scaled(known[n], quiet_s, quiet_scale) for n in names]


def source_truths(data_dir: Path | None = None) -> dict[str, ClipTruth]:
    """The shared hand-made truth of the clips."""
    data = data_dir if data_dir is not None else shared_dir() / "data"
    return load_ground_truth(data / "events" / "ground_truth.json", [data / "videos", data / "footage"])


def camera_events(
    truth: ClipTruth, recipe: StreamRecipe, sources: dict[str, ClipTruth], kinds: dict[tuple[str, int], str] = KINDS
) -> list[CameraEvent]:
    """The mapped truth's events with kind and distinct id, in time order.

    The builder's `map_truth` ends each event's text with its source clip and source times
    (`what [clip start-end s]`); that text names exactly one source event, found here.
    """
    owners: dict[str, tuple[str, int]] = {}
    for clip in dict.fromkeys(s.clip for s in recipe.scenes):
        for index, (start, end, what) in enumerate(sources[clip].events):
            owners[f"{what} [{clip} {start}-{end} s]"] = (clip, index)
    events = []
    for start, end, text in truth.events:
        if text not in owners:
            raise ValueError(f"{recipe.name}: event {start}-{end} s names no source event: {text!r}")
        clip, index = owners[text]
        if (clip, index) not in kinds:
            raise ValueError(f"{recipe.name}: no kind for event {index} of {clip}")
        events.append(CameraEvent(start, end, kinds[(clip, index)], distinct_id(clip, index), text))
    return sorted(events, key=lambda e: (e.start, e.end, e.distinct_id))


def read_truth(built: BuiltStream) -> ClipTruth:
    """A built stream's truth file (shared format, keyed by the video's name)."""
    return load_ground_truth(built.truth_path, built.path.parent)[built.path.name]


def build_day(
    cache_dir: Path | str | None = None,
    data_dir: Path | None = None,
    cameras: Sequence[str] | None = None,
    quiet_s: float | None = None,
    quiet_scale: float | None = None,
) -> list[tuple[StreamRecipe, BuiltStream]]:
    """Build the cameras' streams (one after another; cached ones are reused) with their recipes."""
    sources = source_truths(data_dir)
    data = data_dir if data_dir is not None else shared_dir() / "data"
    return [
        (recipe, build_stream(recipe, cache_dir, data, sources))
        for recipe in day_recipes(cameras, quiet_s, quiet_scale)
    ]
