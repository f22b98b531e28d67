"""Parity of every candidate against ONNX Runtime CPU on real frames: detections, features, text, refiner.

A plan that is fast but wrong is worth nothing, and FP16/INT8 plans do drift, so each
engine's outputs are held to the ONNX reference with stated tolerances. Detections are
matched box by box rather than compared slot by slot: a score that moves across the
threshold may add or drop a box, and that is counted as borderline, not as a miss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vgsum.runtime.bench.gpu.candidates import Candidate
from vgsum.runtime.bench.gpu.outcome import guarded

TOLERANCES = {
    "detections": "same detections: each reference box matched by one of the same class at IoU >= 0.5, none left "
    "over (a box whose score lies within score_abs of the engine's score threshold, or of the lowest kept "
    "score when all top_n slots are full, may come or go: it is counted as borderline)",
    "iou_min": 0.5,
    "score_abs": 0.02,
    "feature_cosine_min": 0.999,
    "text_cosine_min": 0.999,
    "node_cosine_min": 0.999,
    "window_score_abs": 0.01,
}


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity; two all-zero rows count as equal."""
    a = np.asarray(a, np.float64).reshape(len(a), -1)
    b = np.asarray(b, np.float64).reshape(len(b), -1)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    dots = np.sum(a * b, axis=1)
    both_zero = (np.linalg.norm(a, axis=1) == 0) & (np.linalg.norm(b, axis=1) == 0)
    return np.where(both_zero, 1.0, dots / np.maximum(norms, 1e-12))


def compare_detections(ref: dict[str, np.ndarray], got: dict[str, np.ndarray], config: dict[str, Any]) -> dict:
    """Detections, scores and features of one perception run against the reference run, frame by frame."""
    from vgsum.export.perception.build import _iou as iou  # the exporter's own box overlap, as its NMS uses it

    tol = TOLERANCES["score_abs"]
    threshold = float(config.get("score_threshold", 0.0))
    top_n = int(config.get("top_n", ref["classes"].shape[1]))
    counts = {"reference": 0, "matched": 0, "missing": 0, "extra": 0, "borderline": 0}
    score_diffs: list[float] = []
    box_diffs: list[float] = []
    object_cosines: list[float] = []

    def borderline(score: float, count: int, scores: np.ndarray) -> bool:
        full = count >= top_n and count > 0
        return score < threshold + tol or (full and score <= float(scores[:count].min()) + tol)

    for row in range(len(ref["object_count"])):
        n, m = int(ref["object_count"][row]), int(got["object_count"][row])
        counts["reference"] += n
        used: set[int] = set()
        for a in range(n):
            best, best_iou = None, TOLERANCES["iou_min"]
            for b in range(m):
                if b in used or int(got["classes"][row, b]) != int(ref["classes"][row, a]):
                    continue
                overlap = float(iou(ref["boxes"][row, a], got["boxes"][row, b]))
                if overlap >= best_iou:
                    best, best_iou = b, overlap
            if best is None:
                kind = "borderline" if borderline(float(ref["scores"][row, a]), n, ref["scores"][row]) else "missing"
                counts[kind] += 1
                continue
            used.add(best)
            counts["matched"] += 1
            score_diffs.append(abs(float(ref["scores"][row, a]) - float(got["scores"][row, best])))
            box_diffs.append(float(np.abs(ref["boxes"][row, a] - got["boxes"][row, best]).max()))
            object_cosines.append(
                float(cosines(ref["object_features"][row, a][None], got["object_features"][row, best][None])[0])
            )
        for b in set(range(m)) - used:
            kind = "borderline" if borderline(float(got["scores"][row, b]), m, got["scores"][row]) else "extra"
            counts[kind] += 1
    frame_cosines = cosines(ref["frame_feature"], got["frame_feature"])
    result = {
        "frames": int(len(ref["object_count"])),
        **{f"detections_{k}": v for k, v in counts.items()},
        "max_score_diff": round(max(score_diffs, default=0.0), 6),
        "max_box_diff": round(max(box_diffs, default=0.0), 6),
        "min_object_feature_cosine": round(min(object_cosines, default=1.0), 6),
        "min_frame_feature_cosine": round(float(frame_cosines.min()), 6),
    }
    result["pass"] = bool(
        counts["missing"] == 0
        and counts["extra"] == 0
        and result["max_score_diff"] <= tol
        and result["min_frame_feature_cosine"] >= TOLERANCES["feature_cosine_min"]
        and result["min_object_feature_cosine"] >= TOLERANCES["feature_cosine_min"]
    )
    return result


