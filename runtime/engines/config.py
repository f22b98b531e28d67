"""`EngineConfig`: where the engines are and what runs them (the `engines:` section of a config)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vgsum.runtime.common.paths import engine_dir


class EngineConfig(BaseModel):
    """Where the engines are and what runs them."""

    model_config = ConfigDict(extra="forbid")

    dir: Path | None = Field(None, description="engine folder; default $VGSUM_ENGINES or ~/.cache/vgsum/engines")
    backend: Literal["onnxruntime", "tensorrt"] = "onnxruntime"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int | None = Field(None, ge=1, le=256, description="ONNX Runtime intra-op threads; None = default")
    max_batch: int = Field(8, ge=1, le=256, description="frames perceived together across streams")

    @property
    def folder(self) -> Path:
        """The engine folder in force."""
        return Path(self.dir).expanduser() if self.dir is not None else engine_dir()
