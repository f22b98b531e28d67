"""A source clip decoded once, in order, handing out the frame shown at each requested output time.

The event-stream builder (`event_streams`) asks for each output frame's source time; loops
and playbacks ask for the same source frames many times, so a frame is converted to the
output size once and kept only while a later request still needs it.
"""

from __future__ import annotations

import bisect
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import av.container
    import av.video

# A source frame covers [its time, next frame's time); this absorbs float rounding of summed times.
TIME_EPS = 1e-6


class ClipFrames:
    """One source clip decoded once, in order, handing out the frame shown at each requested time.

    The requests are known in advance, so a decoded frame is kept (converted to the output
    size) only while some later output frame still needs it: loops and playbacks hold a few
    seconds of frames, never the whole clip.
    """

    def __init__(self, path: Path, requests: np.ndarray, width: int, height: int) -> None:
        self.path = path
        self.requests = np.sort(requests)
        self.size = (width, height)
        self.times: list[float] = []
        self.kept: dict[int, list] = {}
        self.pending: av.video.frame.VideoFrame | None = None
        self.container: av.container.InputContainer | None = None
        self.decoded = None
        self.ended = False
        self.served = 0

    def _open(self) -> None:
        import av

        self.container = av.open(str(self.path))
        stream = self.container.streams.video[0]
        stream.thread_type = "AUTO"
        self.decoded = self.container.decode(stream)

    def _settle(self, index: int, frame: av.video.frame.VideoFrame, next_time: float) -> None:
        """Frame `index` covers requests in [its time, next_time); keep it for as many as there are."""
        low = -np.inf if index == 0 else self.times[index] - TIME_EPS
        high = next_time - TIME_EPS
        count = int(np.searchsorted(self.requests, high, "left") - np.searchsorted(self.requests, low, "left"))
        if count:
            width, height = self.size
            image = frame.reformat(width=width, height=height, format="yuv420p", interpolation="AREA")
            self.kept[index] = [image.to_ndarray(), count]

    def _advance(self) -> None:
        if self.container is None:
            self._open()
        frame = next(self.decoded, None)
        previous = len(self.times) - 1
        if frame is None:
            if self.pending is not None:
                self._settle(previous, self.pending, np.inf)
            self.pending, self.ended = None, True
            self.close()
            return
        if frame.time is None:
            raise RuntimeError(f"{self.path.name}: a frame without a timestamp")
        t = float(frame.time)
        if self.times and t <= self.times[-1]:
            raise RuntimeError(f"{self.path.name}: frame times are not increasing ({t} after {self.times[-1]})")
        self.times.append(t)
        if self.pending is not None:
            self._settle(previous, self.pending, t)
        self.pending = frame

    def frame_at(self, t: float) -> np.ndarray:
        """The yuv420p image shown at source time `t` (the last frame at or before it); `t` must be a request."""
        while not self.ended and (not self.times or self.times[-1] <= t + TIME_EPS):
            self._advance()
        if not self.times:
            raise RuntimeError(f"{self.path.name}: no video frames")
        index = max(0, bisect.bisect_right(self.times, t + TIME_EPS) - 1)
        entry = self.kept[index]
        entry[1] -= 1
        if entry[1] == 0:
            del self.kept[index]
        self.served += 1
        if self.served == len(self.requests):
            self.close()  # the rest of the clip is not needed: stop decoding it
        return entry[0]

    def close(self) -> None:
        if self.container is not None:
            self.container.close()
            self.container = None
