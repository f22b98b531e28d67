"""The streaming KTS cut: the field's change points, committed a fixed delay late, never moved."""

from __future__ import annotations

import numpy as np
import pytest

from vgsum.models.eval.kts import kts_shots
from vgsum.runtime.summary.shot_kts import KernelShotCutter
from vgsum.runtime.summary.shots import OnlineShotDetector, online_shots


def _scenes(rng: np.random.Generator, n_scenes: int, dim: int = 32, noise: float = 0.3) -> tuple[np.ndarray, list[int]]:
    """Piecewise-constant features (scenes 2..6 frames long, mean 4) under noise; the true scene starts."""
    lengths = rng.integers(2, 7, size=n_scenes)
    centres = rng.normal(size=(n_scenes, dim))
    features = np.repeat(centres, lengths, axis=0) + noise * rng.normal(size=(lengths.sum(), dim))
    return features, np.cumsum(lengths)[:-1].tolist()


def _run(cutter: KernelShotCutter, features: np.ndarray) -> tuple[list[int], list[tuple[int, int]]]:
    """All committed starts, and (start, frames pushed when it was committed) for each."""
    starts, when = [], []
    for t, feature in enumerate(features, start=1):
        for start in cutter.push(feature):
            starts.append(start)
            when.append((start, t))
    starts += cutter.flush()
    return starts, when


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_recovers_the_scene_changes_offline_kts_finds(seed: int) -> None:
    rng = np.random.default_rng(seed)
    features, truth = _scenes(rng, 120)
    starts, _ = _run(KernelShotCutter(mean_len=len(features) / 120, max_len=12, delay=20, horizon=200), features)
    offline = kts_shots(features, n_segments=120)[1:, 0].tolist()
    recall = np.mean([b in set(starts) for b in truth])
    agree = np.mean([b in set(starts) for b in offline])
    assert recall >= 0.95, f"found {recall:.0%} of the scene changes"
    assert agree >= 0.95, f"agrees with offline KTS on {agree:.0%} of its boundaries"
    assert abs(len(starts) - len(truth)) <= 0.05 * len(truth)


def test_boundaries_are_committed_delay_frames_late_and_never_move() -> None:
    rng = np.random.default_rng(3)
    features, _ = _scenes(rng, 80)
    delay = 15
    starts, when = _run(KernelShotCutter(mean_len=4, max_len=8, delay=delay, horizon=100, min_len=2), features)
    assert starts == sorted(set(starts)), "committed starts come once each, in order"
    assert all(start <= t - delay for start, t in when)
    edges = [0, *starts, len(features)]
    lengths = np.diff(edges)
    assert lengths.min() >= 2 and lengths.max() <= 8


def test_the_penalty_follows_the_shot_rate_on_unstructured_input() -> None:
    rng = np.random.default_rng(4)
    features = rng.normal(size=(600, 16))  # no scenes at all: only the rate says where to cut
    for mean_len in (3.0, 6.0):
        starts, _ = _run(KernelShotCutter(mean_len=mean_len, max_len=16, delay=20, horizon=200), features)
        assert 0.8 * mean_len <= len(features) / (len(starts) + 1) <= 1.25 * mean_len


def test_a_constant_stream_is_cut_only_by_the_longest_shot() -> None:
    starts, _ = _run(KernelShotCutter(mean_len=4, max_len=10, delay=12, horizon=60), np.ones((95, 8)))
    assert np.diff([0, *starts, 95]).max() <= 10


def test_bad_settings_are_refused() -> None:
    for kwargs in ({"mean_len": 0.5, "max_len": 4, "delay": 1, "horizon": 10},
                   {"mean_len": 5, "max_len": 4, "delay": 1, "horizon": 10},
                   {"mean_len": 2, "max_len": 4, "delay": -1, "horizon": 10}):
        with pytest.raises(ValueError):
            KernelShotCutter(**kwargs)


def test_the_threshold_detector_speaks_the_same_interface() -> None:
    features = _scenes(np.random.default_rng(5), 30)[0]
    detector = OnlineShotDetector(0.3, 1, 8)
    starts = [s for f in features for s in detector.push(f)] + detector.flush()
    assert [0, *starts] == online_shots(features, 0.3, 1, 8)[:, 0].tolist()


def test_shots_keep_their_bounds_when_few_lengths_fit() -> None:
    features = np.random.default_rng(6).normal(size=(203, 8))  # 6 or 7 frames cannot be cut into 4-5 frame shots
    starts, _ = _run(KernelShotCutter(mean_len=4.5, max_len=5, delay=10, horizon=80, min_len=4), features)
    lengths = np.diff([0, *starts, len(features)])
    assert lengths.min() >= 4 and lengths.max() <= 5, lengths
