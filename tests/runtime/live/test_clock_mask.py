"""A motion mask over a built camera stream's burned-in clock silences it.

The camera-like builder burns a date and time into the top left of the room stream, changing
every second (models/data/camera_nuisance.py). Through the foreground model, sampled at 2 fps
as the live path samples it, the clock's changing digits show as foreground pixels on its line;
with a mask drawn over that line none are left there, the empty room reads as it does in the
same stream built without the clock, and the room's visits still read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vgsum.models.data.camera_streams import CAMERA_RECIPES
from vgsum.models.data.event_streams import build_stream, with_quiet
from vgsum.models.data.events import frame_labels, load_ground_truth
from vgsum.models.eval.baselines import sampled_frames
from vgsum.runtime.summary.foreground import ForegroundModel
from vgsum.runtime.summary.regions import rasterise

pytestmark = pytest.mark.slow

CLOCK_LINE = [(0.0, 0.0), (0.6, 0.0), (0.6, 0.09), (0.0, 0.09)]  # the OSD's date and time, with its outline


def _activity(path: Path, masks: list) -> tuple[np.ndarray, np.ndarray, int]:
    """Per sampled frame: its time and activity signal; and the foreground pixels seen on the clock's line."""
    model = ForegroundModel(2.0, masks=masks)
    times, activity, on_clock = [], [], 0
    for t, rgb in sampled_frames(path):
        times.append(t)
        activity.append(max(0.6 * model.update(rgb), model.moving))
        if model.mask is not None:
            on_clock += int((model.mask & rasterise([CLOCK_LINE], model.mask.shape)).sum())
    return np.asarray(times), np.asarray(activity), on_clock


def test_a_mask_over_the_clock_silences_it_and_keeps_the_visits(tmp_path: Path, shared_data: Path) -> None:
    streams = {}
    for name in ("cam-sub-quiet4h-clock", "cam-sub-quiet4h-clean"):  # the same frames, with and without the clock
        built = build_stream(with_quiet(CAMERA_RECIPES[name], 30.0), tmp_path / "cache")
        streams[name] = (built, load_ground_truth(built.truth_path, [built.path.parent])[built.path.name])
    clock, truth = streams["cam-sub-quiet4h-clock"]
    times, loud, seen_plain = _activity(clock.path, [])
    _, quiet, seen_masked = _activity(clock.path, [CLOCK_LINE])
    _, control, _ = _activity(streams["cam-sub-quiet4h-clean"][0].path, [])
    labels = frame_labels(truth, times)
    empty = (labels == 0) & (times > 5.0)  # past the first frames, where every model still learns the scene
    assert empty.sum() > 20, "too little empty room to judge"
    assert seen_plain > 0 and seen_masked == 0  # unmasked, the digits' changes are foreground; masked, never
    assert abs(np.mean(quiet[empty]) - np.mean(control[empty])) < 0.01  # the empty room reads as without a clock
    assert np.mean(quiet[labels == 1]) > 0.3  # the mask hides the clock, not the people
