"""Choose frames by presentation time to hit a target rate, whatever the source's frame rate.

Cameras and phone clips have variable frame rates and timestamps that jump
(a camera reboot, a looped file, an NVR splice). Counting frames would drift;
comparing each frame's time with the next due time does not. A jump by more than
`jump_s` (forward or back) re-anchors the schedule instead of emitting a burst
or going silent.
"""

from __future__ import annotations

# What every part samples at unless told otherwise (a stream's `sample_fps`, `vgsum run --sample-fps`, the
# benchmarks): the live window of W = 64 frames is 32 s at this rate, and the shipped refiner was trained on it.
DEFAULT_SAMPLE_FPS = 2.0


class PtsSampler:
    """`accept(t)` says whether the frame at media time `t` (seconds) is one to keep."""

    def __init__(self, fps: float, jump_s: float = 2.0) -> None:
        if fps <= 0:
            raise ValueError("fps must be > 0")
        self.period = 1.0 / fps
        self.jump_s = max(jump_s, 2 * self.period)
        self._due: float | None = None
        self._last: float | None = None
        self.jumps = 0

    def reset(self) -> None:
        """Forget the schedule (new epoch: reconnect or loop); the next frame is kept."""
        self._due = None
        self._last = None

    def accept(self, t: float) -> bool:
        """True when the frame at `t` is due. Frames with the same or older time than the last are skipped."""
        last = self._last
        if last is not None and (t < last - self.jump_s or t > last + self.jump_s):
            # A pts jump: re-anchor on this frame.
            self.jumps += 1
            self._due = None
        elif last is not None and t <= last:
            return False  # duplicate or slightly reordered timestamp
        self._last = t
        if self._due is None:
            self._due = t + self.period
            return True
        # A small tolerance (1 % of the period) so a 25 fps source sampled at 2 fps does
        # not lose a frame to float rounding of pts * time_base.
        if t + 0.01 * self.period >= self._due:
            # Advance from the schedule, not from t, so the mean rate is exact; skip missed
            # slots (a frame gap) rather than catching up in a burst.
            self._due += self.period
            if self._due <= t:
                self._due = t + self.period - ((t - self._due) % self.period)
            return True
        return False
