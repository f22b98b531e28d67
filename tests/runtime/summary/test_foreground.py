"""The scene-activity signal: silent on a still or noisy scene, up while something is in view, no ghosts."""

from __future__ import annotations

import numpy as np
import pytest

from vgsum.runtime.summary.foreground import (
    EXPOSURE_QUANTILES,
    ForegroundModel,
    ForegroundSettings,
    _fit_exposure,
    _spectrum,
    _view_shift,
    exposure_quantiles,
    grey_small,
    share_score,
)

FPS = 2.0


def _scene(rng: np.random.Generator, noise: float = 3.0) -> np.ndarray:
    base = np.tile(np.linspace(40, 200, 256, dtype=np.float32), (144, 1))
    frame = base + rng.normal(0, noise, base.shape)
    return np.repeat(np.clip(frame, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def _with_person(frame: np.ndarray, x: int) -> np.ndarray:
    out = frame.copy()
    out[40:120, x : x + 30] = 10  # a dark figure, about 6 % of the view
    return out


def test_a_still_noisy_scene_stays_silent_and_a_person_is_seen_while_they_stand_still() -> None:
    rng = np.random.default_rng(0)
    model = ForegroundModel(FPS)
    quiet = [model.update(_scene(rng)) for _ in range(120)]
    assert max(quiet) < 0.1
    standing = [model.update(_with_person(_scene(rng), 100)) for _ in range(40)]  # 20 s without moving
    assert min(standing) > 0.8
    after = [model.update(_scene(rng)) for _ in range(10)]
    assert max(after[1:]) < 0.1  # no person-shaped ghost once they leave


def test_a_global_brightness_change_is_not_activity_and_an_object_left_behind_joins_the_scene() -> None:
    rng = np.random.default_rng(1)
    model = ForegroundModel(FPS, ForegroundSettings(absorb_s=10.0))
    for _ in range(60):
        model.update(_scene(rng))
    brighter = np.clip(_scene(rng).astype(np.int16) + 25, 0, 255).astype(np.uint8)
    assert model.update(brighter) < 0.1  # auto exposure
    left = [model.update(_with_person(_scene(rng), 50)) for _ in range(40)]
    assert left[0] > 0.8 and left[-1] < 0.1  # a still object stops counting after absorb_s


def test_a_cut_to_another_view_is_a_new_scene_not_activity() -> None:
    rng = np.random.default_rng(3)
    model = ForegroundModel(FPS)
    for _ in range(30):
        model.update(_scene(rng))
    other = [model.update(255 - _scene(rng)) for _ in range(10)]  # every pixel changes at once
    assert max(other) < 0.1
    assert model.update(_with_person(255 - _scene(rng), 120)) > 0.8  # and the new scene's visitors count


def test_places_that_always_move_learn_their_spread() -> None:
    rng = np.random.default_rng(2)
    model = ForegroundModel(FPS)
    scores = []
    for _ in range(200):
        frame = _scene(rng)
        frame[:, 200:] = rng.integers(0, 255, (144, 56, 1), dtype=np.uint8)  # leaves: 22 % of the view flickers
        scores.append(model.update(frame))
    assert np.mean(scores[-60:]) < 0.3 < np.mean(scores[1:5])


def test_share_score_is_one_half_at_the_half_share() -> None:
    assert share_score(0.0, 0.01) == 0.0
    assert share_score(0.01, 0.01) == pytest.approx(0.5)
    assert share_score(0.2, 0.01) > 0.95


def test_grey_small_area_averages_to_160_wide():
    rgb = np.zeros((288, 512, 3), np.uint8)
    rgb[:, :256] = 255
    small = grey_small(rgb, 160)
    assert small.shape == (90, 160) and small.dtype == np.float32
    assert small[:, :79].min() == pytest.approx(255.0, abs=0.01)  # white half, luma weights sum to 1
    assert small[:, 81:].max() == 0.0
    assert small.mean() == pytest.approx(127.5, abs=1.0)  # area kept: half white
    assert grey_small(np.zeros((60, 100, 3), np.uint8), 160).shape == (60, 100)  # never upscaled



def _shifted(frame: np.ndarray, dx: int) -> np.ndarray:
    return np.roll(frame, dx, axis=1)


def test_in_the_warmup_a_shaken_view_may_not_start_a_highlight_and_a_person_may() -> None:
    """A textured view jittering by a pixel (2 px of this 256-px frame: about one analysis pixel) from the first
    frame scores as before, but may start nothing until `warmup_s`; a dark figure walking in may at once."""
    rng = np.random.default_rng(4)
    texture = np.repeat(np.repeat(rng.uniform(40, 200, (36, 64)), 4, axis=0), 4, axis=1)
    scene = np.repeat(np.clip(texture, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    warm, unwarmed = ForegroundModel(FPS), ForegroundModel(FPS, ForegroundSettings(warmup_s=0.0))
    steps = int(ForegroundSettings().warmup_s * FPS) - 1  # frames after the first still in the warm-up
    for model in (warm, unwarmed):
        model.update(scene)
    shaken = []
    for i in range(steps):
        frame = _shifted(scene, 2 if i % 2 == 0 else -2)
        shaken.append((warm.update(frame), warm.may_start, unwarmed.update(frame), unwarmed.may_start))
    assert max(s[0] for s in shaken) > 0.5  # the shake departs from the first frame's background ...
    assert [s[0] for s in shaken] == [s[2] for s in shaken]  # ... the score is the same with the warm-up ...
    assert all(s[3] for s in shaken)  # ... and without it every frame could start a highlight
    assert not any(s[1] for s in shaken if s[0] > 0.5)  # with it, none of the shaken frames may
    person = ForegroundModel(FPS)
    person.update(scene)
    assert person.update(_with_person(scene, 100)) > 0.8 and person.may_start  # someone walking in may, at once


def _exposed(frame: np.ndarray, gain: float, contrast: float) -> np.ndarray:
    """A camera's auto exposure: levels scaled by the gain, stretched about mid-grey, clipped (as the builder's)."""
    levels = np.arange(256, dtype=np.float64)
    lut = np.clip(np.rint((levels * gain - 128.0) * contrast + 128.0), 0, 255).astype(np.uint8)
    return lut[frame]


def test_an_exposure_hunt_is_not_foreground_but_a_person_under_it_is() -> None:
    """A bright textured room (its top end near white) swinging through auto exposure: clipped at white when it
    brightens, dimmer when it darkens. Without the exposure map most of the view departs; with it none does."""
    rng = np.random.default_rng(7)
    texture = np.repeat(np.repeat(rng.uniform(30, 250, (36, 64)), 4, axis=0), 4, axis=1)
    scene = np.repeat(np.clip(texture, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    mapped, plain = ForegroundModel(FPS), ForegroundModel(FPS, ForegroundSettings(exposure_gain=False))
    for _ in range(int(20 * FPS)):  # the scene learnt at rest
        mapped.update(scene)
        plain.update(scene)
    hunt = [(1.15, 1.08), (0.8, 0.9), (1.3, 1.15), (0.75, 0.88), (1.0, 1.0)]
    shares = []
    for gain, contrast in hunt:
        frame = _exposed(scene, gain, contrast)
        mapped.update(frame)
        plain.update(frame)
        shares.append((mapped.share, plain.share))
    assert max(p for _, p in shares) > 0.2  # without the map the hunt is foreground ...
    assert max(m for m, _ in shares) < 0.002  # ... with it, nothing departs
    assert mapped.update(_exposed(_with_person(scene, 100), 1.2, 1.1)) > 0.8  # a person walking in, still seen


def test_a_warm_near_white_wall_through_a_hunt_is_not_foreground() -> None:
    """A cream wall (red and green near white, blue not) beside a textured room: when the exposure rises, red and
    green clip at white while blue still climbs, so the wall's grey level leaves the map that fits the room. Where
    the scene is near white on a frame whose exposure changed, the frame is no evidence; a person in front of the
    room is still seen on that frame."""
    rng = np.random.default_rng(7)
    texture = np.repeat(np.repeat(rng.uniform(30, 220, (36, 64)), 4, axis=0), 4, axis=1)
    scene = np.repeat(texture[..., None], 3, axis=2)
    for channel, level in enumerate((250, 240, 140)):
        scene[:, 180:, channel] = level + rng.normal(0, 2, (144, 76))  # the wall: 30 % of the view
    scene = np.clip(scene, 0, 255).astype(np.uint8)
    wall, person = ForegroundModel(FPS), ForegroundModel(FPS)
    for _ in range(int(20 * FPS)):
        wall.update(scene)
        person.update(scene)
    shares = []
    for gain, contrast in [(0.8, 0.9), (1.3, 1.15)]:
        wall.update(_exposed(scene, gain, contrast))
        shares.append(wall.share)
    assert max(shares) < 0.002
    person.update(_exposed(scene, 0.8, 0.9))
    assert person.update(_exposed(_with_person(scene, 100), 1.3, 1.15)) > 0.8
    assert person.share < 0.1  # the person (6.5 % of the view), not the wall


def test_the_exposure_fit_forgives_one_jumping_quantile_not_several() -> None:
    """A quantile in the gap between a scene's tones jumps with noise: the map still fits. A person entering the
    view moves several quantiles off the map: it does not."""
    was = np.array([50.0, 67, 73, 77, 82, 88, 94, 101, 110, 118, 131, 169, 174, 177, 179, 182, 187])
    exposed = 1.3 * was - 20.0
    one = exposed.copy()
    one[10] += 9.0  # the 55 % quantile, between the dark and the bright tones
    gain, offset, misfit = _fit_exposure(was, one)
    assert gain == pytest.approx(1.3, abs=1e-6) and offset == pytest.approx(-20.0, abs=1e-4) and misfit < 1e-6
    several = exposed.copy()
    several[[9, 10, 11]] += 9.0
    assert _fit_exposure(was, several)[2] > ForegroundSettings().max_misfit


def test_exposure_quantiles_equal_numpys_percentile_bit_for_bit():
    rng = np.random.default_rng(7)
    for size in (1, 2, 3, 19, 4608, 9216):
        for _ in range(20):
            values = (rng.random(size) * 255).astype(np.float32)
            if rng.random() < 0.5:
                values = np.round(values)  # ties, as flat walls give
            assert np.array_equal(exposure_quantiles(values), np.percentile(values, EXPOSURE_QUANTILES))


def test_a_view_that_moved_keeps_every_quantile_in_the_fit() -> None:
    """One quantile off the map is forgiven on a still view; on one that moved (new content in view) it is not."""
    was = np.array([50.0, 67, 73, 77, 82, 88, 94, 101, 110, 118, 131, 169, 174, 177, 179, 182, 187])
    one = 1.3 * was - 20.0
    one[10] += 9.0
    assert _fit_exposure(was, one)[2] < 1e-6
    assert _fit_exposure(was, one, leave_out=False)[2] > ForegroundSettings().max_misfit


def test_the_view_shift_is_found_and_noise_is_no_shift() -> None:
    rng = np.random.default_rng(3)
    texture = rng.random((80, 140)).astype(np.float32) * 200
    before = texture[4:76, 6:134]
    panned = texture[1:73, 2:130]  # the camera moved: the content shifted by (3, 4) pixels
    noisy = before + rng.normal(0, 3.0, before.shape).astype(np.float32)
    assert _view_shift(_spectrum(panned), _spectrum(before), before.shape, 16) == (3, 4)
    assert _view_shift(_spectrum(noisy), _spectrum(before), before.shape, 16) == (0, 0)
