"""Perception features of real clips: sampled by timestamp, consistent, cached, and bad files skipped."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def test_features_of_a_real_clip_are_consistent(bikes_features, bikes_mp4: Path, footage_engines: Path) -> None:
    from vgsum.models.data.video_features import extract_features
    from vgsum.runtime.common.digest import sha256_of

    (clip,), cache = bikes_features
    T = clip.steps
    assert 19 <= T <= 21  # 10 s at 2 fps by timestamps
    assert np.all(np.diff(clip.times) > 0.45) and np.all(np.diff(clip.times) < 0.55)
    assert abs(clip.duration_s - 10.0) < 0.2
    assert clip.frame_features.shape == (T, 1280)
    N = clip.boxes.shape[1]
    assert clip.object_features.shape[:2] == (T, N) and clip.classes.shape == (T, N) and clip.counts.shape == (T,)
    assert np.isfinite(clip.frame_features).all() and np.isfinite(clip.object_features).all()
    assert clip.counts.sum() > 0 and clip.counts.max() <= N
    for t in range(T):  # rows past the count are zero, rows before it are real boxes
        n = clip.counts[t]
        assert not clip.object_features[t, n:].any() and not clip.scores[t, n:].any()
        assert (clip.boxes[t, :n, 2] >= clip.boxes[t, :n, 0]).all() and (clip.boxes[t, :n] >= -1e-3).all()
    assert clip.sha256 == sha256_of(bikes_mp4)
    assert {0, 2} <= set(clip.classes[clip.scores > 0].tolist())  # bikes.mp4 shows people (0) and cars (2)
    files = list(cache.glob("*.npz"))
    assert len(files) == 1
    (again,) = extract_features([bikes_mp4], engines=footage_engines, cache_dir=cache, progress=False)  # cached
    np.testing.assert_array_equal(again.frame_features, clip.frame_features)
    np.testing.assert_array_equal(again.classes, clip.classes)


def test_unreadable_file_is_skipped_with_one_warning(footage_engines: Path, tmp_path: Path, capsys) -> None:
    from vgsum.models.data.video_features import extract_features

    bad = tmp_path / "not-a-video.mp4"
    bad.write_bytes(b"this is not a video")
    clips = extract_features([bad], engines=footage_engines, cache_dir=tmp_path / "cache", progress=False)
    assert clips == []
    lines = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(lines) == 1 and "not-a-video.mp4" in lines[0]


def test_sampling_follows_timestamps_not_the_wrong_frame_rate_tag(shared_data: Path) -> None:
    """sam2-04-coffee.mp4's avg_frame_rate tag reads 1.79 (CREDITS.md) but it runs ~30 fps for 9.6 s: 2 fps by
    timestamp gives ~20 frames half a second apart."""
    from vgsum.models.data.video_features import decode_sampled

    clip = shared_data / "footage" / "sam2-04-coffee.mp4"
    frames, times, duration = decode_sampled(clip, 2.0)
    assert 19 <= len(frames) <= 20 and abs(duration - 9.58) < 0.2
    assert np.allclose(np.diff(times), 0.5, atol=0.05)
    assert frames[0].shape == (720, 1280, 3) and frames[0].dtype == np.uint8