def _first_output(outputs: dict[str, np.ndarray]) -> np.ndarray:
    return next(iter(outputs.values()))


@dataclass
class Reference:
    """ONNX Runtime CPU's outputs on the parity inputs: what every other backend is held to."""

    frames: np.ndarray
    perception: dict[str, np.ndarray]
    perception_config: dict[str, Any]
    text_feeds: list[dict[str, np.ndarray]]  # tokenised once, so a plan's folder needs no tokenizer
    text: list[np.ndarray]
    refiner_inputs: list[Any]
    nodes: np.ndarray
    window_scores: np.ndarray


def reference_outputs(reference: Candidate, frames: np.ndarray) -> Reference:
    """Run every engine on ONNX Runtime CPU; the refiner takes what perception and the label embeddings give.

    The refiner inputs are built as the pipeline builds them (the labels seen in a frame
    as word queries), once, so that each refiner engine is compared on identical inputs.
    """
    from vgsum.export.text.build import PARITY_BATCHES
    from vgsum.runtime.engines.perception import PerceptionEngine
    from vgsum.runtime.engines.refiner import FrameBatchInput, RefinerEngines
    from vgsum.runtime.engines.text import TextEncoder, tokenize

    perception = PerceptionEngine(reference.backend("perception"))
    raw = perception.run_batch(frames)
    text = TextEncoder(reference.backend("text"))
    inputs = []
    for seen in perception(list(frames)):
        words = sorted(set(seen.labels))
        queries = np.asarray([text.label_embedding(w) for w in words], np.float32).reshape(-1, text.dim)
        inputs.append(FrameBatchInput(seen.frame_feature, seen.object_features, seen.boxes, seen.classes, queries))
    refiner = RefinerEngines(reference.backend("refiner_frame"), reference.backend("refiner_window"))
    nodes = refiner.nodes(inputs)
    feeds = [tokenize(text.tokenizer, list(batch)) for batch in PARITY_BATCHES]
    return Reference(
        frames=frames,
        perception=raw,
        perception_config=dict(perception.backend.sidecar.get("extra", {}).get("config", {})),
        text_feeds=feeds,
        text=[_first_output(text.engine.run(f)) for f in feeds],
        refiner_inputs=inputs,
        nodes=nodes,
        window_scores=refiner.scores(nodes),
    )


def parity_of(candidate: Candidate, ref: Reference, reference: Candidate) -> dict[str, Any]:
    """Each engine of `candidate` against the reference; an engine it lacks is skipped with the reason.

    The two refiner graphs are checked one at a time, the other one on the reference,
    so that a miss names the graph that drifted.
    """
    from vgsum.runtime.engines.refiner import RefinerEngines

    def perception() -> dict[str, Any]:
        got = candidate.backend("perception").run({"frames": ref.frames})
        return compare_detections(ref.perception, got, ref.perception_config)

    def text() -> dict[str, Any]:
        engine = candidate.backend("text")
        got = [_first_output(engine.run(feeds)) for feeds in ref.text_feeds]
        found = np.concatenate([cosines(e, g) for e, g in zip(ref.text, got, strict=True)])
        low = round(float(found.min()), 6)
        return {"sentences": int(len(found)), "min_cosine": low, "pass": low >= TOLERANCES["text_cosine_min"]}

    def nodes() -> dict[str, Any]:
        got = RefinerEngines(candidate.backend("refiner_frame"), reference.backend("refiner_window")).nodes(
            ref.refiner_inputs
        )
        low = round(float(cosines(ref.nodes, got).min()), 6)
        diff = round(float(np.abs(ref.nodes - got).max()), 6)
        return {"frames": int(len(got)), "min_cosine": low, "max_abs_diff": diff,
                "pass": low >= TOLERANCES["node_cosine_min"]}  # fmt: skip

    def window() -> dict[str, Any]:
        got = RefinerEngines(reference.backend("refiner_frame"), candidate.backend("refiner_window")).scores(ref.nodes)
        diff = round(float(np.abs(ref.window_scores - got).max()), 6)
        return {"window": int(len(got)), "max_abs_diff": diff, "pass": diff <= TOLERANCES["window_score_abs"]}

    checks = {"perception": perception, "text": text, "refiner_frame": nodes, "refiner_window": window}
    return {engine: guarded(check) for engine, check in checks.items()}
