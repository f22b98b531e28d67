"""Camera-like streams: the profiles cameras send, every nuisance variant deterministic, the recipes as promised."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import numpy as np
import pytest

from vgsum.models.data.camera_nuisance import NUISANCES, clock_text, planes
from vgsum.models.data.camera_streams import CAMERA_RECIPES, ROOM
from vgsum.models.data.event_streams import (
    CAMERA_FIELDS,
    PROFILES,
    RECIPES,
    SceneRecipe,
    StreamRecipe,
    all_recipes,
    build_stream,
    make_plan,
    map_truth,
    nuisance_params,
    with_quiet,
)
from vgsum.models.data.events import ClipTruth, load_ground_truth

VARIANTS = ["clock", "exposure", "noise", "shake", "ir", "all"]
QUIET_4H = {kind: CAMERA_RECIPES[f"cam-sub-quiet4h-{kind}"] for kind in ["clean", *VARIANTS]}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def short(recipe: StreamRecipe, seconds: float = 4.0, **update: object) -> StreamRecipe:
    """The recipe cut to the room's first `seconds` (quiet: the first visit starts at 6.0 s), nothing else changed."""
    scenes = [SceneRecipe(clip=ROOM, end_s=seconds)]
    return recipe.model_copy(update={"name": f"{recipe.name}-first{seconds:g}s", "scenes": scenes, **update})


def decode_yuv(path: Path) -> tuple[list[float], list[np.ndarray], list[bool]]:
    """Every frame's time, yuv420p array and keyframe flag, in order."""
    times, frames, keys = [], [], []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            times.append(float(frame.time))
            frames.append(frame.to_ndarray(format="yuv420p"))
            keys.append(bool(frame.key_frame))
    return times, frames, keys


@pytest.fixture(scope="module")
def truths(shared_data: Path) -> dict[str, ClipTruth]:
    clip_dirs = [shared_data / "videos", shared_data / "footage"]
    return load_ground_truth(shared_data / "events" / "ground_truth.json", clip_dirs)


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_nuisance_variant_builds_the_same_bytes_twice(variant: str, shared_data: Path, tmp_path: Path) -> None:
    recipe = short(QUIET_4H[variant], 3.0)
    first = build_stream(recipe, tmp_path / "a", shared_data)
    second = build_stream(recipe, tmp_path / "b", shared_data)
    assert sha256(first.path) == sha256(second.path)
    assert first.truth_path.read_bytes() == second.truth_path.read_bytes()
    truth = load_ground_truth(first.truth_path, first.path.parent)[first.path.name]  # the shared format
    assert truth.kind == ("sparse" if variant == "clean" else "nuisance") and truth.events == []
    assert truth.quiet == [(0.0, 3.0)] and "Camera nuisances" in truth.notes
    clean = build_stream(short(QUIET_4H["clean"], 3.0), tmp_path / "c", shared_data)
    assert sha256(first.path) != sha256(clean.path)  # the nuisance is in the pixels
    # Another seed shows the same frames here (no loops in 3 s) with other nuisance parameters.
    other_seed = build_stream(recipe.model_copy(update={"seed": recipe.seed + 1}), tmp_path / "d", shared_data)
    assert sha256(other_seed.path) != sha256(first.path)


