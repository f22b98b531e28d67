"""Loading the three engines together: one clear line when the folder is not a built one."""

from __future__ import annotations

from pathlib import Path

import pytest

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.config import EngineConfig
from vgsum.runtime.engines.loader import Engines
from vgsum.runtime.engines.manifest import ENGINE_FILES, REFINER_WINDOW_ENGINE, sidecar_name


def test_engines_load_from_a_built_folder(engine_folder: Path) -> None:
    engines = Engines.load(EngineConfig(dir=engine_folder, device="cpu", threads=1))
    assert engines.perception.provider == "CPUExecutionProvider"
    assert engines.refiner.trained  # the shipped weights, not a random refiner
    assert engines.text.dim == engines.refiner.query_dim


def test_a_missing_folder_names_the_export_command(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        Engines.load(EngineConfig(dir=tmp_path / "nowhere"))
    message = str(err.value)
    assert "\n" not in message and f"vgsum export all --out {tmp_path / 'nowhere'}" in message


def test_a_folder_missing_one_engine_names_that_engine(engine_folder: Path, tmp_path: Path) -> None:
    for name in ENGINE_FILES:
        if name not in (REFINER_WINDOW_ENGINE, sidecar_name(REFINER_WINDOW_ENGINE)):
            (tmp_path / name).symlink_to(engine_folder / name)
    with pytest.raises(UserError) as err:
        Engines.load(EngineConfig(dir=tmp_path, threads=1))
    message = str(err.value)
    assert "\n" not in message and sidecar_name(REFINER_WINDOW_ENGINE) in message and "vgsum export refiner" in message
