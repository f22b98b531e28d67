"""The names of the files in an engine folder: what `vgsum export` writes and the runtime loads.

They are spelled here and nowhere else, so the exporter and the loader cannot drift
apart (a file written under one name and looked for under another would only show
up as a "missing engine" on someone's edge box).
"""

from __future__ import annotations

from typing import Literal

PERCEPTION_ENGINE = "perception.onnx"
TEXT_ENGINE = "text.onnx"
TOKENIZER_FILE = "tokenizer.json"  # copied beside the text engine: tokenisation runs outside the graph
LABELS_FILE = "labels.npy"  # the COCO label embeddings, computed once at export
REFINER_FRAME_ENGINE = "refiner_frame.onnx"
# The ImageNet-1k classifier of the appearance network (weights, bias, class names), read with numpy by the
# language layer; optional: a folder without it still runs, queries then match detector labels only.
IMAGENET_HEAD = "imagenet.npz"
REFINER_WINDOW_ENGINE = "refiner_window.onnx"

ONNX_ENGINES = (PERCEPTION_ENGINE, TEXT_ENGINE, REFINER_FRAME_ENGINE, REFINER_WINDOW_ENGINE)

SidecarKind = Literal["onnxruntime", "tensorrt"]


def sidecar_name(engine_file: str, kind: SidecarKind | str = "onnxruntime") -> str:
    """The JSON sidecar that describes an engine: `text.onnx` -> `text.json`, or `text.trt.json` for its TensorRT plan.

    A plan gets a sidecar of its own beside the ONNX one, because both describe
    different files (and the plan's records the GPU it was built for).
    """
    stem = engine_file.split(".", 1)[0]
    return f"{stem}.trt.json" if kind == "tensorrt" else f"{stem}.json"


# Every file of an ONNX engine folder that the pipeline loads.
ENGINE_FILES: tuple[str, ...] = (
    *(name for engine in ONNX_ENGINES for name in (engine, sidecar_name(engine))),
    TOKENIZER_FILE,
    LABELS_FILE,
)
