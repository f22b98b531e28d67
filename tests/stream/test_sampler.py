"""PtsSampler: the target rate by presentation time, through VFR, duplicates and pts jumps."""

from __future__ import annotations

import random

import pytest

from vgsum.stream.sampler import PtsSampler


def kept(sampler: PtsSampler, times: list[float]) -> list[float]:
    return [t for t in times if sampler.accept(t)]


@pytest.mark.parametrize("src_fps", [25.0, 29.97, 30.0, 60.0, 12.5])
def test_constant_rate_gives_target_rate(src_fps):
    times = [i / src_fps for i in range(int(src_fps * 20))]  # 20 s
    out = kept(PtsSampler(2.0), times)
    assert len(out) == 40
    steps = [b - a for a, b in zip(out, out[1:], strict=False)]
    assert max(abs(s - 0.5) for s in steps) <= 1.0 / src_fps + 1e-9


def test_variable_frame_rate_keeps_mean_rate():
    rng = random.Random(7)
    t, times = 0.0, []
    while t < 30.0:
        times.append(t)
        t += rng.choice([1 / 60, 1 / 30, 1 / 15, 0.1])  # bursts and slow stretches
    out = kept(PtsSampler(2.0), times)
    assert 58 <= len(out) <= 61
    steps = [b - a for a, b in zip(out, out[1:], strict=False)]
    assert min(steps) >= 0.5 - 0.1 - 1e-9 and max(steps) <= 0.5 + 0.1 + 1e-9


def test_slow_source_keeps_every_frame():
    times = [i * 1.0 for i in range(10)]  # 1 fps source sampled at 2 fps
    assert kept(PtsSampler(2.0), times) == times


def test_forward_jump_reanchors_without_burst():
    times = [i / 25 for i in range(100)] + [100 + i / 25 for i in range(100)]  # 4 s, then jump to t=100
    s = PtsSampler(2.0)
    out = kept(s, times)
    assert s.jumps == 1
    after = [t for t in out if t >= 100]
    assert after[0] == 100  # first frame after the jump is kept at once
    assert len(after) == 8  # no catch-up burst for the 96 skipped seconds
    assert len(out) == 16


def test_backward_jump_loop_or_camera_restart_is_not_silence():
    times = [i / 25 for i in range(250)] + [i / 25 for i in range(250)]  # a file looped: pts back to 0
    s = PtsSampler(2.0)
    out = kept(s, times)
    assert s.jumps == 1
    assert len(out) == 40  # 20 per pass, the second pass not swallowed


def test_duplicates_and_small_reorder_are_skipped():
    times = [0.0, 0.0, 0.5, 0.5, 0.48, 1.0, 1.0]
    assert kept(PtsSampler(2.0), times) == [0.0, 0.5, 1.0]


def test_reset_starts_a_new_schedule():
    s = PtsSampler(2.0)
    assert s.accept(5.0) and not s.accept(5.1)
    s.reset()
    assert s.accept(5.1)


def test_rejects_nonpositive_rate():
    with pytest.raises(ValueError):
        PtsSampler(0)
