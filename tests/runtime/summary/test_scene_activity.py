"""The activity half of the live score on busy scenes and on edited video.

Busy: something is always in view, so presence cannot tell the stand-out moments; the part of
the foreground that moves can. Edited: cuts come every few seconds and the camera moves, so the
background model never settles; the camera-compensated frame difference takes over.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from summary_feed import EpochFeed

from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.foreground import ForegroundModel, grey_small, steady_difference
from vgsum.runtime.summary.selection import build_summarizer
from vgsum.runtime.summary.summarizer import FrameInput, ScoreEvent

FPS = 2.0


def _texture(rng: np.random.Generator, h: int = 160, w: int = 288) -> np.ndarray:
    """A still, textured grey scene (smoothed noise: something phase correlation can lock on)."""
    noise = rng.normal(0, 1, (h, w))
    kernel = np.ones(9) / 9
    smooth = np.apply_along_axis(lambda r: np.convolve(r, kernel, "same"), 1, noise)
    smooth = np.apply_along_axis(lambda c: np.convolve(c, kernel, "same"), 0, smooth)
    return np.clip(128 + 60 * smooth / smooth.std(), 0, 255).astype(np.float32)


def _rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey.astype(np.uint8)[..., None], 3, axis=2)


def test_a_held_object_is_present_all_the_time_but_moving_only_while_it_moves() -> None:
    rng = np.random.default_rng(4)
    scene = _texture(rng)
    model = ForegroundModel(FPS)
    for _ in range(20):
        model.update(_rgb(scene + rng.normal(0, 2, scene.shape)))
    held, moved = [], []
    for i in range(16):  # a dark box, held still, then swung across the view
        x = 60 if i < 8 else 60 + 12 * (i - 7)
        frame = scene + rng.normal(0, 2, scene.shape)
        frame[50:110, x : x + 50] = 15
        model.update(_rgb(frame))
        (held if i < 8 else moved).append((model.share, model.moving))
    assert min(share for share, _ in held[1:]) > 0.03 and min(share for share, _ in moved) > 0.03
    assert max(m for _, m in held[1:]) < 0.1 < 0.8 < min(m for _, m in moved)


def test_a_camera_pan_is_undone_and_what_moves_against_it_is_not() -> None:
    rng = np.random.default_rng(5)
    world = _texture(rng, 72, 200)  # already at the analysis width: the pan is whole pixels
    before, after = world[:, 20:148], world[:, 24:152]  # the camera pans 4 px
    plain = float(np.abs(after - before).mean())
    panned = steady_difference(after, before, 16)
    assert panned < 0.05 * plain
    walker = after.copy()
    walker[20:60, 50:70] = 10  # a figure that moves against the panning scene
    assert steady_difference(walker, before, 16) > 0.25 * plain > 5 * panned


def test_update_grey_leaves_the_callers_frame_alone() -> None:
    rng = np.random.default_rng(6)
    frames = [grey_small(_rgb(_texture(rng)), 128) for _ in range(3)]
    copies = [f.copy() for f in frames]
    model = ForegroundModel(FPS)
    for f in frames:
        model.update_grey(f)
    for f, c in zip(frames, copies, strict=True):
        np.testing.assert_array_equal(f, c)


def _scores(frames: list[dict], **cfg) -> list[float]:
    out: list[ScoreEvent] = []
    summarizer = EpochFeed(build_summarizer(
        SummaryConfig(**{"activity_weight": 1.0, **cfg}),
        1,
        lambda nodes: np.zeros(len(nodes)),
        FPS,
        on_score=out.append,
        on_highlight=lambda e: None,
    ))
    for i, f in enumerate(frames):
        summarizer.add(
            FrameInput(
                media_time=i / FPS,
                epoch=f.get("epoch", 0),
                node=np.zeros(1),
                frame_feature=np.zeros(8),
                labels=[],
                query_match={},
                activity=f.get("activity", 0.0),
                motion=f.get("motion", 0.0),
                cut=f.get("cut", False),
                steady_motion=f.get("steady", 0.0),
            )
        )
    return [e.score for e in out]


def test_still_presence_scores_below_moving_presence_but_stays_up() -> None:
    scores = _scores([{"activity": 1.0, "motion": 0.0}, {"activity": 1.0, "motion": 0.9}], motion_gain=0.4)
    assert scores == pytest.approx([0.6, 0.9])


def test_cuts_every_few_seconds_switch_to_the_camera_compensated_difference() -> None:
    # presence high, compensated difference low: a fixed camera would score it, edited video not
    frame = {"activity": 1.0, "motion": 0.9, "steady": 0.2}
    cut = {**frame, "cut": True}
    frames = [frame, cut, frame, cut, frame, frame, cut, frame, frame]
    scores = _scores(frames, edited_cuts=3, edited_window_s=60.0)
    assert scores[:6] == pytest.approx([0.9] * 6)  # two cuts: still a camera; a cut holds the last value
    assert scores[6] == pytest.approx(0.9) and scores[7:] == pytest.approx([0.2, 0.2])  # the third: edited
    assert _scores(frames, edited_cuts=0)[7:] == pytest.approx([0.9, 0.9])  # 0 turns it off
    # cuts older than the window stop counting, and a reconnect forgets them
    spaced = [cut, *[frame] * 60, cut, *[frame] * 60, cut, frame]
    assert _scores(spaced, edited_cuts=3, edited_window_s=30.0)[-1] == pytest.approx(0.9)
    reconnect = [cut, frame, cut, frame, {**frame, "epoch": 1}, cut, frame]
    assert _scores(reconnect, edited_cuts=3)[-1] == pytest.approx(0.9)


def test_on_the_bundled_edited_clip_the_still_shot_scores_below_the_action(bikes_mp4: Path) -> None:
    """bikes.mp4 cuts five times in 10 s; its shot of a parked bicycle (8.6-9.68 s) is still but
    for a slight camera drift, every earlier shot has traffic or people moving."""
    from vgsum.models.eval.baselines import sampled_frames

    model = ForegroundModel(FPS)
    frames, times = [], []
    for t, rgb in sampled_frames(bikes_mp4, FPS):
        activity = model.update(rgb)
        frames.append({"activity": activity, "motion": model.moving, "cut": model.cut, "steady": model.steady})
        times.append(t)
    assert sum(f["cut"] for f in frames) >= 3
    times_a = np.asarray(times)
    still = (times_a >= 8.6) & (times_a <= 9.68)
    action = (times_a >= 3.5) & (times_a < 8.56)  # after the third cut, inside the annotated events
    edited = np.asarray(_scores(frames))
    assert edited[still].max() < np.median(edited[action]) - 0.1
    camera = np.asarray(_scores(frames, edited_cuts=0))  # the background never settles: all looks alike
    assert camera[still].max() > np.median(camera[action]) - 0.1
