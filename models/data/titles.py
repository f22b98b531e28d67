"""Sentence embeddings of benchmark titles, the optional language query of the TVSum table.

The same text model the live pipeline queries with (all-MiniLM-L6-v2 from its PyPI weight
package), run through its torch reference so training needs no exported engine. Titles are
cleaned of the uploaders' noise that says nothing about content (episode numbers, quotes,
bracketed channel names) before embedding.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

_NOISE = [r"\[[^\]]*\]", r"#\d+:?", r'"', r"\.mov$"]


def clean_title(title: str) -> str:
    """Drop bracketed tags, '#123' episode numbers and quotes; collapse whitespace."""
    text = title
    for pattern in _NOISE:
        text = re.sub(pattern, " ", text)
    return " ".join(text.split())


@lru_cache(maxsize=1)
def _encoder():
    from vgsum.export.text.build import model_dir, torch_encoder
    from vgsum.runtime.engines.text import make_tokenizer

    folder = model_dir()
    return torch_encoder(folder), make_tokenizer(folder / "tokenizer.json")


def embed_titles(titles: list[str]) -> np.ndarray:
    """Unit-length embeddings [len(titles), 384] of the cleaned titles, float32."""
    import torch

    from vgsum.runtime.engines.text import tokenize

    encoder, tokenizer = _encoder()
    feeds = tokenize(tokenizer, [clean_title(t) or "video" for t in titles])
    with torch.no_grad():
        out = encoder(torch.from_numpy(feeds["input_ids"]), torch.from_numpy(feeds["attention_mask"]))
    return out.numpy().astype(np.float32)
