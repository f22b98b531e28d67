"""The per-stream ring buffer of the last W node vectors that `refiner.window` reads.

Why a ring of preallocated slots: a node vector is produced once per sampled frame
(`refiner.frame`) and is read by about W/S windows; keeping the last W in one
preallocated array means no allocation per frame and a window is one gather.

Why epochs: a reconnect or a stall leaves a hole in the stream. A temporal graph
over frames from both sides of that hole would relate scenes that are not
neighbours in time, so a gap closes the current epoch: the frames still in the
buffer leave it (their scores become final after one last window over them),
the gap is recorded, and the next frame starts a new, empty window. A window
therefore never mixes frames of two epochs.

Usage, per sampled frame::

    step = ring.push(node, frame_index, media_time)
    for frame in step.left: finalize(frame)        # left the buffer: score is final
    if step.window_due: scores = refiner(ring.window())

and on a reconnect / stall::

    closing = ring.gap("reconnect")
    if closing.tail_window is not None: scores = refiner(closing.tail_window)
    for frame in closing.left: finalize(frame)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FrameSlot:
    """Which frame a node vector belongs to: the ingest frame index and its media time (s)."""

    frame_index: int
    media_time: float
    epoch: int


@dataclass(frozen=True)
class Window:
    """A chronological copy of the buffer's current epoch, the input of `refiner.window`.

    `nodes` is `[n, D]` with n <= W; `frame_indices` and `media_times` are `[n]`,
    oldest first. It is a copy, so the ring may move on while the refiner runs.
    """

    nodes: np.ndarray
    frame_indices: np.ndarray
    media_times: np.ndarray
    epoch: int

    def __len__(self) -> int:
        return int(self.nodes.shape[0])


@dataclass(frozen=True)
class PushResult:
    """What one `push` did: frames that left the buffer (their scores are now final) and whether a window is due."""

    left: list[FrameSlot]
    window_due: bool


@dataclass(frozen=True)
class Gap:
    """A recorded break in the stream: the epoch it closed and the last frame before it."""

    closed_epoch: int
    last_frame_index: int | None
    last_media_time: float | None
    reason: str


@dataclass(frozen=True)
class EpochEnd:
    """The result of `gap()` / `close()`: one last window over frames no window saw yet, then the frames that left."""

    tail_window: Window | None
    left: list[FrameSlot]
    gap: Gap | None = None


@dataclass
class _Cursor:
    start: int = 0  # slot of the oldest frame
    size: int = 0  # frames held (all of the current epoch)
    since_window: int = 0  # frames pushed since the last window was taken
    unseen: int = 0  # frames at the end that no window has covered yet
    last_index: int | None = None
    last_time: float | None = None


class NodeRing:
    """Ring buffer of the last `capacity` (W) node vectors of one stream, one epoch at a time.

    Not thread-safe: one stream's pipeline task owns it.
    """

    def __init__(self, capacity: int, dim: int, stride: int, dtype: np.dtype | type = np.float32, max_gaps: int = 256):
        if capacity < 1 or dim < 1 or stride < 1:
            raise ValueError(f"capacity, dim and stride must be >= 1, got {capacity}, {dim}, {stride}")
        if stride > capacity:
            # A frame would leave before any window saw it.
            raise ValueError(f"stride S={stride} must not exceed the window W={capacity}")
        self.capacity = capacity
        self.dim = dim
        self.stride = stride
        self._nodes = np.zeros((capacity, dim), dtype=dtype)
        self._indices = np.full(capacity, -1, dtype=np.int64)
        self._times = np.full(capacity, np.nan, dtype=np.float64)
        self._cur = _Cursor()
        self.epoch = 0
        self.gaps: deque[Gap] = deque(maxlen=max_gaps)
        self.gap_count = 0

    def __len__(self) -> int:
        return self._cur.size

    def _slot(self, i: int) -> int:
        return (self._cur.start + i) % self.capacity

    def _frame(self, slot: int) -> FrameSlot:
        return FrameSlot(int(self._indices[slot]), float(self._times[slot]), self.epoch)

    def push(self, node: np.ndarray, frame_index: int, media_time: float) -> PushResult:
        """Add one frame's node vector. Frame indices must increase within an epoch (call `gap()` between epochs)."""
        vec = np.asarray(node)
        if vec.shape != (self.dim,):
            raise ValueError(f"node vector must have shape ({self.dim},), got {vec.shape}")
        cur = self._cur
        if cur.last_index is not None and frame_index <= cur.last_index:
            raise ValueError(
                f"frame index {frame_index} does not follow {cur.last_index} in epoch {self.epoch}; call gap() first"
            )
        left: list[FrameSlot] = []
        if cur.size == self.capacity:
            left.append(self._frame(cur.start))
            cur.start = (cur.start + 1) % self.capacity
            cur.size -= 1
        slot = self._slot(cur.size)
        self._nodes[slot] = vec
        self._indices[slot] = frame_index
        self._times[slot] = media_time
        cur.size += 1
        cur.since_window += 1
        cur.unseen = min(cur.unseen + 1, cur.size)
        cur.last_index, cur.last_time = frame_index, float(media_time)
        return PushResult(left=left, window_due=cur.since_window >= self.stride)

    def window(self) -> Window:
        """The current epoch's frames, oldest first; resets the every-S-frames counter."""
        cur = self._cur
        cur.since_window = 0
        cur.unseen = 0
        return self.peek()

    def peek(self) -> Window:
        """The same frames as `window()` without counting it as the every-S-frames window."""
        cur = self._cur
        order = (cur.start + np.arange(cur.size)) % self.capacity
        return Window(
            nodes=self._nodes[order].copy(),
            frame_indices=self._indices[order].copy(),
            media_times=self._times[order].copy(),
            epoch=self.epoch,
        )

    @property
    def unseen(self) -> int:
        """How many of the newest frames no window has covered yet."""
        return self._cur.unseen

    def _drain(self) -> EpochEnd:
        cur = self._cur
        tail = self.window() if cur.unseen > 0 else None
        left = [self._frame(self._slot(i)) for i in range(cur.size)]
        return EpochEnd(tail_window=tail, left=left)

    def gap(self, reason: str) -> EpochEnd:
        """Close the current epoch (reconnect, stall, pts jump): flush it and start a new, empty one.

        Returns the last window over frames no window saw yet (None if every frame was
        covered), and every frame that leaves; the next `push` belongs to the new epoch.
        An empty epoch is not closed twice: back-to-back gaps record only one.
        """
        cur = self._cur
        if cur.size == 0 and cur.last_index is None:
            return EpochEnd(tail_window=None, left=[], gap=None)
        end = self._drain()
        record = Gap(self.epoch, cur.last_index, cur.last_time, reason)
        self.gaps.append(record)
        self.gap_count += 1
        self.epoch += 1
        self._cur = _Cursor()
        return EpochEnd(tail_window=end.tail_window, left=end.left, gap=record)

    def close(self) -> EpochEnd:
        """End of stream: flush like a gap, without recording one."""
        end = self._drain()
        self._cur = _Cursor()
        return end
