"""The edge text encoder: a query string in, a unit-length MiniLM sentence embedding out.

Tokenisation runs in the `tokenizers` library (Rust, no torch, no transformers) from
the `tokenizer.json` that `vgsum export text` copies into the engine folder; the engine
does mean pooling and L2 normalisation itself. The 80 COCO label embeddings are
computed once at export time and shipped as `labels.npy`, so a word query that
names a label costs nothing live.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vgsum.runtime.common.digest import sha256_of
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.backends import Backend, export_command, load_backend
from vgsum.runtime.engines.manifest import LABELS_FILE, TEXT_ENGINE, TOKENIZER_FILE

DEFAULT_MAX_TOKENS = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2


def make_tokenizer(path: Path, max_tokens: int = DEFAULT_MAX_TOKENS) -> Any:
    """A `tokenizers.Tokenizer` that pads to the longest text in a batch and truncates at `max_tokens`.

    The shipped tokenizer.json pads every text to a fixed 128 tokens; that wastes
    engine time on short queries, so padding is reset here.
    """
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer


def tokenize(tokenizer: Any, texts: list[str]) -> dict[str, np.ndarray]:
    """Engine feeds for `texts`: int64 `input_ids` and `attention_mask`, both [batch, longest]."""
    encodings = tokenizer.encode_batch(list(texts))
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    return {"input_ids": ids, "attention_mask": mask}


def engine_folder(engine: Backend) -> Path:
    """The engine folder that `engine`'s sidecar describes, where `vgsum export text` puts the tokenizer and labels.

    A sidecar names its engine file relative to that folder: `text.onnx`, or for a
    TensorRT plan `trt-cache/text-fp16-<key>.plan`, so the plan's own folder is the
    wrong place to look; the folder is the engine path with that relative name taken off.
    """
    named = Path(str(engine.sidecar.get("file", ""))).parts
    if named and engine.path.parts[-len(named) :] == named:
        return Path(*engine.path.parts[: -len(named)])
    return engine.path.parent


class TextEncoder:
    """MiniLM sentence embeddings through the exported `text` engine, plus the shipped label embeddings."""

    def __init__(self, engine: Backend):
        self.engine = engine
        sidecar = engine.sidecar
        extra = sidecar.get("extra", {})
        folder = engine_folder(engine)
        command = export_command("text", folder)
        self.max_tokens = int(extra.get("max_tokens", DEFAULT_MAX_TOKENS))
        self.dim = int(extra.get("embedding_dim", 384))
        tokenizer_path = folder / extra.get("tokenizer", TOKENIZER_FILE)
        labels_path = folder / extra.get("labels_file", LABELS_FILE)
        for path, key in ((tokenizer_path, "tokenizer_sha256"), (labels_path, "labels_sha256")):
            if not path.is_file():
                raise UserError(f"text engine file {path} is missing; build it with `{command}`")
            if key in extra and sha256_of(path) != extra[key]:
                raise UserError(f"text engine file {path} does not match its sidecar; rebuild it with `{command}`")
        self.tokenizer = make_tokenizer(tokenizer_path, self.max_tokens)
        self.labels: list[str] = list(sidecar.get("class_names", []))
        self.label_embeddings: np.ndarray = np.load(labels_path).astype(np.float32)
        if self.label_embeddings.shape != (len(self.labels), self.dim):
            raise UserError(
                f"{labels_path} holds {self.label_embeddings.shape} but the sidecar names "
                f"{len(self.labels)} labels of dim {self.dim}; rebuild it with `{command}`"
            )

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings, float32 [len(texts), dim]; one engine call for the whole batch."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self.engine.run(tokenize(self.tokenizer, texts))
        return next(iter(out.values())).astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        """One query's embedding [dim]: the shipped vector when the query is a label name, else the engine's."""
        key = text.strip().lower()
        if key in self.labels:
            return self.label_embeddings[self.labels.index(key)]
        return self.encode([text])[0]

    def label_embedding(self, label: str) -> np.ndarray:
        """The shipped embedding of one COCO label (KeyError for an unknown label)."""
        try:
            return self.label_embeddings[self.labels.index(label)]
        except ValueError:
            raise KeyError(label) from None


def load_text_encoder(
    engine_dir: Path | str, kind: str = "onnxruntime", device: str = "auto", threads: int | None = None
) -> TextEncoder:
    """The text encoder from `engine_dir`: the text engine, its tokenizer and the label embeddings."""
    return TextEncoder(load_backend(Path(engine_dir) / TEXT_ENGINE, kind=kind, device=device, threads=threads))
