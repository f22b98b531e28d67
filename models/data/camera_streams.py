"""Camera-like stream recipes: the encodings cameras send, sparse and busy scenes, and long nuisance streams.

The event streams (`event_streams.RECIPES`) ask whether highlights land on events; these
ask what a daemon full of real cameras meets:
- `cam-sub-*` and `cam-main-*`: a camera's substream (640x360) and main stream (1280x720),
  15 fps, H.264 with a keyframe every 2 s; sparse scenes (at least 80 % quiet, for the
  many-cameras-per-daemon counts) and busy ones;
- `cam-sub-quiet4h-*`: four hours of one room's own quiet frames with a few real visits
  inside, once clean (the control) and once per camera nuisance (clock, exposure, noise,
  shake, night mode) and all together: the same seed, so the same frames, and each nuisance
  is measured alone as false highlights per camera-day (6 x 4 h = 24 camera-hours of nuisance);
- `cam-main-quiet1h-all`: one hour of the same at 720p.

Hours of video are heavy to build: the long ones use a fast x264 preset and the substream,
are built once into the cache, and `--quiet-s` (or `event_streams.with_quiet`) builds any
recipe in seconds for a look or a test. None is built unless named.
"""

from __future__ import annotations

from typing import Literal

from vgsum.models.data.camera_nuisance import NUISANCES, Nuisance, NuisanceConfig
from vgsum.models.data.event_streams import SceneRecipe, StreamRecipe

ROOM = "room-people-one-by-one.mp4"
PARKING = "parking-lot-cars.mp4"
SPIDERS = "tracktor-spiders.mp4"
ARENA = "tracktor-mouse-arena.mp4"
# The long streams: this many hours of one room, its six visits spread over them.
QUIET_HOURS = 4
ROOM_S = 139.4
LONG_PRESET = "superfast"  # about twice veryfast's speed; files a little larger
LONG_CRF = 28  # a substream's bit rate: a camera sends a few hundred kbit/s on it
# A dim room's sensor noise. At LONG_CRF the encoder smooths most of it away, as a camera's own
# does: sigma 2.5 left a frame-to-frame difference of 0.61 levels (clean: 0.39), 4.0 leaves 1.37
# (and the keyframes' refresh of the grain every 2 s) at about 310 kbit/s.
NOISE_SIGMA = 4.0
CAMERA = "LOBBY 2"


def _profiles() -> list[tuple[str, str, int]]:
    """(name part, profile, seed offset) for the two streams of a camera."""
    return [("sub", "substream", 0), ("main", "main", 200)]


def _sparse_and_busy() -> list[StreamRecipe]:
    recipes = []
    for part, profile, offset in _profiles():
        recipes += [
            StreamRecipe(
                name=f"cam-{part}-sparse-room",
                seed=201 + offset,
                style="extend",
                kind="sparse",
                profile=profile,
                scenes=[SceneRecipe(clip=ROOM, extra_quiet_s=600.0)],
                description="An empty room for minutes at a time; six people come in one by one.",
            ),
            StreamRecipe(
                name=f"cam-{part}-sparse-parking",
                seed=202 + offset,
                style="extend",
                kind="sparse",
                profile=profile,
                scenes=[SceneRecipe(clip=PARKING, extra_quiet_s=330.0)],
                description="A parking-lot lane, empty for minutes; four cars pass (two at once).",
            ),
            StreamRecipe(
                name=f"cam-{part}-sparse-spiders",
                seed=203 + offset,
                style="extend",
                kind="sparse",
                profile=profile,
                scenes=[SceneRecipe(clip=SPIDERS, extra_quiet_s=300.0)],
                description="A web with a large spider sitting still for minutes; a small one walks up, a head passes.",
            ),
            StreamRecipe(
                name=f"cam-{part}-busy-arena",
                seed=204 + offset,
                style="extend",
                kind="busy",
                profile=profile,
                scenes=[SceneRecipe(clip=ARENA)],
                description="A mouse exploring an open-field arena for 5.5 minutes: activity nearly all the time.",
            ),
        ]
    return recipes


def quiet_stream(
    kinds: list[Nuisance] | None, profile: Literal["substream", "main"] = "substream", hours: float = QUIET_HOURS
) -> StreamRecipe:
    """Hours of the room's own quiet frames with its six visits inside, with the given nuisances (None: clean).

    Every variant has the same seed, so the same frames: the clean one is the control for the others.
    With nuisances the kind is `nuisance` (meaningless change all the time, real events inside), as
    the shared truth's tree-window clip.
    """
    part = "sub" if profile == "substream" else "main"
    label = "clean" if kinds is None else "all" if len(kinds) == len(NUISANCES) else "-".join(kinds)
    what = "no camera nuisance" if kinds is None else f"camera nuisances: {', '.join(kinds)}"
    apart = "hours" if hours >= 2 else "minutes"
    return StreamRecipe(
        name=f"cam-{part}-quiet{hours:g}h-{label}",
        seed=301,
        style="extend",
        kind="sparse" if kinds is None else "nuisance",
        profile=profile,
        scenes=[SceneRecipe(clip=ROOM, extra_quiet_s=hours * 3600 - ROOM_S)],
        nuisances=None if kinds is None else NuisanceConfig(kinds=kinds, camera_name=CAMERA, noise_sigma=NOISE_SIGMA),
        preset=LONG_PRESET,
        crf=LONG_CRF,
        description=f"{hours:g} h of an empty room; six people come in one by one, {apart} apart; {what}.",
    )


def _quiet_streams() -> list[StreamRecipe]:
    recipes = [quiet_stream(None)]
    recipes += [quiet_stream([kind]) for kind in ("clock", "exposure", "noise", "shake", "ir")]
    recipes += [quiet_stream(list(NUISANCES)), quiet_stream(list(NUISANCES), profile="main", hours=1)]
    return recipes


CAMERA_RECIPES: dict[str, StreamRecipe] = {r.name: r for r in _sparse_and_busy() + _quiet_streams()}
