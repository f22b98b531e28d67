"""A camera that sees steady nuisance in part of its view and real events elsewhere, built by compositing.

A camera owner's hardest case: a street, a neighbour's drive or a screen in one part of
the view keeps moving all day, while the events that matter happen elsewhere. This
builder pastes a busy road (the highway camera clip, played forward and back so it
never jumps) into the left strip of the long room stream (`sparse-long-room`: six
visits in 14 min, mostly an empty room), whose visits happen further right. The truth
is the room stream's (its events and quiet), and the stream's truth entry
carries the camera settings an owner would draw: a motion mask over the strip, and a
zone over the room. `vgsum eval events --streams composite-road-room --rows
vgsum,vgsum-masked,vgsum-zoned` then shows what each setting does.

Built at run time into the event-stream cache (never committed), deterministically:
the same sources give the same frames, and a stream whose inputs are unchanged is not
rebuilt.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vgsum.models.data.event_streams import (
    BuiltStream,
    _check_cache_dir,
    _write_atomic,
    build_streams,
    default_cache_dir,
)
from vgsum.models.data.events import ClipTruth, default_clip_dirs, dump_ground_truth, find_clip, load_ground_truth
from vgsum.runtime.common.digest import sha256_of

COMPOSITE_VERSION = 2
X264_OPTIONS = {"preset": "veryfast", "crf": "23", "g": "20", "threads": "2"}  # fixed threads: the same bytes


@dataclass(frozen=True)
class Composite:
    """`base` with `nuisance` pasted into the strip from x = 0 to `strip` (share of the width)."""

    name: str
    base: str
    nuisance: str
    strip: float
    nuisance_until_s: float  # the nuisance clip's material ends here (later it holds an event of its own)

    @property
    def mask(self) -> list[list[float]]:
        """The motion mask an owner draws over the nuisance."""
        return [[0.0, 0.0], [self.strip, 0.0], [self.strip, 1.0], [0.0, 1.0]]

    @property
    def zone(self) -> dict:
        """The zone an owner draws over where the events happen."""
        return {"name": "room", "polygon": [[self.strip, 0.0], [1.0, 0.0], [1.0, 1.0], [self.strip, 1.0]]}


COMPOSITES: dict[str, Composite] = {
    "composite-road-room": Composite(
        "composite-road-room", base="sparse-long-room", nuisance="bgslibrary-highway-cam.avi",
        strip=0.3, nuisance_until_s=30.0,
    ),
}


def _frames(path: Path) -> tuple[list[np.ndarray], float]:
    """Every frame of a clip as RGB, and its frame rate (times from pts)."""
    import av

    frames, times = [], []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="rgb24"))
            times.append(float(frame.pts * stream.time_base) if frame.pts is not None else len(times) / 10.0)
    order = np.argsort(times, kind="stable")  # clips that decode out of display order
    rate = (len(times) - 1) / (max(times) - min(times)) if len(times) > 1 else 10.0
    return [frames[i] for i in order], float(rate)


def _resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Nearest-neighbour resize (deterministic, no extra dependency)."""
    rows = (np.arange(height) * rgb.shape[0] / height).astype(np.intp)
    cols = (np.arange(width) * rgb.shape[1] / width).astype(np.intp)
    return rgb[rows][:, cols]


def _ping_pong(n: int, length: int) -> np.ndarray:
    """Indices 0..length-1..0..., n of them: the material plays forward and back and never jumps."""
    cycle = np.r_[np.arange(length), np.arange(length - 2, 0, -1)] if length > 1 else np.zeros(1, np.intp)
    return cycle[np.arange(n) % len(cycle)]


def composite_truth(spec: Composite, base: ClipTruth) -> ClipTruth:
    """The base clip's truth, with the camera settings an owner would draw on this view."""
    return base.model_copy(update={
        "kind": "nuisance",
        "notes": f"{spec.base} with {spec.nuisance} pasted into x 0-{spec.strip:g} (forward and back)",
        "camera": {"motion_masks": [spec.mask], "zones": [spec.zone]},
    })


def build_composite(name: str, cache_dir: Path | str | None = None) -> BuiltStream:
    """The composite stream `name` in the cache (built when missing or when its inputs changed)."""
    spec = COMPOSITES[name]
    folder = _check_cache_dir(Path(cache_dir) if cache_dir is not None else default_cache_dir())
    folder.mkdir(parents=True, exist_ok=True)
    dirs = default_clip_dirs()
    (base,) = build_streams([spec.base], folder)
    base_path, nuisance_path = base.path, find_clip(spec.nuisance, dirs)
    truth = composite_truth(spec, load_ground_truth(base.truth_path, [base.path.parent])[base.path.name])
    key = hashlib.sha256(json.dumps({
        "version": COMPOSITE_VERSION, "spec": spec.__dict__, "truth": truth.to_json(),
        "sources": [sha256_of(base_path), sha256_of(nuisance_path)],
    }, sort_keys=True).encode()).hexdigest()
    video, truth_path, stamp = folder / f"{name}.mp4", folder / f"{name}.truth.json", folder / f"{name}.key"
    if not (video.is_file() and truth_path.is_file() and stamp.is_file() and stamp.read_text() == key):
        _encode(spec, base_path, nuisance_path, video)
        _write_atomic(truth_path, dump_ground_truth({video.name: truth}))
        _write_atomic(stamp, key)
    return BuiltStream(video, truth_path, name)


def _encode(spec: Composite, base_path: Path, nuisance_path: Path, out: Path) -> None:
    import av

    nuisance, nuisance_rate = _frames(nuisance_path)
    nuisance = nuisance[: max(2, int(spec.nuisance_until_s * nuisance_rate))]
    partial = out.with_name(out.name + ".partial.mp4")
    with av.open(str(base_path)) as source, av.open(str(partial), "w", format="mp4") as sink:
        video = source.streams.video[0]
        rate = video.average_rate or 10
        width, height = video.codec_context.width, video.codec_context.height
        strip = int(round(spec.strip * width)) // 2 * 2
        encoder = sink.add_stream("libx264", rate=rate, options=dict(X264_OPTIONS))
        encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
        total = int(video.frames or 0)
        for index, frame in enumerate(tqdm(source.decode(video), total=total or None, desc=spec.name, disable=None)):
            rgb = frame.to_ndarray(format="rgb24")
            t = index / float(rate)
            pasted = nuisance[_ping_pong(int(t * nuisance_rate) + 1, len(nuisance))[-1]]
            rgb[:, :strip] = _resize(pasted, strip, height)
            out_frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            out_frame.pts = index
            sink.mux(encoder.encode(out_frame))
        sink.mux(encoder.encode(None))
    partial.replace(out)
