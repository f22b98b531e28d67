"""`vgsum bench {ingest,decode,perception,pipeline,shots,soak,fleet,gpu,store,web}`: each benchmark lives beside the
code it measures."""

from __future__ import annotations

import importlib

from vgsum.runtime.common.errors import UserError

BENCHMARKS: dict[str, str] = {
    "ingest": "vgsum.runtime.bench.ingest",
    "decode": "vgsum.runtime.bench.decode_modes",
    "perception": "vgsum.export.perception.bench",
    "pipeline": "vgsum.runtime.bench.pipeline",
    "shots": "vgsum.runtime.bench.shots",
    "soak": "vgsum.runtime.bench.soak",
    "fleet": "vgsum.runtime.bench.fleet",
    "gpu": "vgsum.runtime.bench.gpu.cli",
    "store": "vgsum.runtime.bench.store",
    "web": "vgsum.runtime.bench.web",
}


def main(argv: list[str]) -> int:
    """Dispatch to the named benchmark's own `main(argv)`."""
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: vgsum bench {{{','.join(BENCHMARKS)}}} [ARGS]...")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in BENCHMARKS:
        raise UserError(f"unknown benchmark {name!r}; one of: {', '.join(BENCHMARKS)}")
    try:
        module = importlib.import_module(BENCHMARKS[name])
    except ModuleNotFoundError as err:
        if err.name and err.name.startswith("vgsum."):
            raise UserError(f"benchmark {name!r} is not part of this build ({err.name} missing)") from None
        raise
    return int(module.main(rest) or 0)
