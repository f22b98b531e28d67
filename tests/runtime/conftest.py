"""Engines for the runtime tests: the real ones from the session's engine folder, healthy or with one fault."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vgsum.runtime.engines.config import EngineConfig
from vgsum.runtime.engines.loader import Engines


@pytest.fixture
def broken_engines(engine_folder: Path) -> Engines:
    """Real engines whose `refiner.frame` raises on the first batch: a bug inside the pipeline thread.

    Fault injection, not a mock: perception and everything around the refiner run for real.
    """
    engines = Engines.load(EngineConfig(dir=engine_folder, threads=1))

    def nodes(batch: list) -> np.ndarray:
        raise RuntimeError("refiner exploded")

    engines.refiner.nodes = nodes  # type: ignore[method-assign]
    return engines
