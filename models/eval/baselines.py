"""Scores that need no model, to say what VideoGraph adds: uniform, motion energy, detector only.

Each baseline is a causal per-frame score in [0, 1] at the frames the live path samples
(2 fps by presentation time): a scorer object sees one frame at a time and answers at
once, so nothing can look ahead. The evaluator decodes a clip once (`sampled_frames`,
the stream package's own reader and sampler, so the times are the live media times)
and feeds the same frames to every method (`baseline_traces`).

The squashing constants are fixed for all clips, chosen from what the quantities mean
(grey levels, labels), not fitted: the AUC does not depend on them (a monotone map
keeps the ranking within a clip), only the evaluator's thresholded highlights do.

Pure numpy and PyAV; the detector baseline runs the exported perception engine
(ONNX Runtime), never torch.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vgsum.models.eval.event_metrics import Highlight
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.summary.foreground import grey_small
from vgsum.stream.sampler import DEFAULT_SAMPLE_FPS

if TYPE_CHECKING:
    from vgsum.runtime.engines.perception import PerceptionEngine

SAMPLE_FPS = DEFAULT_SAMPLE_FPS
UNIFORM_SCORE = 0.5

MOTION_WIDTH = 160  # px: enough for a person or car to move whole cells; compression noise averages out
# Mean absolute grey difference (0-255 levels) between frames 0.5 s apart that scores 1 - 1/e = 0.63;
# 0.5 falls at 2.8 levels. On the shared clips a still scene gives 0.3-0.7 levels (noise, compression),
# swaying leaves or a hand-held camera 2-3, a person, car or hand moving in view 3-20.
MOTION_SCALE = 4.0

DETECTOR_WINDOW = 4  # frames (2 s at 2 fps): an entry or exit stays visible for a moment, flicker adds up
# Changed labels (multiset difference summed over the window) that score 1 - 1/e: two changes,
# e.g. a car that enters and a person who leaves, or one object flickering out and back.
DETECTOR_SCALE = 2.0
DETECTOR_BATCH = 8  # frames per engine run, as the live pipeline batches them

Frames = Iterable[tuple[float, np.ndarray]]  # (media time in s, RGB uint8 [H, W, 3])


@dataclass
class Trace:
    """One method's per-frame scores on one clip."""

    times: np.ndarray  # [n] float64 media time (s)
    scores: np.ndarray  # [n] float64 in [0, 1]


def sampled_frames(path: Path | str, fps: float = SAMPLE_FPS) -> Iterator[tuple[float, np.ndarray]]:
    """(media time, RGB) of the frames the live path would sample from a file, decoded by the live reader.

    It is the stream package's own worker (PyAV decode, `PtsSampler` by presentation
    time, the default 512 px long side), so every method is judged on the frames and
    times the live pipeline sees. Frames are produced in a reader thread a few ahead of
    the consumer; memory stays bounded whatever the clip's length.
    """
    from vgsum.stream.config import StreamConfig
    from vgsum.stream.frame_queue import QueueClosed
    from vgsum.stream.ingest import StreamWorker
    from vgsum.stream.state import StreamState

    path = Path(path).expanduser()
    if not path.is_file():
        raise UserError(f"{path}: no such video file")
    # The reader waits while the consumer is behind (a full queue); on a loaded machine one batch
    # through every row can take longer than the stall bound meant for cameras, which a file never needs.
    config = StreamConfig(stream_id="eval", url=str(path), sample_fps=fps, max_retries=0, stall_after_s=3600.0)
    worker = StreamWorker(config)
    worker.start()
    try:
        while True:
            try:
                item = worker.queue.get(timeout=1.0)
            except QueueClosed:
                break
            if item is not None:
                yield item.media_time, item.rgb
    finally:
        worker.stop()
        worker.join(10.0)
    stats = worker.stats()
    if stats.state == StreamState.FAILED:
        raise UserError(f"{path.name}: {stats.last_error}")


def squash(value: float, scale: float) -> float:
    """A fixed map of [0, inf) onto [0, 1): 1 - exp(-value / scale), monotone, 0 at 0."""
    return 1.0 - math.exp(-max(0.0, value) / scale)


# -- uniform ------------------------------------------------------------------------------


def uniform_trace(times: Sequence[float]) -> Trace:
    """The same score for every frame: no frame is preferred (its AUC is exactly 0.5)."""
    times = np.asarray(times, np.float64)
    return Trace(times, np.full(len(times), UNIFORM_SCORE))


def uniform_highlights(
    duration: float, every_s: float = 60.0, length_s: float = 5.0, offset_s: float = 0.0
) -> list[Highlight]:
    """Highlights of `length_s` every `every_s` from `offset_s`, blind to the content.

    Each alerts at its end: the earliest a whole clip of it can be sent.
    """
    if every_s <= 0 or length_s <= 0:
        raise ValueError("every_s and length_s must be > 0")
    out = []
    start = offset_s
    while start < duration:
        end = min(start + length_s, duration)
        out.append(Highlight(start, end, end))
        start += every_s
    return out


# -- motion energy --------------------------------------------------------------------------


