"""The perception gate: a fixed camera at rest does not need the detector on every frame.

Perception (the detector and the appearance network) and `refiner.frame` are most of a
frame's cost, and on a quiet camera (an empty corridor at night) they see the same
scene frame after frame. The scene's foreground model (runtime/summary/foreground.py)
runs first on every frame anyway, for a few milliseconds, and says whether anything in
view departs from the learned background. When nothing does, the frame *carries
forward* the last perceived frame's objects and node vector: the window ring, the
query match and the summary see a steady input, and the score still moves with the
frame's own scene activity, which is computed on every frame.

The rule (`GateConfig`, per camera, on by default). A frame skips perception only when
all of these hold; any one failing perceives it at once:

- the gate is on;
- the stream's summary picks highlights by events (`selection: events`, the default): the
  knapsack rule of edited video cuts its shots on every frame's look, so a carried frame
  would move its cuts;
- this epoch already has a perceived frame (the first frame, and the first after a
  reconnect or a loop, are always perceived: the view may have changed);
- the frame is quiet: not a new scene (a cut), at most `max_share` of the view (outside
  the motion masks) departs from the background, and at most `max_moving_share` departs
  *and* changed since the previous sampled frame;
- the last perceived frame was quiet too, so what is carried shows the scene at rest and
  not the last moment of a visit (the first quiet frame after activity is perceived,
  and a person who left takes their detections with them);
- the stream's queries are those the carried node vector was made with;
- less than `keepalive_s` of stream time has passed since the last perceived frame: a
  keep-alive perception refreshes what is carried and sees what the foreground model
  cannot (something inside a motion mask, an object too small for it, something that
  stood still long enough to join the background).

So the first frame of an event, being the first that departs from the scene, is always
perceived, and alert latency does not grow. What the gate gives up: between keep-alives,
objects that appear without disturbing the foreground (inside a motion mask, a few
pixels across) are not seen until the next keep-alive.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


class GateConfig(BaseModel):
    """One camera's perception gate (`gate:` beside its source); see the module docstring for the rule."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="skip perception on frames where nothing departs from the scene")
    max_share: float = Field(
        0.002, ge=0, le=1,
        description="a frame is quiet when at most this share of the view departs from the background",
    )
    max_moving_share: float = Field(
        0.0005, ge=0, le=1,
        description="... and at most this share departs and changed since the previous sampled frame",
    )
    keepalive_s: float = Field(
        10.0, gt=0, le=3600, description="perceive at least once per this many seconds of stream time, quiet or not"
    )


@dataclass(frozen=True)
class SceneReading:
    """What the foreground model said about one frame: the gate's inputs."""

    media_time: float
    share: float  # share of the view departing from the background
    moving_share: float  # ... of it, the share that changed since the previous sampled frame
    cut: bool  # the frame started a new scene
    new_epoch: bool  # the first frame of an ingest epoch (a reconnect, a loop)
    queries_version: int  # the stream's queries version when the frame was read
    every_frame: bool = False  # the stream's summary reads every frame's own look (the knapsack rule's shot cut)


class PerceptionGate:
    """One stream's gate: decides, frame by frame in stream order, whether a frame is perceived or carries forward."""

    def __init__(self, cfg: GateConfig) -> None:
        self.cfg = cfg
        self._last_t: float | None = None  # media time of the last perceived frame (this epoch)
        self._last_quiet = False  # the last perceived frame was quiet
        self._version: int | None = None  # the queries version the last perceived frame was decided with

    def quiet(self, scene: SceneReading) -> bool:
        """Nothing in view departs from the scene (see the module docstring)."""
        cfg = self.cfg
        return not scene.cut and scene.share <= cfg.max_share and scene.moving_share <= cfg.max_moving_share

    def perceive(self, scene: SceneReading) -> bool:
        """True: run perception on this frame. False: carry the last perceived frame forward."""
        quiet = self.quiet(scene)
        last = self._last_t
        skip = (
            self.cfg.enabled
            and not scene.every_frame
            and not scene.new_epoch
            and last is not None
            and quiet
            and self._last_quiet
            and scene.queries_version == self._version
            and 0.0 <= scene.media_time - last < self.cfg.keepalive_s
        )
        if skip:
            return False
        self._last_t, self._last_quiet, self._version = scene.media_time, quiet, scene.queries_version
        return True
