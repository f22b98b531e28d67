"""Areas of a camera's view: polygons in relative coordinates, checked once and rasterised at any size.

A camera owner draws a polygon over a street, a neighbour's door or a burned-in clock in
coordinates from 0 to 1 across the frame, so the same config holds when the camera's
resolution changes. The live path rasterises each polygon at the size it works at (the
foreground model's small grey image) once per size, and asks whether an object's
ground point, the middle of its box's bottom edge (where a person or a car stands, as
NVR zones do), lies inside.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Point = tuple[float, float]


def check_polygon(points: Sequence[Sequence[float]]) -> list[Point]:
    """The polygon as (x, y) pairs; ValueError of one line when it has fewer than 3 corners, a coordinate
    outside 0-1, or edges that cross (a bow tie covers an area nobody meant)."""
    polygon = [(float(p[0]), float(p[1])) for p in points]
    if len(polygon) < 3:
        raise ValueError(f"a polygon needs at least 3 points, got {len(polygon)}")
    for x, y in polygon:
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError(f"point ({x:g}, {y:g}) lies outside the frame: coordinates go from 0 to 1")
    if _crosses_itself(polygon):
        raise ValueError("the polygon's edges cross each other; list its corners in order around it")
    if abs(_area(polygon)) < 1e-9:
        raise ValueError("the polygon has no area")
    return polygon


def rasterise(polygons: Sequence[Sequence[Point]], shape: tuple[int, int]) -> np.ndarray:
    """A [h, w] bool image, True where a pixel's centre lies inside any of the polygons."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w]
    px, py = (xs + 0.5) / w, (ys + 0.5) / h
    out = np.zeros(shape, bool)
    for polygon in polygons:
        out |= _inside(px, py, polygon)
    return out


def contains(polygon: Sequence[Point], x: float, y: float) -> bool:
    """Whether the point (relative coordinates) lies inside the polygon."""
    return bool(_inside(np.array([x]), np.array([y]), polygon)[0])


def ground_point(box: Sequence[float]) -> Point:
    """Where an object stands: the middle of its box's bottom edge (x1, y1, x2, y2 relative)."""
    return (float(box[0]) + float(box[2])) / 2.0, float(box[3])


def _inside(px: np.ndarray, py: np.ndarray, polygon: Sequence[Point]) -> np.ndarray:
    """Even-odd rule: a point is inside when a ray to its right crosses the boundary an odd number of times."""
    inside = np.zeros(px.shape, bool)
    n = len(polygon)
    for i in range(n):
        (x1, y1), (x2, y2) = polygon[i], polygon[(i + 1) % n]
        if y1 == y2:
            continue
        straddles = (y1 > py) != (y2 > py)
        cross_x = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        inside ^= straddles & (px < cross_x)
    return inside


def _edges(polygon: Sequence[Point]) -> list[tuple[Point, Point]]:
    return list(zip(polygon, [*polygon[1:], polygon[0]], strict=True))


def _area(polygon: Sequence[Point]) -> float:
    return 0.5 * sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in _edges(polygon))


def _crosses_itself(polygon: Sequence[Point]) -> bool:
    edges = _edges(polygon)
    n = len(edges)
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):  # neighbours share a corner
                continue
            if _segments_cross(*edges[i], *edges[j]):
                return True
    return False


def _segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    def turn(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    d1, d2, d3, d4 = turn(c, d, a), turn(c, d, b), turn(a, b, c), turn(a, b, d)
    return ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and 0 not in (d1, d2, d3, d4)
