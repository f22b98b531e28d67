"""Camera nuisances as pixel effects: each does what it says, within its bounds, the same on every call."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from vgsum.models.data.camera_nuisance import (
    CHROMA_GREY,
    LUMA_BLACK,
    LUMA_WHITE,
    NUISANCES,
    NuisanceConfig,
    apply_nuisances,
    clock_overlay,
    clock_text,
    draw_params,
    exposure,
    exposure_at,
    night_mode,
    planes,
    sensor_noise,
    shake,
    shake_offset,
    text_masks,
)

W, H = 640, 360


def scene(seed: int = 0) -> np.ndarray:
    """A yuv420p frame with structure everywhere (a shift or a level change shows) and colour in its chroma."""
    rng = np.random.default_rng(seed)
    yuv = np.empty((H * 3 // 2, W), dtype=np.uint8)
    luma, u, v = planes(yuv, W, H)
    luma[:] = rng.integers(40, 200, (H, W), dtype=np.uint8)
    u[:] = rng.integers(90, 110, u.shape, dtype=np.uint8)
    v[:] = rng.integers(150, 170, v.shape, dtype=np.uint8)
    return yuv


def params(kinds: list, duration_s: float = 3600.0, seed: int = 5, **config: object):
    return draw_params(NuisanceConfig(kinds=kinds, **config), seed, duration_s, W, H)


def test_clock_shows_whole_seconds_and_changes_at_each() -> None:
    p = params(["clock"])
    assert clock_text(10.0, p) == clock_text(10.99, p) != clock_text(11.0, p)
    assert clock_text(11.0, p)[-2:] != clock_text(10.0, p)[-2:]  # the seconds digits are what changed
    frame = scene()
    same = [clock_overlay(frame, t, p) for t in (10.1, 10.5, 10.93)]
    assert all(np.array_equal(same[0], other) for other in same[1:])
    for t in np.arange(0.0, 70.0, 1.0):  # a minute's turn too
        before, after = clock_overlay(frame, t + 0.9, p), clock_overlay(frame, t + 1.0, p)
        changed = np.argwhere(planes(before, W, H)[0] != planes(after, W, H)[0])
        assert len(changed) > 0, f"the clock did not change at {t + 1:.0f} s"
        assert changed[:, 0].max() < 40  # only in the clock's line at the top, not the name at the bottom
    luma = planes(same[0], W, H)[0]
    assert (luma == LUMA_WHITE).sum() > 500 and (luma == LUMA_BLACK).sum() > 500
    assert np.array_equal(planes(same[0], W, H)[0][60:300], planes(frame, W, H)[0][60:300])  # the scene untouched


def test_camera_name_is_drawn_bottom_right_and_undrawable_names_are_refused() -> None:
    p = params(["clock"], camera_name="GATE 7")
    drawn = planes(clock_overlay(scene(), 0.0, p), W, H)[0] != planes(scene(), W, H)[0]
    rows, cols = np.nonzero(drawn[H // 2 :, :])
    assert len(rows) > 200 and cols.min() > W // 2
    ink, outline = text_masks("GATE 7", 2)
    assert ink.shape == (18, (6 * 6 - 1 + 2) * 2) and not (ink & outline).any()
    with pytest.raises(ValidationError, match="font has no"):
        NuisanceConfig(kinds=["clock"], camera_name="cam é")
    with pytest.raises(ValidationError, match="listed twice"):
        NuisanceConfig(kinds=["clock", "clock"])


def test_night_mode_is_grey_and_brighter_from_its_switch_on() -> None:
    p = params(["ir"], duration_s=100.0)
    assert p.ir_at is not None and 35 <= p.ir_at <= 65
    frame = scene()
    assert np.array_equal(night_mode(frame, p.ir_at - 0.01, p), frame)
    luma, u, v = planes(night_mode(frame, p.ir_at, p), W, H)
    assert (u == CHROMA_GREY).all() and (v == CHROMA_GREY).all()
    expected = np.clip(np.rint(planes(frame, W, H)[0] * p.ir_gain), 0, 255)
    assert np.array_equal(luma, expected)
    assert luma.mean() > planes(frame, W, H)[0].mean() * 1.2


def test_shake_stays_within_its_bound_and_moves_the_whole_view() -> None:
    p = params(["shake"], shake_px=3.0)
    offsets = np.array([shake_offset(t, p) for t in np.arange(0, 600, 1 / 15)])
    assert np.abs(offsets).max() <= 3
    assert np.abs(offsets[:, 0]).max() == 3 and np.abs(offsets[:, 1]).max() == 3  # it does reach it
    assert len({tuple(o) for o in offsets}) > 20  # periodic wobble, not a fixed offset
    frame = scene()
    t = next(t for t in np.arange(0, 60, 1 / 15) if all(shake_offset(t, p)))
    dx, dy = shake_offset(t, p)
    luma = planes(shake(frame, t, p), W, H)[0]
    src = planes(frame, W, H)[0]
    assert np.array_equal(luma[8:-8, 8:-8], src[8 - dy : H - 8 - dy, 8 - dx : W - 8 - dx])
    # At 720p the offsets scale with the picture.
    big = draw_params(NuisanceConfig(kinds=["shake"], shake_px=3.0), 5, 3600.0, 1280, 720)
    assert max(abs(c) for t in np.arange(0, 60, 0.05) for c in shake_offset(t, big)) == 6


def test_sensor_noise_has_its_sigma_is_fresh_each_frame_and_repeats_per_time() -> None:
    p = params(["noise"], noise_sigma=3.0)
    flat = np.full((H * 3 // 2, W), 128, dtype=np.uint8)
    first = sensor_noise(flat, 1.0, p).astype(np.int16) - 128
    luma, u, v = planes(first, W, H)
    assert luma.std() == pytest.approx(3.0, rel=0.05) and abs(luma.mean()) < 0.05
    assert u.std() == pytest.approx(1.5, rel=0.08) and v.std() == pytest.approx(1.5, rel=0.08)
    second = planes(sensor_noise(flat, 1.0 + 1 / 15, p).astype(np.int16) - 128, W, H)[0]
    assert abs(np.corrcoef(luma.ravel(), second.ravel())[0, 1]) < 0.02  # a new draw, not the same pattern
    assert np.array_equal(sensor_noise(flat, 1.0, p), sensor_noise(flat, 1.0, p))
    night = params(["ir", "noise"], duration_s=10.0, noise_sigma=3.0)
    grey = planes(sensor_noise(flat, 9.0, night), W, H)
    assert (grey[1] == 128).all() and grey[0].std() > 2.5  # no colour noise on an IR picture


def test_exposure_drifts_and_hunts_within_its_range() -> None:
    p = params(["exposure"], duration_s=4 * 3600.0, drift=0.15, hunt=0.25, hunt_every_s=600.0)
    assert 12 <= len(p.hunts) <= 40
    times = np.arange(0, 4 * 3600.0, 0.25)
    gains, contrasts = np.array([exposure_at(t, p) for t in times]).T
    assert gains.min() >= 1 - 0.4 - 1e-9 and gains.max() <= 1 + 0.4 + 1e-9
    assert contrasts.min() >= 1 - 0.2 - 1e-9 and contrasts.max() <= 1 + 0.2 + 1e-9
    in_hunt = np.zeros(len(times), dtype=bool)
    for hunt in p.hunts:
        in_hunt |= (times >= hunt.start) & (times < hunt.start + hunt.length)
    assert np.abs(gains[~in_hunt] - 1).max() <= 0.15 + 1e-9 and np.abs(gains[~in_hunt] - 1).max() > 0.1  # slow drift
    calm = ~in_hunt[1:] & ~in_hunt[:-1]
    assert np.abs(np.diff(gains)[calm]).max() < 0.0005  # slow: under 0.05 % per 0.25 s outside hunts
    swing = max(np.ptp(gains[(times >= h.start) & (times < h.start + h.length)]) for h in p.hunts)
    assert swing > 0.2  # a hunt swings the picture within seconds
    frame = scene()
    hunt = p.hunts[0]
    t = max(np.arange(hunt.start, hunt.start + hunt.length, 0.05), key=lambda s: exposure_at(s, p)[0])
    brighter = planes(exposure(frame, t, p), W, H)
    gain, contrast = exposure_at(t, p)
    assert gain > 1.1
    src = planes(frame, W, H)[0].astype(np.float64)
    assert np.abs(brighter[0] - np.clip((src * gain - 128) * contrast + 128, 0, 255)).max() <= 0.5 + 1e-9
    assert np.array_equal(brighter[1], planes(frame, W, H)[1])


def test_each_effect_draws_its_own_parameters_so_all_together_is_their_composition() -> None:
    every = params(list(NUISANCES), duration_s=600.0)
    assert every.ir_at is not None and every.ir_at > 150
    frame = scene()
    composed = frame
    for kind in NUISANCES:  # the camera's order, as `kinds` keeps it
        composed = apply_nuisances(composed, 100.0, params([kind], duration_s=600.0))
    assert np.array_equal(apply_nuisances(frame, 100.0, every), composed)
    assert all(shake_offset(100.0, every)) and exposure_at(100.0, every) != (1.0, 1.0)  # all of them at work
    # The one interaction: after the switch to night mode the sensor's noise stays grey too.
    _, u, v = planes(apply_nuisances(frame, 300.0, every), W, H)
    assert (u == CHROMA_GREY).all() and (v == CHROMA_GREY).all()
    assert params(list(reversed(NUISANCES))).kinds == NUISANCES  # listed in any order, applied in the camera's
    assert params(list(NUISANCES), seed=6) != params(list(NUISANCES), seed=5)
    assert params(list(NUISANCES)) == params(list(NUISANCES))


def test_effects_never_touch_their_input() -> None:
    p = params(list(NUISANCES), duration_s=60.0)
    frame = scene()
    kept = frame.copy()
    for t in (0.0, 20.0, 45.0, 59.9):
        apply_nuisances(frame, t, p)
    assert np.array_equal(frame, kept)