class MotionEnergy:
    """Mean absolute difference of consecutive sampled grey frames, squashed by `scale` grey levels.

    The first frame (and a frame whose size changed) has nothing to compare with: 0.
    """

    def __init__(self, width: int = MOTION_WIDTH, scale: float = MOTION_SCALE) -> None:
        self.width = width
        self.scale = scale
        self._previous: np.ndarray | None = None

    def raw(self, rgb: np.ndarray) -> float:
        """The unsquashed energy in grey levels (0-255); remembers the frame for the next call."""
        grey = grey_small(rgb, self.width)
        previous, self._previous = self._previous, grey
        if previous is None or previous.shape != grey.shape:
            return 0.0
        return float(np.abs(grey - previous).mean())

    def __call__(self, rgb: np.ndarray) -> float:
        """The score of this frame in [0, 1)."""
        return squash(self.raw(rgb), self.scale)


def motion_trace(frames: Frames) -> Trace:
    """Motion energy of every frame."""
    scorer = MotionEnergy()
    times, scores = [], []
    for t, rgb in frames:
        times.append(t)
        scores.append(scorer(rgb))
    return Trace(np.asarray(times, np.float64), np.asarray(scores, np.float64))


# -- detector only --------------------------------------------------------------------------


def label_change(before: Counter[str], after: Counter[str]) -> int:
    """Size of the multiset symmetric difference: labels that appeared or vanished, counted per object."""
    return sum(abs(after[k] - before[k]) for k in before.keys() | after.keys())


class DetectorChange:
    """How much the detected labels changed over the last `window` frames, squashed by `scale` labels.

    Each step adds the multiset difference between consecutive frames' labels (a second
    car adds one, a person replaced by a dog adds two); the first frame adds nothing.
    """

    def __init__(self, window: int = DETECTOR_WINDOW, scale: float = DETECTOR_SCALE) -> None:
        if window < 1:
            raise ValueError("window must be >= 1")
        self.scale = scale
        self._changes: deque[int] = deque(maxlen=window)
        self._previous: Counter[str] | None = None

    def raw(self, labels: Iterable[str]) -> int:
        """Changed labels within the window, this frame included."""
        current = Counter(labels)
        previous, self._previous = self._previous, current
        self._changes.append(0 if previous is None else label_change(previous, current))
        return sum(self._changes)

    def __call__(self, labels: Iterable[str]) -> float:
        """The score of the frame with these detected labels, in [0, 1)."""
        return squash(self.raw(labels), self.scale)


def load_perception(folder: Path | str | None = None) -> PerceptionEngine:
    """The perception engine the live path runs, from `folder` (default: the engine cache)."""
    from vgsum.runtime.common.paths import engine_dir
    from vgsum.runtime.engines.perception import PerceptionEngine

    folder = Path(folder).expanduser() if folder is not None else engine_dir()
    if not folder.is_dir():
        raise UserError(
            f"engine folder {folder} does not exist; build the engines with `vgsum export all --out {folder}`"
        )
    return PerceptionEngine.load(folder)  # a missing or stale engine is a UserError naming the export command


def detected_labels(frames: Frames, engine: PerceptionEngine) -> Iterator[tuple[float, list[str]]]:
    """(media time, labels the perception engine finds) per frame, DETECTOR_BATCH frames per engine run."""
    batch: list[tuple[float, np.ndarray]] = []
    for item in frames:
        batch.append(item)
        if len(batch) == DETECTOR_BATCH:
            yield from _perceive(batch, engine)
            batch = []
    if batch:
        yield from _perceive(batch, engine)


def _perceive(batch: list[tuple[float, np.ndarray]], engine: PerceptionEngine) -> list[tuple[float, list[str]]]:
    seen = engine([rgb for _, rgb in batch])
    return [(t, perceived.labels) for (t, _), perceived in zip(batch, seen, strict=True)]


def detector_trace(labelled: Iterable[tuple[float, Sequence[str]]]) -> Trace:
    """Detector-only score of every frame from its detected labels (`detected_labels`, or the pipeline's own)."""
    scorer = DetectorChange()
    times, scores = [], []
    for t, labels in labelled:
        times.append(t)
        scores.append(scorer(labels))
    return Trace(np.asarray(times, np.float64), np.asarray(scores, np.float64))


# -- all at once ----------------------------------------------------------------------------


def baseline_traces(frames: Frames, engine: PerceptionEngine | None = None) -> dict[str, Trace]:
    """Every baseline over one pass of the frames: uniform, motion, and detector when an engine is given."""
    motion = MotionEnergy()
    times: list[float] = []
    motion_scores: list[float] = []
    labelled: list[tuple[float, list[str]]] = []

    def tap(source: Frames) -> Iterator[tuple[float, np.ndarray]]:
        for t, rgb in source:
            times.append(t)
            motion_scores.append(motion(rgb))
            yield t, rgb

    if engine is None:
        for _ in tap(frames):
            pass
    else:
        labelled = list(detected_labels(tap(frames), engine))
    traces = {
        "uniform": uniform_trace(times),
        "motion": Trace(np.asarray(times, np.float64), np.asarray(motion_scores, np.float64)),
    }
    if engine is not None:
        traces["detector"] = detector_trace(labelled)
    return traces
