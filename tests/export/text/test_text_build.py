"""The text engine: real MiniLM weights exported to ONNX, run on the edge path without torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from text_engine_fixture import build_text_engine

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.text import TextEncoder, load_text_encoder, make_tokenizer, tokenize


@pytest.fixture(scope="module")
def engine_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_text_engine(tmp_path_factory).folder


@pytest.fixture(scope="module")
def encoder(engine_dir: Path) -> TextEncoder:
    return load_text_encoder(engine_dir, device="cpu", threads=2)


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def test_riding_a_bicycle_is_closer_to_bicycle_than_to_pizza(encoder: TextEncoder) -> None:
    query = encoder.encode(["a person riding a bicycle"])[0]
    assert float(query @ encoder.label_embedding("bicycle")) > float(query @ encoder.label_embedding("pizza")) + 0.2
    # And among all 80 labels, the vehicle being ridden ranks near the top.
    ranking = [encoder.labels[i] for i in np.argsort(-(encoder.label_embeddings @ query))]
    assert "bicycle" in ranking[:3]


def test_onnx_engine_matches_torch_at_several_lengths_with_padding(encoder: TextEncoder) -> None:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import BertModel

    from vgsum.export.text.build import model_dir

    bert = BertModel.from_pretrained(str(model_dir()), local_files_only=True).eval()
    texts = [
        "cat",
        "cars in a parking lot",
        "a crowded street market with vendors selling fruit and people bargaining loudly " * 3,
        "Someone walks into the room, sits down and opens a laptop. " * 9,
    ]
    feeds = tokenize(encoder.tokenizer, texts)
    lengths = feeds["attention_mask"].sum(axis=1)
    assert len(set(lengths.tolist())) == len(texts) and lengths.max() == feeds["input_ids"].shape[1] > 100
    with torch.no_grad():
        ids, mask = torch.from_numpy(feeds["input_ids"]), torch.from_numpy(feeds["attention_mask"])
        hidden = bert(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
        weights = mask.unsqueeze(-1).float()
        reference = torch.nn.functional.normalize((hidden * weights).sum(1) / weights.sum(1), dim=1).numpy()
    batched = encoder.encode(texts)
    one_by_one = np.stack([encoder.encode([t])[0] for t in texts])
    assert _cosine(batched, reference).min() >= 0.999
    assert _cosine(one_by_one, reference).min() >= 0.999  # padding does not change an embedding


def test_embeddings_are_unit_length_and_distinct(encoder: TextEncoder) -> None:
    vectors = encoder.encode(["a dog", "a red car", "people talking in a meeting room"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert _cosine(vectors[0], vectors[1]) < 0.9
    assert encoder.encode([]).shape == (0, 384)


def test_tokenizer_pads_to_longest_and_truncates(engine_dir: Path) -> None:
    tokenizer = make_tokenizer(engine_dir / "tokenizer.json", max_tokens=256)
    feeds = tokenize(tokenizer, ["dog", "a brown dog runs"])
    assert feeds["input_ids"].shape == (2, 6)  # [CLS] a brown dog runs [SEP]; not the shipped fixed 128
    assert feeds["attention_mask"].tolist() == [[1, 1, 1, 0, 0, 0], [1] * 6]
    assert tokenize(tokenizer, ["word " * 1000])["input_ids"].shape == (1, 256)


def test_label_embeddings_ship_with_the_engine(engine_dir: Path, encoder: TextEncoder) -> None:
    sidecar = json.loads((engine_dir / "text.json").read_text())
    assert len(sidecar["class_names"]) == 80 and sidecar["class_names"][:3] == ["person", "bicycle", "car"]
    assert encoder.label_embeddings.shape == (80, 384)
    live = encoder.encode(["bicycle", "toothbrush"])
    np.testing.assert_allclose(live[0], encoder.label_embedding("bicycle"), atol=1e-5)
    np.testing.assert_allclose(live[1], encoder.label_embedding("toothbrush"), atol=1e-5)
    assert encoder.embed_query("  Bicycle ") is not None
    np.testing.assert_allclose(encoder.embed_query("Bicycle"), encoder.label_embedding("bicycle"))


def test_tampered_label_file_is_one_line(engine_dir: Path, tmp_path: Path) -> None:
    for name in ("text.onnx", "text.json", "tokenizer.json"):
        (tmp_path / name).symlink_to(engine_dir / name)
    np.save(tmp_path / "labels.npy", np.zeros((80, 384), np.float32))
    with pytest.raises(UserError) as caught:
        load_text_encoder(tmp_path, device="cpu")
    message = str(caught.value)
    assert "labels.npy" in message and "vgsum export text --out" in message and "\n" not in message


def test_edge_text_path_never_imports_torch_or_transformers(engine_dir: Path) -> None:
    code = (
        "import sys; from vgsum.runtime.engines.text import load_text_encoder; "
        f"e = load_text_encoder({str(engine_dir)!r}, device='cpu'); v = e.encode(['a person on a bike']); "
        "print(v.shape, 'torch' in sys.modules, 'transformers' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["(1,", "384)", "False", "False"]


def test_export_text_refuses_onnx_fp16(tmp_path: Path) -> None:
    from vgsum.export.text.build import export_text

    with pytest.raises(UserError, match="--format trt"):
        export_text(tmp_path, precision="fp16")


def test_text_latency_benchmark_runs_on_the_engine(engine_dir: Path) -> None:
    from vgsum.export.text.bench import format_text_latency, text_latency

    result = text_latency(engine_dir, threads=1, repeats=3)
    assert result["tokens"] == 12 and result["provider"] == "CPUExecutionProvider"
    assert 0 < result["query_ms_median"] < 1000 and 0 < result["batch5_ms_median"] < 1000
    assert "1 query of 12 tokens" in format_text_latency(result)
