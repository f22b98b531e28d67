"""`Engines`: the perception, text and refiner engines of one engine folder, loaded together.

Loaded once per process and shared by every stream. Loading them together is what
lets a mismatch between them (a refiner exported for another perception engine) be
one clear error at start-up instead of a shape error on the first frame.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.backends import Backend
from vgsum.runtime.engines.config import EngineConfig
from vgsum.runtime.engines.perception import PerceptionEngine
from vgsum.runtime.engines.refiner import RefinerEngines
from vgsum.runtime.engines.text import TextEncoder, load_text_encoder

log = logging.getLogger(__name__)


@dataclass
class Engines:
    """The three engines of one folder, on one backend and device."""

    perception: PerceptionEngine
    text: TextEncoder
    refiner: RefinerEngines

    @classmethod
    def load(cls, cfg: EngineConfig) -> Engines:
        """Load all three from `cfg.folder`; a missing one is a one-line UserError naming the export command."""
        folder = cfg.folder
        if not folder.is_dir():
            raise UserError(
                f"engine folder {folder} does not exist; build the engines with `vgsum export all --out {folder}`"
            )
        kwargs: dict[str, Any] = {"kind": cfg.backend, "device": cfg.device, "threads": cfg.threads}
        engines = cls(
            perception=PerceptionEngine.load(folder, **kwargs),
            text=load_text_encoder(folder, **kwargs),
            refiner=RefinerEngines.load(folder, **kwargs),
        )
        given = {spec.name: spec.shape[-1] for spec in engines.perception.backend.outputs}.get("frame_feature")
        if isinstance(given, int) and given != engines.refiner.frame_dim:
            raise UserError(
                f"the refiner in {folder} takes {engines.refiner.frame_dim}-d frame features but the perception "
                f"engine gives {given}-d; rebuild both with `vgsum export all --out {folder}`"
            )
        log.info(
            "engines from %s on %s (refiner %s)",
            folder,
            engines.perception.provider,
            "trained" if engines.refiner.trained else "UNTRAINED: random weights",
        )
        return engines

    def backends(self) -> list[Backend]:
        """Every loaded engine file's backend."""
        return [self.perception.backend, self.text.engine, self.refiner.frame_engine, self.refiner.window_engine]

    def interrupt(self) -> None:
        """Cut the engine calls in progress short (they raise) and refuse new ones until `resume()`.

        A daemon that is stopping must not wait seconds for a batch on a busy CPU, and
        cannot leave a thread inside an engine when the interpreter exits.
        """
        for backend in self.backends():
            backend.interrupt()

    def resume(self) -> None:
        """Engine calls run again."""
        for backend in self.backends():
            backend.resume()
