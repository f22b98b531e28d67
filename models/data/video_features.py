"""Video files -> per-frame perception features at 2 fps, cached as one `.npz` per clip.

Unsupervised training (`vgsum.models.train.footage`) runs on what the live pipeline sees: frames
sampled by presentation time (not by frame count: some clips carry a wrong average
frame rate), pushed through the project's own perception engine. Decoding and
perception are the slow part, so each clip's arrays are cached, keyed by the clip's
sha256, the engine's sha256 and the sampling rate; a second run reads the cache.
The cache lives outside the repository and outside ../shared (default
`~/.cache/vgsum/features`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vgsum.runtime.common.digest import sha256_of
from vgsum.runtime.common.errors import UserError
from vgsum.stream.sampler import DEFAULT_SAMPLE_FPS, PtsSampler

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".gif", ".mpg", ".mpeg", ".ts", ".flv", ".wmv")
DEFAULT_FPS = DEFAULT_SAMPLE_FPS
CACHE_VERSION = 2  # 2: each object's named colour, for the refiner's pseudo-queries
BATCH = 8  # frames per engine run: frames of one clip share a size, so they batch


@dataclass
class ClipFeatures:
    """One clip's sampled frames as the perception engine saw them (arrays padded to top_n objects)."""

    name: str  # file name
    sha256: str
    duration_s: float
    times: np.ndarray  # [T] float64 seconds (presentation time of each sampled frame)
    frame_features: np.ndarray  # [T,Df] float32
    object_features: np.ndarray  # [T,N,Do] float32, zero past counts
    boxes: np.ndarray  # [T,N,4] float32 normalised x1,y1,x2,y2
    classes: np.ndarray  # [T,N] int64 COCO-80 ids (0 past counts)
    scores: np.ndarray  # [T,N] float32
    counts: np.ndarray  # [T] int64 real objects per frame
    # [T,N] int8: each object's colour from its box's pixels, an index into runtime.language.colour.COLOURS
    # (-1: none read, or past counts); pixels are gone after extraction, so it is read here
    colours: np.ndarray | None = None

    @property
    def steps(self) -> int:
        """Number of sampled frames."""
        return len(self.times)

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays as stored in the cache file."""
        return {
            "times": self.times,
            "frame_features": self.frame_features,
            "object_features": self.object_features,
            "boxes": self.boxes,
            "classes": self.classes,
            "scores": self.scores,
            "counts": self.counts,
            **({} if self.colours is None else {"colours": self.colours}),
        }


def feature_cache_dir() -> Path:
    """`$VGSUM_FEATURES`, else `~/.cache/vgsum/features` (never the repository, never ../shared)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vgsum" / "features"
    return Path(os.environ.get("VGSUM_FEATURES", default))


