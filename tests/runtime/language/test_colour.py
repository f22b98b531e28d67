"""Named colours of synthetic crops that look like camera footage: shading, a highlight, noise, road at the edges."""

from __future__ import annotations

import numpy as np
import pytest

from vgsum.runtime.language.colour import box_colour, named_colour

BASE = {
    "white": (235, 235, 232), "black": (25, 25, 28), "grey": (128, 130, 132), "red": (180, 30, 35),
    "orange": (230, 120, 20), "yellow": (225, 200, 40), "green": (40, 140, 60), "blue": (30, 60, 170),
    "brown": (110, 70, 35), "purple": (110, 40, 150), "pink": (230, 130, 180),
}  # fmt: skip


def car_like(rgb: tuple[int, int, int], seed: int = 0, size: int = 60) -> np.ndarray:
    """A patch of one paint: lit from the top (shade 1.15 to 0.6 down), a specular streak, a dark window, noise."""
    rng = np.random.default_rng(seed)
    shade = np.linspace(1.15, 0.6, size)[:, None, None]
    patch = np.clip(np.array(rgb, np.float32)[None, None, :] * shade, 0, 255) * np.ones((size, size, 1), np.float32)
    patch[size // 5 : size // 5 + 3, :] = 250.0  # a highlight on the roof
    patch[size // 2 : size // 2 + 6, size // 4 : 3 * size // 4] = 15.0  # a window in shadow
    patch += rng.normal(0, 6, patch.shape)
    return np.clip(patch, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("name", list(BASE))
def test_named_colour_of_shaded_noisy_paint(name: str) -> None:
    for seed in range(3):
        assert named_colour(car_like(BASE[name], seed)) == name


def test_the_box_middle_decides_not_the_road_around_it() -> None:
    frame = np.full((200, 300, 3), (70, 70, 72), np.uint8)  # asphalt
    frame[50:150, 100:200] = car_like(BASE["red"], size=100)
    # the detector's box is generous: a third of it is road
    assert box_colour(frame, (90 / 300, 40 / 200, 210 / 300, 160 / 200)) == "red"
    assert box_colour(frame, (0.0, 0.0, 0.2, 0.2)) == "grey"


def test_an_empty_box_has_no_colour() -> None:
    frame = np.zeros((10, 10, 3), np.uint8)
    assert named_colour(frame[:0]) is None
    assert box_colour(frame, (0.5, 0.5, 0.5, 0.5)) is not None  # a degenerate box still reads its one pixel


def test_light_metal_with_a_tint_is_grey_and_a_dark_red_stays_red() -> None:
    """parking-lot-cars.mp4: silver-green read "white" before the tint rule, the red car's shaded rear "brown"."""
    for seed in range(3):
        assert named_colour(car_like((205, 222, 218), seed)) == "grey"
        assert named_colour(car_like((240, 240, 240), seed)) == "white"
        assert named_colour(car_like((120, 20, 35), seed)) == "red"
