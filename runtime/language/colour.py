"""The named colour of an object, from its crop's pixels.

People ask for "a red car" or "someone in a white shirt"; the appearance features carry no
colour name, and a colour from pixels is cheap. What makes it hold up on camera footage:

- only the middle of the box counts (`inner`): a box's edges are road, wall or floor;
- shadows (dark pixels) carry no hue and highlights (bright, colourless pixels) are the
  sky's reflection, so hue is read only from pixels that are both lit and saturated;
- an object is chromatic when enough of its lit pixels are saturated; then its colour is
  the dominant hue, weighted by saturation (a dark orange is brown, a dark red stays red);
  else it is white, grey or black by how bright most of its pixels are (a white car in
  shade is still brighter than the asphalt around it, a black car with a highlight is still
  mostly dark), and a bright one with a faint tint is silver-grey, not white.
"""

from __future__ import annotations

import numpy as np

COLOURS = ("white", "grey", "black", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown")

# Hue bins in degrees (upper edge exclusive) -> name; red wraps around 360.
HUE_BINS: tuple[tuple[float, str], ...] = (
    (15.0, "red"), (40.0, "orange"), (70.0, "yellow"), (165.0, "green"), (255.0, "blue"), (290.0, "purple"),
    (335.0, "pink"), (360.0, "red"),
)  # fmt: skip
DARK = 0.18  # below this brightness a pixel is shadow: no hue
SATURATED = 0.28  # a lit pixel at least this saturated has a hue worth reading
CHROMATIC_SHARE = 0.3  # this share of lit pixels saturated makes the object chromatic
WHITE_ABOVE = 0.66  # the achromatic object's brightness (60th percentile) that reads white ...
BLACK_BELOW = 0.25  # ... or black; grey between
BROWN_BELOW = 0.55  # orange or red hues this dark (median brightness of the hued pixels) are brown
TINTED = 0.05  # a bright achromatic object this saturated (median of lit pixels) is light grey / silver, not white
MAX_SIDE = 48  # crops are subsampled to about this many pixels a side


def crop(rgb: np.ndarray, box: tuple[float, float, float, float], inner: float = 0.6) -> np.ndarray:
    """The middle `inner` share (per side length) of a normalised x1,y1,x2,y2 box, subsampled, as a view of `rgb`."""
    h, w = rgb.shape[:2]
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2 * w, (y1 + y2) / 2 * h
    half_w, half_h = max(1.0, (x2 - x1) * w * inner / 2), max(1.0, (y2 - y1) * h * inner / 2)
    left, right = int(max(0, cx - half_w)), int(min(w, np.ceil(cx + half_w)))
    top, bottom = int(max(0, cy - half_h)), int(min(h, np.ceil(cy + half_h)))
    patch = rgb[top:bottom, left:right]
    step = max(1, int(max(patch.shape[:2]) // MAX_SIDE))  # a colour needs no more than ~48x48 pixels
    return patch[::step, ::step]


def hsv(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue in degrees, saturation and value in [0, 1] of uint8 RGB pixels [..., 3] (flattened)."""
    rgb = pixels.reshape(-1, 3).astype(np.float32) / 255.0
    high, low = rgb.max(axis=1), rgb.min(axis=1)
    span = high - low
    sat = np.where(high > 0, span / np.maximum(high, 1e-6), 0.0)
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    safe = np.maximum(span, 1e-6)
    hue = np.where(high == r, ((g - b) / safe) % 6.0, np.where(high == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0))
    return (hue * 60.0) % 360.0, sat, high


def hue_name(hue: float) -> str:
    """The named colour of a hue in degrees."""
    for upper, name in HUE_BINS:
        if hue < upper:
            return name
    return "red"


def named_colour(pixels: np.ndarray) -> str | None:
    """One of COLOURS for a patch of uint8 RGB pixels [..., 3]; None for an empty patch."""
    if pixels.size == 0:
        return None
    hue, sat, val = hsv(pixels)
    lit = val >= DARK
    saturated = lit & (sat >= SATURATED)
    if lit.sum() >= 0.2 * len(val) and saturated.sum() >= CHROMATIC_SHARE * lit.sum():
        weights = sat[saturated]
        bins = np.histogram(hue[saturated], bins=36, range=(0.0, 360.0), weights=weights)[0]
        bins = bins + np.roll(bins, 1) + np.roll(bins, -1)  # a colour straddling a bin edge stays one colour
        peak = (int(np.argmax(bins)) + 0.5) * 10.0
        name = hue_name(peak)
        near = saturated & (np.abs((hue - peak + 180.0) % 360.0 - 180.0) <= 20.0)
        brownish = name == "orange" or (name == "red" and peak < 180.0)  # a dark red at 345 deg is still red
        if brownish and near.any() and float(np.median(val[near])) < BROWN_BELOW:
            return "brown"
        return name
    level = float(np.quantile(val, 0.6))
    if level >= WHITE_ABOVE:
        # a light metallic paint has a faint tint that white lacks (measured: white cars 0.012-0.038, a silver-green
        # one 0.039-0.079 median saturation of the lit pixels on parking-lot-cars.mp4)
        return "grey" if lit.any() and float(np.median(sat[lit])) >= TINTED else "white"
    return "black" if level < BLACK_BELOW else "grey"


def box_colour(rgb: np.ndarray, box: tuple[float, float, float, float], inner: float = 0.6) -> str | None:
    """The named colour of the object in a normalised box of an RGB frame (None when the box holds no pixels)."""
    return named_colour(crop(rgb, box, inner))
