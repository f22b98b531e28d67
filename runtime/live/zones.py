"""Which of a camera's zones a frame's objects and activity are in, and whether a highlight may start there.

An object is in a zone when its ground point (the middle of its box's bottom edge) is;
activity is in a zone when enough of the scene's foreground falls inside it, so a
person hidden from the detector still puts the zone in the highlight.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vgsum.runtime.engines.perception import FramePerception
from vgsum.runtime.live.config import ZoneConfig
from vgsum.runtime.summary.regions import contains, ground_point, rasterise

MIN_ZONE_PIXELS = 3  # foreground pixels (of the ~128-px analysis image) that put activity in a zone ...
MIN_ZONE_SHARE = 0.005  # ... or this share of the zone, whichever is more


class ZoneWatch:
    """One camera's zones, rasterised once per analysis size."""

    def __init__(self, zones: Sequence[ZoneConfig], required: Sequence[str] = ()) -> None:
        self.zones = list(zones)
        self.required = frozenset(required)
        self._rasters: dict[tuple[int, ...], list[np.ndarray]] = {}

    def seen(self, perceived: FramePerception, foreground: np.ndarray | None) -> frozenset[str]:
        """The zones this frame's objects stand in or its foreground covers."""
        if not self.zones:
            return frozenset()
        hits = {
            zone.name
            for zone in self.zones
            for box in perceived.boxes
            if contains(zone.polygon, *ground_point(box))
        }
        if foreground is not None and foreground.any():
            for zone, raster in zip(self.zones, self._rasters_for(foreground.shape), strict=True):
                needed = max(MIN_ZONE_PIXELS, MIN_ZONE_SHARE * raster.sum())
                if zone.name not in hits and np.count_nonzero(foreground & raster) >= needed:
                    hits.add(zone.name)
        return frozenset(hits)

    def may_start(self, zones: frozenset[str]) -> bool:
        """A highlight may start on a frame in these zones (always, when the camera requires none)."""
        return not self.required or bool(zones & self.required)

    def _rasters_for(self, shape: tuple[int, ...]) -> list[np.ndarray]:
        if shape not in self._rasters:
            self._rasters[shape] = [rasterise([z.polygon], (shape[0], shape[1])) for z in self.zones]
        return self._rasters[shape]
