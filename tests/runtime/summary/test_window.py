"""The node ring: windows every S frames, frames leave in order, and no window ever spans a gap."""

from __future__ import annotations

import numpy as np
import pytest

from vgsum.runtime.summary.window import NodeRing


def _node(i: int, dim: int = 4) -> np.ndarray:
    return np.full(dim, float(i), dtype=np.float32)


def test_window_due_every_stride_and_frames_leave_oldest_first() -> None:
    ring = NodeRing(capacity=6, dim=4, stride=2)
    due, left = [], []
    for i in range(10):
        step = ring.push(_node(i), frame_index=i, media_time=i * 0.5)
        left += [f.frame_index for f in step.left]
        if step.window_due:
            win = ring.window()
            due.append(i)
            # chronological, contiguous, the last min(i+1, W) frames, node content matches its slot
            expected = list(range(max(0, i - 5), i + 1))
            assert win.frame_indices.tolist() == expected
            assert win.nodes[:, 0].tolist() == [float(k) for k in expected]
            assert np.allclose(win.media_times, np.array(expected) * 0.5)
    assert due == [1, 3, 5, 7, 9]
    assert left == [0, 1, 2, 3]  # 10 frames through a buffer of 6
    assert len(ring) == 6


def test_window_is_a_copy_that_does_not_move_with_the_ring() -> None:
    ring = NodeRing(capacity=3, dim=2, stride=1)
    for i in range(3):
        ring.push(_node(i, 2), i, float(i))
    win = ring.window()
    ring.push(_node(99, 2), 3, 3.0)
    assert win.frame_indices.tolist() == [0, 1, 2]
    assert win.nodes[:, 0].tolist() == [0.0, 1.0, 2.0]


def test_gap_flushes_the_epoch_and_never_mixes_frames() -> None:
    ring = NodeRing(capacity=8, dim=4, stride=4)
    for i in range(6):
        step = ring.push(_node(i), i, float(i))
        if step.window_due:
            ring.window()
    # frames 4, 5 arrived after the last window: the gap gives one closing window over them
    end = ring.gap("reconnect")
    assert end.tail_window is not None
    assert end.tail_window.epoch == 0
    assert end.tail_window.frame_indices.tolist() == [0, 1, 2, 3, 4, 5]
    assert [f.frame_index for f in end.left] == [0, 1, 2, 3, 4, 5]
    assert all(f.epoch == 0 for f in end.left)
    assert end.gap is not None and end.gap.last_frame_index == 5 and end.gap.reason == "reconnect"
    assert ring.epoch == 1 and ring.gap_count == 1 and len(ring) == 0

    # after a reconnect the source's frame counter and media time may start over
    windows = []
    for i in range(8):
        step = ring.push(_node(100 + i), i, 0.5 * i)
        if step.window_due:
            windows.append(ring.window())
    assert [w.epoch for w in windows] == [1, 1]
    for w in windows:
        assert w.nodes[:, 0].min() >= 100  # nothing from epoch 0
    assert windows[0].frame_indices.tolist() == [0, 1, 2, 3]


def test_gap_right_after_a_window_needs_no_tail_window_and_repeated_gaps_record_once() -> None:
    ring = NodeRing(capacity=4, dim=2, stride=2)
    for i in range(4):
        if ring.push(_node(i, 2), i, float(i)).window_due:
            ring.window()
    end = ring.gap("stall")
    assert end.tail_window is None
    assert len(end.left) == 4
    again = ring.gap("stall")
    assert again.gap is None and again.left == []
    assert ring.gap_count == 1 and len(ring.gaps) == 1


def test_close_flushes_without_recording_a_gap() -> None:
    ring = NodeRing(capacity=4, dim=2, stride=4)
    for i in range(3):
        ring.push(_node(i, 2), i, float(i))
    end = ring.close()
    assert end.tail_window is not None and len(end.tail_window) == 3
    assert [f.frame_index for f in end.left] == [0, 1, 2]
    assert ring.gap_count == 0


def test_every_frame_is_seen_by_a_window_before_it_leaves() -> None:
    rng = np.random.default_rng(0)
    ring = NodeRing(capacity=16, dim=3, stride=5)
    seen: set[int] = set()
    for index in range(200):
        if rng.random() < 0.03:
            end = ring.gap("reconnect")
            if end.tail_window is not None:
                seen.update(end.tail_window.frame_indices.tolist())
            assert all(f.frame_index in seen for f in end.left)
        step = ring.push(rng.standard_normal(3), index, index / 2)
        assert all(f.frame_index in seen for f in step.left)
        if step.window_due:
            win = ring.window()
            assert len(set(win.frame_indices.tolist())) == len(win)
            seen.update(win.frame_indices.tolist())


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError):
        NodeRing(capacity=4, dim=2, stride=5)
    ring = NodeRing(capacity=4, dim=2, stride=2)
    ring.push(_node(0, 2), 5, 0.0)
    with pytest.raises(ValueError, match="gap"):
        ring.push(_node(1, 2), 5, 0.5)
    with pytest.raises(ValueError, match="shape"):
        ring.push(np.zeros(3), 6, 1.0)

