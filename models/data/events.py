"""Hand-made event ground truth for real clips: where something happens, where clearly nothing does.

The events benchmark asks whether highlights land on the moments that matter, so its
truth must be trustworthy before any score is: every file is checked on load (times
inside the clip, intervals the right way round, quiet never overlapping an event or
another quiet stretch) and a mistake is one line naming the file, the clip and the
problem. Built long streams carry a truth file in the same format, so the evaluator
reads clips and streams alike. No torch and no video decoding here: an evaluator and
its tests import this module cheaply.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.paths import shared_dir

Kind = Literal["sparse", "nuisance", "busy", "edited"]

# Boundaries are read to about 0.2 s; a last boundary written as the rounded clip length
# may sit a frame past the stream's own end.
END_SLACK_S = 0.05


class ClipTruth(BaseModel):
    """One clip's annotation, as stored under its file name in a ground-truth file."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    duration_s: float = Field(gt=0)
    kind: Kind
    events: list[tuple[float, float, str]]
    quiet: list[tuple[float, float]]
    cuts: list[float] = Field(default_factory=list)
    notes: str = ""
    # built streams only: the camera settings (motion_masks, zones) the view was built to be tuned with
    camera: dict | None = None

    def problems(self) -> list[str]:
        """Everything wrong with the times, in reading order; empty when the annotation is sound."""
        found: list[str] = []
        limit = self.duration_s + END_SLACK_S
        spans = [(f"event {i + 1}", start, end) for i, (start, end, _) in enumerate(self.events)]
        spans += [(f"quiet {i + 1}", start, end) for i, (start, end) in enumerate(self.quiet)]
        for label, start, end in spans:
            if start < 0 or end < 0:
                found.append(f"{label} [{start}, {end}] has a negative time")
            elif end <= start:
                found.append(f"{label} [{start}, {end}] ends at or before its start")
            elif end > limit:
                found.append(f"{label} [{start}, {end}] runs past the clip's end ({self.duration_s} s)")
        for i, cut in enumerate(self.cuts):
            if not 0 <= cut <= limit:
                found.append(f"cut {i + 1} at {cut} s lies outside the clip (0-{self.duration_s} s)")
        if found:
            return found
        for i, (q_start, q_end) in enumerate(self.quiet):
            for j in range(i + 1, len(self.quiet)):
                o_start, o_end = self.quiet[j]
                if q_start < o_end and o_start < q_end:
                    found.append(f"quiet {i + 1} [{q_start}, {q_end}] overlaps quiet {j + 1} [{o_start}, {o_end}]")
            for k, (e_start, e_end, _) in enumerate(self.events):
                if q_start < e_end and e_start < q_end:
                    found.append(f"quiet {i + 1} [{q_start}, {q_end}] overlaps event {k + 1} [{e_start}, {e_end}]")
        return found

    def to_json(self) -> dict:
        """The stored form: lists for intervals, `cuts` only where there are some (as in the shared file)."""
        data = self.model_dump(mode="json")
        if not self.cuts:
            del data["cuts"]
        if self.camera is None:
            del data["camera"]
        return data


def default_truth_path() -> Path:
    """The shared hand-made truth for the 20 clips of `videos/` and `footage/`."""
    return shared_dir() / "data" / "events" / "ground_truth.json"


def default_clip_dirs() -> list[Path]:
    """Where the shared clips live: `videos/` and `footage/` of the shared data folder."""
    data = shared_dir() / "data"
    return [data / "videos", data / "footage"]


def _as_dirs(clips_dirs: Path | str | Iterable[Path | str] | None) -> list[Path]:
    if clips_dirs is None:
        return default_clip_dirs()
    if isinstance(clips_dirs, str | Path):
        return [Path(clips_dirs)]
    return [Path(d) for d in clips_dirs]


def find_clip(name: str, clips_dirs: Path | str | Iterable[Path | str] | None = None) -> Path | None:
    """The video file called `name` in the first folder that has it, or None.

    Only a bare file name is looked up, so a truth file cannot point outside its folders.
    """
    if not name or Path(name).name != name:
        return None
    for folder in _as_dirs(clips_dirs):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _validation_line(err: ValidationError) -> str:
    """The first pydantic error as `field: message`, on one line."""
    first = err.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "entry"
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return " ".join(f"{where}: {first['msg']}{more}".split())


def parse_ground_truth(
    data: object, source: str, clips_dirs: Path | str | Iterable[Path | str] | None = None
) -> dict[str, ClipTruth]:
    """Validate already-parsed JSON; `source` names the file in error messages."""
    if not isinstance(data, dict):
        raise UserError(f"{source}: expected an object mapping clip file names to annotations")
    dirs = _as_dirs(clips_dirs)
    truths: dict[str, ClipTruth] = {}
    for name, entry in data.items():
        if find_clip(name, dirs) is None:
            folders = ", ".join(str(d) for d in dirs)
            raise UserError(f"{source}: clip {name!r}: no such video file in {folders}")
        try:
            truth = ClipTruth.model_validate(entry)
        except ValidationError as err:
            raise UserError(f"{source}: clip {name!r}: {_validation_line(err)}") from None
        problems = truth.problems()
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise UserError(f"{source}: clip {name!r}: {problems[0]}{more}")
        truths[name] = truth
    return truths


def load_ground_truth(
    path: Path | str | None = None, clips_dirs: Path | str | Iterable[Path | str] | None = None
) -> dict[str, ClipTruth]:
    """Read and check a ground-truth file; clip names must be video files in `clips_dirs`.

    By default the shared truth and the shared `videos/` and `footage/` folders; a built
    stream's truth is read with its own folder (where its video lies) as `clips_dirs`.
    """
    file = Path(path) if path is not None else default_truth_path()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise UserError(f"{file}: cannot read the ground truth ({err.strerror or type(err).__name__})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise UserError(f"{file}: not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    return parse_ground_truth(data, str(file), clips_dirs)


def dump_ground_truth(truths: dict[str, ClipTruth]) -> str:
    """The shared file's layout: one interval per line, so a diff shows which boundary moved."""
    blocks = []
    for name, truth in truths.items():
        fields = []
        for key, value in truth.to_json().items():
            if isinstance(value, list) and value and isinstance(value[0], list):
                rows = ",\n".join(f"   {json.dumps(row)}" for row in value)
                fields.append(f"  {json.dumps(key)}: [\n{rows}\n  ]")
            else:
                fields.append(f"  {json.dumps(key)}: {json.dumps(value)}")
        blocks.append(f" {json.dumps(name)}: {{\n" + ",\n".join(fields) + "\n }")
    return "{\n" + ",\n".join(blocks) + "\n}\n"


def frame_labels(truth: ClipTruth, times: Sequence[float] | np.ndarray) -> np.ndarray:
    """Per sampled frame time: 1 inside any event, else 0 inside a quiet stretch, else -1 (ordinary activity).

    Bounds are inclusive: a frame exactly at an annotated boundary belongs to that interval.
    """
    t = np.asarray(times, dtype=np.float64)
    labels = np.full(t.shape, -1, dtype=np.int8)
    for start, end in truth.quiet:
        labels[(t >= start) & (t <= end)] = 0
    for start, end, _ in truth.events:
        labels[(t >= start) & (t <= end)] = 1
    return labels