def list_videos(paths: Iterable[Path | str]) -> list[Path]:
    """Video files named directly or found (recursively, sorted) in folders; raises UserError for a missing path."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
        elif path.is_file():
            found.append(path)
        else:
            raise UserError(f"{path}: no such file or folder (give a folder of videos or video files)")
    return found


def decode_sampled(path: Path, fps: float = DEFAULT_FPS) -> tuple[list[np.ndarray], list[float], float]:
    """RGB uint8 frames sampled at `fps` by presentation time, their times (s) and the clip's duration (s)."""
    import av

    frames: list[np.ndarray] = []
    times: list[float] = []
    sampler = PtsSampler(fps, jump_s=3600.0)  # a file has no reconnects: never re-anchor
    last_end = 0.0
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError("no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for index, frame in enumerate(container.decode(stream)):
            t = frame.time
            if t is None:  # no timestamp at all: fall back on the nominal rate
                rate = float(stream.average_rate or stream.guessed_rate or 25)
                t = index / rate
            duration = float(frame.duration * frame.time_base) if frame.duration and frame.time_base else 0.0
            last_end = max(last_end, t + duration)
            if sampler.accept(t):
                frames.append(frame.to_ndarray(format="rgb24"))
                times.append(float(t))
    if not frames:
        raise ValueError("no decodable frames")
    start = times[0]
    return frames, [t - start for t in times], max(last_end - start, times[-1] - start)


def perceive_frames(
    engine,
    name: str,
    sha256: str,
    frames: list[np.ndarray],
    times: list[float],
    duration: float,
    top_n: int | None = None,
) -> ClipFeatures:
    """Run the perception engine on decoded frames, BATCH at a time."""
    top_n = top_n or engine.top_n
    outputs: dict[str, list[np.ndarray]] = {k: [] for k in ("boxes", "classes", "scores", "object_features")}
    frame_features, counts = [], []
    for start in range(0, len(frames), BATCH):
        out = engine.run_batch(np.stack(frames[start : start + BATCH]))
        for key in outputs:
            outputs[key].append(out[key][:, :top_n])
        frame_features.append(out["frame_feature"])
        counts.append(np.minimum(out["object_count"].reshape(-1), top_n))
    boxes = np.concatenate(outputs["boxes"]).astype(np.float32)
    all_counts = np.concatenate(counts).astype(np.int64)
    return ClipFeatures(
        name=name,
        sha256=sha256,
        duration_s=float(duration),
        times=np.asarray(times, np.float64),
        frame_features=np.concatenate(frame_features).astype(np.float32),
        object_features=np.concatenate(outputs["object_features"]).astype(np.float32),
        boxes=boxes,
        classes=np.concatenate(outputs["classes"]).astype(np.int64),
        scores=np.concatenate(outputs["scores"]).astype(np.float32),
        counts=all_counts,
        colours=object_colours(frames, boxes, all_counts),
    )


def object_colours(frames: Sequence[np.ndarray], boxes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """[T,N] int8 colour index of each real object (runtime.language.colour, as the live matcher reads it), -1 else."""
    from vgsum.runtime.language.colour import COLOURS, box_colour

    index = {name: i for i, name in enumerate(COLOURS)}
    out = np.full(boxes.shape[:2], -1, np.int8)
    for t, (rgb, count) in enumerate(zip(frames, counts, strict=True)):
        for n in range(int(count)):
            name = box_colour(rgb, tuple(float(v) for v in boxes[t, n]))
            if name is not None:
                out[t, n] = index[name]
    return out


def _cache_path(cache_dir: Path, path: Path, sha256: str, engine_sha: str, fps: float) -> Path:
    key = hashlib.sha256(f"{CACHE_VERSION}|{sha256}|{engine_sha}|{fps:g}".encode()).hexdigest()[:16]
    return cache_dir / f"{path.stem}-{key}.npz"


def save_clip(path: Path, clip: ClipFeatures) -> None:
    """Write a clip's arrays and facts atomically (a killed run leaves no half file)."""
    meta = json.dumps({"name": clip.name, "sha256": clip.sha256, "duration_s": clip.duration_s})
    partial = path.with_suffix(".partial.npz")
    np.savez(partial, meta=np.array(meta), **clip.arrays())
    os.replace(partial, path)


def load_clip(path: Path) -> ClipFeatures:
    """Read a clip written by save_clip."""
    with np.load(path) as data:
        meta = json.loads(str(data["meta"]))
        return ClipFeatures(**meta, **{k: data[k] for k in data.files if k != "meta"})


def load_perception_engine(engines: Path | None = None, threads: int | None = None):
    """The perception engine from `engines` (default: the engine cache); exported there first when missing."""
    from vgsum.runtime.common.paths import engine_dir
    from vgsum.runtime.engines.manifest import PERCEPTION_ENGINE
    from vgsum.runtime.engines.perception import PerceptionEngine

    folder = Path(engines) if engines else engine_dir()
    if not (folder / PERCEPTION_ENGINE).is_file():
        from vgsum.export.perception.build import export_perception

        print(f"perception engine missing in {folder}: exporting it (about 20 s)", file=sys.stderr)
        export_perception(folder)
    return PerceptionEngine.load(folder, threads=threads)


def extract_features(
    videos: Sequence[Path | str],
    *,
    engines: Path | None = None,
    cache_dir: Path | None = None,
    fps: float = DEFAULT_FPS,
    engine=None,
    progress: bool = True,
) -> list[ClipFeatures]:
    """Features of every readable clip in `videos` (files or folders), from the cache when present.

    Unreadable files are skipped with one warning line each on stderr. Two files with the
    same bytes are one clip (the first one named wins).
    """
    import av
    from tqdm import tqdm

    cache_dir = Path(cache_dir) if cache_dir else feature_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    paths = list_videos(videos)
    clips: list[ClipFeatures] = []
    seen: set[str] = set()
    engine_sha: str | None = None
    for path in tqdm(paths, desc="features", unit="clip", disable=not progress):
        sha = sha256_of(path)
        if sha in seen:
            continue
        seen.add(sha)
        if engine is None:
            engine = load_perception_engine(engines)
        if engine_sha is None:
            engine_sha = str(engine.backend.sidecar.get("sha256", ""))
        cached = _cache_path(cache_dir, path, sha, engine_sha, fps)
        if cached.is_file():
            clip = load_clip(cached)
            clip.name = path.name
        else:
            try:
                decoded = decode_sampled(path, fps)
            except (av.error.FFmpegError, ValueError, OSError) as err:  # not a video, truncated, no frames
                print(f"warning: skipping {path}: cannot decode it ({type(err).__name__}: {err})", file=sys.stderr)
                continue
            clip = perceive_frames(engine, path.name, sha, *decoded)
            save_clip(cached, clip)
        clips.append(clip)
    return clips
