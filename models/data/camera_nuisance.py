"""What a real camera adds to any scene, as pixel effects on the frames of built streams.

A fixed camera's picture changes when nothing happens: the on-screen clock ticks, auto
exposure drifts with the daylight and hunts after a change of light, the sensor adds
fresh noise to every frame, the pole sways, and at dusk the camera switches to infrared
(greyscale, and the illuminator steps the brightness). None of that is an event, and a
summarizer that raises highlights on it floods its owner. Each effect here is a pure
function of (frame, time, seeded parameters), so a stream is the same bytes on every
build, every effect can be measured alone, and "all together" is exactly the
composition of the single ones (each effect draws its parameters from its own seed).

Frames are yuv420p arrays as PyAV hands them out (`[H * 3 / 2, W]`, planes one after
the other): the effects work on the luma and chroma planes where a camera does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

# Changes whenever an effect's pixels would change: built streams with nuisances then rebuild
# (it is part of their cache hash), the clean ones stay.
EFFECTS_VERSION = 1
Nuisance = Literal["clock", "exposure", "noise", "shake", "ir"]
# The order effects are applied in, which is a camera's: the mount moves the view, auto
# exposure sets the levels, night mode drops the colour, the sensor adds noise, and the
# on-screen display is drawn last, on top of everything.
NUISANCES: tuple[Nuisance, ...] = ("shake", "exposure", "ir", "noise", "clock")
# Each effect's parameters come from its own stream of the recipe's seed (seed, this tag, effect).
SEED_TAG = 0xCA3E7A
CLOCK_FORMAT = "%Y-%m-%d %H:%M:%S"
# Clocks start on a seeded day of the second half of 2026, at a seeded time of day.
CLOCK_EPOCH = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
LUMA_BLACK, LUMA_WHITE, CHROMA_GREY = 16, 235, 128
# Sensor noise comes from a bank of this many random fields, each this many pixels wider and taller than a plane.
NOISE_BANK, NOISE_MARGIN = 16, 64

# A 5x7 bitmap font (rows top to bottom, "1" = ink) for the clock and camera names:
# drawn here rather than with a font library, so a stream's bytes do not depend on its version.
_GLYPHS = {
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110",
    "9": "01110 10001 10001 01111 00001 00010 01100",
    "A": "01110 10001 10001 11111 10001 10001 10001",
    "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110",
    "D": "11100 10010 10001 10001 10001 10010 11100",
    "E": "11111 10000 10000 11110 10000 10000 11111",
    "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111",
    "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110",
    "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001",
    "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001",
    "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110",
    "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101",
    "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110",
    "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110",
    "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010",
    "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 10001 01010 00100 00100 00100",
    "Z": "11111 00001 00010 00100 01000 10000 11111",
    "-": "00000 00000 00000 11111 00000 00000 00000",
    ":": "00000 01100 01100 00000 01100 01100 00000",
    ".": "00000 00000 00000 00000 00000 01100 01100",
    "/": "00001 00010 00010 00100 01000 01000 10000",
    " ": "00000 00000 00000 00000 00000 00000 00000",
}
FONT = {c: np.array([[b == "1" for b in row] for row in rows.split()], dtype=bool) for c, rows in _GLYPHS.items()}


class NuisanceConfig(BaseModel):
    """Which nuisances a stream gets and how strong they are; the seed draws the rest (phases, times)."""

    model_config = ConfigDict(extra="forbid")

    kinds: list[Nuisance] = Field(min_length=1)
    camera_name: str = Field("CAM 01", min_length=1, max_length=24)
    noise_sigma: float = Field(2.5, ge=0, le=20, description="luma levels (of 255) per frame; chroma gets half")
    shake_px: float = Field(2.0, ge=0, le=16, description="peak offset per axis at 360 lines, scaled with the height")
    drift: float = Field(0.15, ge=0, le=0.5, description="peak slow change of the gain (contrast: half)")
    hunt: float = Field(0.25, ge=0, le=0.6, description="peak gain swing of an exposure hunt (contrast: half)")
    hunt_every_s: float = Field(600.0, gt=0, description="mean time between hunts (at least one per stream)")
    ir_gain: float = Field(1.35, ge=0.3, le=3.0, description="the brightness step when night mode switches on")

    @field_validator("kinds")
    @classmethod
    def _canonical(cls, kinds: list[Nuisance]) -> list[Nuisance]:
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"nuisances listed twice: {kinds}")
        return [k for k in NUISANCES if k in kinds]

    @field_validator("camera_name")
    @classmethod
    def _drawable(cls, name: str) -> str:
        missing = sorted({c for c in name if c not in FONT})
        if missing:
            raise ValueError(f"camera name {name!r}: the on-screen font has no {''.join(missing)!r} (A-Z 0-9 - : . /)")
        return name


@dataclass(frozen=True)
class Hunt:
    """One exposure hunt: from `start` for `length` seconds the gain swings at `freq` Hz, `amp` at its peak."""

    start: float
    length: float
    freq: float
    amp: float


@dataclass(frozen=True)
class NuisanceParams:
    """Everything the effects need, drawn once per stream from its seed (see `draw_params`)."""

    seed: int
    kinds: tuple[Nuisance, ...]
    width: int
    height: int
    camera_name: str = ""
    clock_start: float = 0.0  # unix seconds shown at stream time 0
    text_scale: int = 1  # font pixels per glyph pixel
    noise_sigma: float = 0.0
    shake_px: float = 0.0  # peak offset per axis, in output pixels
    shake_periods: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)  # x main, x fast, y main, y fast
    shake_phases: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    drift: float = 0.0
    drift_periods: tuple[float, float] = (1.0, 1.0)  # gain, contrast
    drift_phases: tuple[float, float] = (0.0, 0.0)
    hunts: tuple[Hunt, ...] = ()
    ir_at: float | None = None  # stream time of the switch to night mode
    ir_gain: float = 1.0

    def summary(self) -> dict[str, object]:
        """The facts a reader of the truth file needs to tell a nuisance from an event."""
        out: dict[str, object] = {"kinds": list(self.kinds)}
        if "clock" in self.kinds:
            out["clock_start"] = datetime.fromtimestamp(self.clock_start, UTC).strftime(CLOCK_FORMAT)
            out["camera_name"] = self.camera_name
        if "noise" in self.kinds:
            out["noise_sigma"] = self.noise_sigma
        if "shake" in self.kinds:
            out["shake_px"] = round(self.shake_px, 2)
        if "exposure" in self.kinds:
            out["drift"] = self.drift
            out["hunts_s"] = [[round(h.start, 1), round(h.start + h.length, 1)] for h in self.hunts]
        if "ir" in self.kinds and self.ir_at is not None:
            out["ir_switch_s"] = round(self.ir_at, 2)
            out["ir_gain"] = self.ir_gain
        return out


def _rng(seed: int, kind: Nuisance) -> np.random.Generator:
    return np.random.default_rng([seed, SEED_TAG, NUISANCES.index(kind)])


def draw_params(config: NuisanceConfig, seed: int, duration_s: float, width: int, height: int) -> NuisanceParams:
    """The stream's nuisance parameters: the same (config, seed, duration, size) always gives the same ones."""
    kinds = tuple(config.kinds)
    fields: dict[str, object] = {}
    if "clock" in kinds:
        rng = _rng(seed, "clock")
        fields |= {
            "camera_name": config.camera_name,
            "clock_start": float(CLOCK_EPOCH + int(rng.integers(0, 180)) * 86400 + int(rng.integers(0, 86400))),
            "text_scale": max(1, height // 180),
        }
    if "noise" in kinds:
        fields["noise_sigma"] = config.noise_sigma
    if "shake" in kinds:
        rng = _rng(seed, "shake")
        main, fast = rng.uniform(0.8, 2.5, 2), rng.uniform(0.25, 0.6, 2)
        fields |= {
            "shake_px": config.shake_px * height / 360,
            "shake_periods": (float(main[0]), float(fast[0]), float(main[1]), float(fast[1])),
            "shake_phases": tuple(float(p) for p in rng.uniform(0, 2 * math.pi, 4)),
        }
    if "exposure" in kinds:
        rng = _rng(seed, "exposure")
        hunts: list[Hunt] = []
        # Poisson-like hunts that never overlap; the first falls inside even a short stream.
        t = float(rng.uniform(0.1, 0.7)) * min(duration_s, config.hunt_every_s)
        while t < duration_s:
            length = float(rng.uniform(3.0, 8.0))
            hunts.append(Hunt(t, length, float(rng.uniform(0.4, 1.2)), config.hunt * float(rng.uniform(0.6, 1.0))))
            t += length + float(rng.exponential(config.hunt_every_s))
        fields |= {
            "drift": config.drift,
            "drift_periods": tuple(float(p) for p in rng.uniform(900.0, 2700.0, 2)),
            "drift_phases": tuple(float(p) for p in rng.uniform(0, 2 * math.pi, 2)),
            "hunts": tuple(hunts),
        }
    if "ir" in kinds:
        rng = _rng(seed, "ir")
        fields |= {"ir_at": float(rng.uniform(0.35, 0.65)) * duration_s, "ir_gain": config.ir_gain}
    return NuisanceParams(seed=seed, kinds=kinds, width=width, height=height, **fields)  # type: ignore[arg-type]


# -- the effects: each takes a yuv420p frame and returns a new one ------------------------------


def planes(yuv: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V planes of a yuv420p array (PyAV's layout: the planes one after the other)."""
    flat = yuv.reshape(-1)
    luma = width * height
    chroma = (width // 2) * (height // 2)
    return (
        flat[:luma].reshape(height, width),
        flat[luma : luma + chroma].reshape(height // 2, width // 2),
        flat[luma + chroma : luma + 2 * chroma].reshape(height // 2, width // 2),
    )


def shake_offset(t: float, p: NuisanceParams) -> tuple[int, int]:
    """The view's offset (dx, dy) in whole pixels at time `t`; never more than `shake_px` per axis."""
    px, fx, py, fy = p.shake_periods
    ax, bx, ay, by = p.shake_phases
    x = 0.7 * math.sin(2 * math.pi * t / px + ax) + 0.3 * math.sin(2 * math.pi * t / fx + bx)
    y = 0.7 * math.sin(2 * math.pi * t / py + ay) + 0.3 * math.sin(2 * math.pi * t / fy + by)
    return int(round(p.shake_px * x)), int(round(p.shake_px * y))


def _shift(plane: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """The plane moved by (dx, dy) pixels; the edge rows and columns fill what comes into view."""
    height, width = plane.shape
    moved = plane.take(np.clip(np.arange(height) - dy, 0, height - 1), axis=0)
    if dx == 0:
        return moved
    out = np.empty_like(moved)  # columns by slices: a gather along rows is ten times slower
    if dx > 0:
        out[:, dx:] = moved[:, : width - dx]
        out[:, :dx] = moved[:, :1]
    else:
        out[:, : width + dx] = moved[:, -dx:]
        out[:, width + dx :] = moved[:, -1:]
    return out


def shake(yuv: np.ndarray, t: float, p: NuisanceParams) -> np.ndarray:
    """The mount sways: the whole view moves by a few pixels, periodically (two sines per axis)."""
    dx, dy = shake_offset(t, p)
    out = yuv.copy()
    if dx == 0 and dy == 0:
        return out
    for src, dst, div in zip(planes(yuv, p.width, p.height), planes(out, p.width, p.height), (1, 2, 2), strict=True):
        dst[:] = _shift(src, int(dx / div), int(dy / div))
    return out


def exposure_at(t: float, p: NuisanceParams) -> tuple[float, float]:
    """(gain, contrast) of auto exposure at `t`: a slow drift plus, inside a hunt, a swing that swells and settles.

    Hunts never overlap, so the gain stays within 1 +- (drift + hunt) and the contrast within half that.
    """
    gain = p.drift * math.sin(2 * math.pi * t / p.drift_periods[0] + p.drift_phases[0])
    contrast = 0.5 * p.drift * math.sin(2 * math.pi * t / p.drift_periods[1] + p.drift_phases[1])
    for hunt in p.hunts:
        x = t - hunt.start
        if 0 <= x < hunt.length:
            swing = hunt.amp * math.sin(math.pi * x / hunt.length) * math.sin(2 * math.pi * hunt.freq * x)
            gain += swing
            contrast += 0.5 * swing
            break
    return 1.0 + gain, 1.0 + contrast


def exposure(yuv: np.ndarray, t: float, p: NuisanceParams) -> np.ndarray:
    """Auto exposure at work: luma levels scaled by the gain, then stretched about mid-grey by the contrast."""
    gain, contrast = exposure_at(t, p)
    levels = np.arange(256, dtype=np.float64)
    lut = np.clip(np.rint((levels * gain - 128.0) * contrast + 128.0), 0, 255).astype(np.uint8)
    out = yuv.copy()
    luma = planes(out, p.width, p.height)[0]
    luma[:] = lut.take(luma)
    return out


def night_mode(yuv: np.ndarray, t: float, p: NuisanceParams) -> np.ndarray:
    """From the switch on: no colour (grey chroma) and the infrared illuminator's brightness step."""
    out = yuv.copy()
    if p.ir_at is None or t < p.ir_at:
        return out
    luma, u, v = planes(out, p.width, p.height)
    lut = np.clip(np.rint(np.arange(256, dtype=np.float64) * p.ir_gain), 0, 255).astype(np.uint8)
    luma[:] = lut.take(luma)
    u[:] = CHROMA_GREY
    v[:] = CHROMA_GREY
    return out


def is_night(t: float, p: NuisanceParams) -> bool:
    """True when night mode is on at `t` (the frame is grey)."""
    return "ir" in p.kinds and p.ir_at is not None and t >= p.ir_at


@lru_cache(maxsize=4)
def noise_bank(seed: int, sigma: float, height: int, width: int) -> np.ndarray:
    """NOISE_BANK fields of Gaussian noise (rounded to whole levels, int8), NOISE_MARGIN larger than a plane.

    Drawing a frame's worth of normals costs more than encoding the frame; a window of a
    random field at a random offset is as fresh (the fields are i.i.d. in every pixel, so
    two windows at different offsets are independent) and costs a slice.
    """
    rng = np.random.default_rng([seed, SEED_TAG, NUISANCES.index("noise"), height, width])
    shape = (NOISE_BANK, height + NOISE_MARGIN, width + NOISE_MARGIN)
    return np.clip(np.rint(rng.standard_normal(shape, dtype=np.float32) * sigma), -127, 127).astype(np.int8)


def sensor_noise(yuv: np.ndarray, t: float, p: NuisanceParams) -> np.ndarray:
    """Fresh Gaussian noise on every frame: a window of the stream's noise bank picked by the frame's time.

    Luma gets `noise_sigma`, chroma half of it, and none in night mode (an IR picture is grey).
    The window depends on the time alone, so any frame rebuilds the same by itself.
    """
    rng = np.random.default_rng([p.seed, SEED_TAG, NUISANCES.index("noise"), int(round(t * 1000))])
    out = yuv.copy()
    targets = planes(out, p.width, p.height)
    sigmas = (p.noise_sigma,) if is_night(t, p) else (p.noise_sigma, p.noise_sigma / 2, p.noise_sigma / 2)
    for plane, sigma in zip(targets, sigmas, strict=False):
        height, width = plane.shape
        bank = noise_bank(p.seed, sigma, height, width)
        field, top, left = rng.integers(0, (NOISE_BANK, NOISE_MARGIN + 1, NOISE_MARGIN + 1))
        noise = bank[field, top : top + height, left : left + width]
        plane[:] = np.clip(plane.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    return out


@lru_cache(maxsize=8)
def text_masks(text: str, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """(ink, outline) masks of `text` in the 5x7 font at `scale`, with room for a one-glyph-pixel outline."""
    glyphs = [FONT[c] for c in text]
    gap = np.zeros((7, 1), dtype=bool)
    row = np.hstack([part for g in glyphs for part in (g, gap)][:-1]) if glyphs else np.zeros((7, 0), dtype=bool)
    ink = np.pad(row, 1).repeat(scale, axis=0).repeat(scale, axis=1)
    grown = ink.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            grown |= np.roll(np.roll(ink, dy * scale, axis=0), dx * scale, axis=1)
    return ink, grown & ~ink


def clock_text(t: float, p: NuisanceParams) -> str:
    """What the on-screen clock shows at stream time `t`: whole seconds, like a camera's."""
    return datetime.fromtimestamp(p.clock_start + math.floor(t), UTC).strftime(CLOCK_FORMAT)


def _burn(out: np.ndarray, text: str, p: NuisanceParams, top: int, left: int | None) -> None:
    """White text with a black outline at (top, left); `left` None puts it against the right edge."""
    ink, outline = text_masks(text, p.text_scale)
    margin = 4 * p.text_scale
    height, width = ink.shape
    top = min(max(0, top), p.height - height)
    left = p.width - width - margin if left is None else left
    left = min(max(0, left), p.width - width)
    luma, u, v = planes(out, p.width, p.height)
    box = luma[top : top + height, left : left + width]
    box[outline] = LUMA_BLACK
    box[ink] = LUMA_WHITE
    # The display's pixels are grey: chroma under any ink or outline pixel of a 2x2 block.
    drawn = ink | outline
    c_top, c_left = top // 2, left // 2
    c_height, c_width = (top + height + 1) // 2 - c_top, (left + width + 1) // 2 - c_left
    block = np.zeros((c_height * 2, c_width * 2), dtype=bool)
    block[top - 2 * c_top : top - 2 * c_top + height, left - 2 * c_left : left - 2 * c_left + width] = drawn
    covered = block.reshape(c_height, 2, c_width, 2).any(axis=(1, 3))
    for plane in (u, v):
        plane[c_top : c_top + c_height, c_left : c_left + c_width][covered] = CHROMA_GREY


def clock_overlay(yuv: np.ndarray, t: float, p: NuisanceParams) -> np.ndarray:
    """The on-screen display: date and time top left (changing every second), the camera's name bottom right."""
    out = yuv.copy()
    margin = 4 * p.text_scale
    _burn(out, clock_text(t, p), p, margin, margin)
    _burn(out, p.camera_name, p, p.height - 9 * p.text_scale - margin, None)
    return out


EFFECTS = {"shake": shake, "exposure": exposure, "ir": night_mode, "noise": sensor_noise, "clock": clock_overlay}


def apply_nuisances(yuv: np.ndarray, t: float, p: NuisanceParams) -> np.ndarray:
    """The frame as the camera would send it at stream time `t`; a new array (`yuv` may be shared)."""
    out = yuv
    for kind in p.kinds:
        out = EFFECTS[kind](out, t, p)
    return out if out is not yuv else yuv.copy()