@pytest.mark.parametrize("name", ["substream", "main"])
def test_profiles_read_back_with_their_size_rate_and_two_second_gop(name: str, shared_data: Path, tmp_path) -> None:
    profile = PROFILES[name]
    recipe = short(CAMERA_RECIPES[f"cam-{'sub' if name == 'substream' else 'main'}-sparse-room"], 5.0)
    built = build_stream(recipe, tmp_path, shared_data)
    with av.open(str(built.path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (profile.width, profile.height) == (recipe.width, recipe.height)
        assert stream.average_rate == profile.fps == 15
        packets = [p for p in container.demux(stream) if p.size]
    keyframes = [i for i, p in enumerate(packets) if p.is_keyframe]
    assert len(packets) == 75 and keyframes == [0, 30, 60]  # a keyframe every 2 s, none other
    pts = [p.pts for p in packets]
    assert pts == sorted(pts)  # no B-frames: decode order is display order
    times, _, keys = decode_yuv(built.path)
    np.testing.assert_allclose(times, np.arange(75) / 15, atol=1e-6)
    assert [i for i, k in enumerate(keys) if k] == [0, 30, 60]


def test_clock_variant_ticks_each_second_in_the_decoded_video(shared_data: Path, tmp_path: Path, truths) -> None:
    recipe = short(QUIET_4H["clock"], 3.0)
    built = build_stream(recipe, tmp_path, shared_data)
    times, frames, _ = decode_yuv(built.path)
    params = nuisance_params(recipe, make_plan(recipe, truths))
    assert params is not None
    # The seconds digits: the last two of "YYYY-MM-DD HH:MM:SS", in 6-pixel glyph cells after a 1-pixel outline.
    scale = params.text_scale
    left, top = 4 * scale + scale * (1 + 6 * 17), 4 * scale
    box = (slice(top, top + 9 * scale), slice(left, left + 11 * scale))
    luma = [planes(f, recipe.width, recipe.height)[0][box].astype(np.int16) for f in frames]
    steps = np.array([np.abs(b - a).mean() for a, b in zip(luma, luma[1:], strict=False)])
    ticks = [i + 1 for i in range(len(steps)) if steps[i] > 5]
    assert ticks == [15, 30]  # the first frame of each new second, and only there
    assert steps[[14, 29]].min() > 4 * np.delete(steps, [14, 29]).max()
    assert clock_text(times[15], params)[-2:] != clock_text(times[14], params)[-2:]


def test_ir_variant_is_colour_before_its_switch_and_grey_after(shared_data: Path, tmp_path: Path, truths) -> None:
    recipe = short(QUIET_4H["ir"], 3.0)
    params = nuisance_params(recipe, make_plan(recipe, truths))
    assert params is not None and params.ir_at is not None and 1.0 < params.ir_at < 2.0
    built = build_stream(recipe, tmp_path, shared_data)
    times, frames, _ = decode_yuv(built.path)
    for t, frame in zip(times, frames, strict=True):
        luma, u, v = (p.astype(np.int16) for p in planes(frame, recipe.width, recipe.height))
        colour = np.abs(u - 128).mean() + np.abs(v - 128).mean()
        if t >= params.ir_at + 1 / 15:
            assert colour < 0.5 and np.abs(u - 128).max() <= 2, f"colour left at {t:.2f} s"
        elif t < params.ir_at - 1 / 15:
            assert colour > 2.0, f"no colour at {t:.2f} s"
    brightness = [f[: recipe.height].mean() for f in frames]  # the luma rows
    before = [b for t, b in zip(times, brightness, strict=True) if t < params.ir_at - 0.1]
    after = [b for t, b in zip(times, brightness, strict=True) if t > params.ir_at + 0.1]
    assert np.mean(after) > 1.2 * np.mean(before)  # the illuminator's step


def test_camera_recipes_plan_as_promised(truths: dict[str, ClipTruth]) -> None:
    assert not set(CAMERA_RECIPES) & set(RECIPES) and all_recipes() == RECIPES | CAMERA_RECIPES
    sparse = {"substream": 0, "main": 0}
    for name, recipe in CAMERA_RECIPES.items():
        plan = make_plan(recipe, truths)
        truth = map_truth(plan, recipe, truths, nuisance_params(recipe, plan))
        assert truth.problems() == []
        assert recipe.profile in PROFILES
        assert (recipe.width, recipe.height, recipe.fps) in {(640, 360, 15), (1280, 720, 15)}
        quiet = sum(end - start for start, end in truth.quiet) / truth.duration_s
        if "-sparse-" in name or "-quiet" in name:
            assert truth.kind == ("sparse" if recipe.nuisances is None else "nuisance") and quiet >= 0.8, name
            sparse[recipe.profile] += "-sparse-" in name
            assert 3 <= len(truth.events) <= 8, name  # a few real events inside
        elif "-busy-" in name:
            assert truth.kind == "busy" and quiet < 0.5, name
        if recipe.nuisances is not None:
            assert "Camera nuisances" in truth.notes and recipe.nuisances.kinds[0] in truth.notes
    assert sparse["substream"] >= 3 and sparse["main"] >= 3


def test_long_quiet_streams_give_24_camera_hours_of_nuisance_on_the_control_frames(truths) -> None:
    hours = {}
    clean_plan = make_plan(QUIET_4H["clean"], truths)
    for variant, recipe in QUIET_4H.items():
        plan = make_plan(recipe, truths)
        assert plan == clean_plan  # the same frames under every nuisance: the clean one is the control
        hours[variant] = plan.n_frames / plan.fps / 3600
        kinds = tuple(recipe.nuisances.kinds) if recipe.nuisances else ()
        assert kinds == (NUISANCES if variant == "all" else () if variant == "clean" else (variant,))
    assert all(h == pytest.approx(4.0, abs=0.01) for h in hours.values())
    assert sum(h for v, h in hours.items() if v != "clean") >= 24
    assert all(r.preset == "superfast" and r.profile == "substream" for r in QUIET_4H.values())


def test_a_shortened_recipe_keeps_everything_but_its_length(truths: dict[str, ClipTruth]) -> None:
    full = QUIET_4H["all"]
    quick = with_quiet(full, 30.0)
    assert quick.name == "cam-sub-quiet4h-all-q30s" and quick.seed == full.seed and quick.nuisances == full.nuisances
    plan = make_plan(quick, truths)
    truth = map_truth(plan, quick, truths, nuisance_params(quick, plan))
    assert truth.duration_s == pytest.approx(139.4 + 30.0, abs=1.0) and len(truth.events) == 6


def test_older_recipes_hash_and_encode_as_before_the_camera_fields() -> None:
    for recipe in RECIPES.values():
        assert set(recipe.hash_fields()) == set(recipe.model_dump()) - set(CAMERA_FIELDS)
        assert recipe.encoder_options() == {"preset": "veryfast", "crf": "23", "g": "50", "threads": "2"}
    camera = CAMERA_RECIPES["cam-sub-quiet4h-all"]
    assert set(CAMERA_FIELDS) <= set(camera.hash_fields())
    assert camera.encoder_options()["x264-params"] == "keyint=30:min-keyint=30:scenecut=0:bframes=0"


def test_a_profile_fixes_the_size() -> None:
    with pytest.raises(ValueError, match="profile main is 1280x720 at 15 fps"):
        StreamRecipe(
            name="x", seed=1, style="hold", kind="sparse", profile="main", width=640, height=360,
            scenes=[SceneRecipe(clip=ROOM)], description="",
        )  # fmt: skip
