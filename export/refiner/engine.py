"""The `refiner` engine as `vgsum export` builds it: the two ONNX graphs, their parity check, their sidecars.

`vgsum.export.refiner.build` exports the graphs and measures them against torch; this
module makes them engines like the others: it fails loudly past the parity
tolerance and writes one sidecar per graph that says whether the weights are trained
(the shipped weights by default, or `--checkpoint`) or a randomly initialised model
(`--untrained`, for wiring tests: its scores mean nothing).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from vgsum.export.sidecar import Parity, WeightSource, sha256_of, write_sidecar
from vgsum.runtime.common.errors import UserError

MAX_ABS_DIFF = 1e-4


def default_checkpoint() -> Path | None:
    """The weights that ship with vgsum (`runtime/assets/refiner/`, see its MODEL_CARD.md), when installed."""
    import vgsum.runtime

    shipped = Path(vgsum.runtime.__file__).resolve().parent / "assets" / "refiner" / "refiner.pt"
    return shipped if shipped.is_file() else None


PARITY_INPUTS = (
    "window graph at W = 5, 23, 37, 64, 100 with batch 1 and 3, last row half padded; "
    "frame graph with 3, 11, 16 objects and 1, 3, 9 queries, batch 3, one row empty"
)


def export_refiner_engine(
    out_dir: Path,
    *,
    checkpoint: Path | None = None,
    untrained: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Export, check and describe both refiner graphs in `out_dir`; returns {"frame": sidecar, "window": sidecar}."""
    from vgsum.export.refiner.build import check_refiner_parity, export_refiner

    say = progress or (lambda _message: None)
    if untrained and checkpoint is not None:
        raise UserError("--untrained and --checkpoint exclude each other")
    if checkpoint is None and not untrained:
        checkpoint = default_checkpoint()
    if checkpoint is not None and not Path(checkpoint).is_file():
        raise UserError(f"refiner checkpoint {checkpoint} does not exist; train one with `vgsum train`")
    started = time.perf_counter()
    trained = checkpoint is not None
    say(f"refiner: exporting both graphs ({'checkpoint ' + str(checkpoint) if trained else 'randomly initialised'})")
    paths = export_refiner(Path(out_dir), checkpoint=checkpoint)
    say("refiner: checking parity against torch")
    worst = float(check_refiner_parity(paths, checkpoint=checkpoint))
    if not worst <= MAX_ABS_DIFF:  # also catches NaN and inf
        for path in paths.values():
            Path(path).unlink(missing_ok=True)
        raise RuntimeError(f"refiner parity failed: max abs diff {worst:.3g} > {MAX_ABS_DIFF} vs torch")
    parity = [Parity(metric="max_abs_diff", value=worst, tolerance=MAX_ABS_DIFF, inputs=PARITY_INPUTS)]
    sources = []
    if trained:
        checkpoint = Path(checkpoint)
        sources.append(WeightSource("checkpoint", "-", checkpoint.name, sha256_of(checkpoint), "vgsum (ours)"))
    note = "trained checkpoint" if trained else "randomly initialised (no trained checkpoint given): scores are noise"
    sidecars = {}
    for graph, path in paths.items():
        extra = {"graph": graph, "trained": trained, "weights": note, "export_seconds": time.perf_counter() - started}
        sidecars[graph] = write_sidecar(Path(path), engine="refiner", sources=sources, parity=parity, extra=extra)
    return sidecars
