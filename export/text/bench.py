"""Text engine latency per query: what a free-text user query costs live.

`text_latency()` is what `vgsum bench perception` reports on its text line; run
`python -m vgsum.export.text.bench --engines DIR` for the text figures alone. A
query is one sentence of about 12 tokens; a batch of 5 is what a few subscribers
asking at once cost. Times cover tokenisation plus the engine, as the runtime pays
them (label-name queries cost nothing: their embeddings ship with the engine).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from vgsum.runtime.common.paths import engine_dir
from vgsum.runtime.engines.manifest import TEXT_ENGINE, sidecar_name
from vgsum.runtime.engines.text import load_text_encoder

QUERY = "a man rides his bicycle down a busy city street"  # 12 tokens with [CLS] and [SEP]
BATCH = [
    QUERY,
    "people waiting at a bus stop",
    "a dog catches a frisbee in the park",
    "two cars parked in front of a house",
    "someone opens a laptop at the kitchen table",
]


def _time_ms(call: Any, repeats: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1e3)
    return times


def text_latency(engines: Path | None = None, *, threads: int = 2, repeats: int = 50) -> dict[str, Any]:
    """Mean and median milliseconds for one 12-token query and for a batch of 5, on ONNX Runtime CPU."""
    encoder = load_text_encoder(engines or engine_dir(), device="cpu", threads=threads)
    tokens = int(encoder.tokenizer.encode(QUERY).attention_mask.count(1))
    one = _time_ms(lambda: encoder.encode([QUERY]), repeats)
    five = _time_ms(lambda: encoder.encode(BATCH), repeats)
    return {
        "provider": encoder.engine.provider,
        "threads": threads,
        "tokens": tokens,
        "query_ms_mean": statistics.fmean(one),
        "query_ms_median": statistics.median(one),
        "query_ms_min": min(one),
        "batch5_ms_mean": statistics.fmean(five),
        "batch5_ms_median": statistics.median(five),
        "batch5_ms_min": min(five),
        "repeats": repeats,
    }


def format_text_latency(result: dict[str, Any]) -> str:
    """One line for a benchmark report."""
    return (
        f"text ({result['provider']}, {result['threads']} threads): 1 query of {result['tokens']} tokens "
        f"{result['query_ms_mean']:.1f} ms mean / {result['query_ms_median']:.1f} median / "
        f"{result['query_ms_min']:.1f} min; batch of 5 {result['batch5_ms_mean']:.1f} ms mean / "
        f"{result['batch5_ms_median']:.1f} median / {result['batch5_ms_min']:.1f} min "
        f"({result['repeats']} runs)"
    )


def machine() -> str:
    """CPU model and core count, for the benchmark record."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}"


def main(argv: list[str]) -> int:
    """Print the text engine's latency line and the machine it ran on."""
    parser = argparse.ArgumentParser(prog="python -m vgsum.export.text.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--engines", type=Path, default=None, help=f"engine directory (default {engine_dir()})")
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args(argv)
    engines = args.engines or engine_dir()
    with tempfile.TemporaryDirectory() as scratch:
        if not (engines / sidecar_name(TEXT_ENGINE)).is_file():
            # Like the perception bench: measure a fresh export rather than fail on an empty cache.
            from vgsum.export.text.build import export_text

            print(f"text engine not in {engines}; exporting it into a scratch folder", flush=True)
            engines = export_text(Path(scratch)).onnx_path.parent
        print(format_text_latency(text_latency(engines, threads=args.threads, repeats=args.repeats)))
    print(f"machine: {machine()}, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    import sys

    from vgsum.runtime.common.errors import UserError

    try:
        sys.exit(main(sys.argv[1:]))
    except UserError as err:
        print(f"vgsum.export.text.bench: {err}", file=sys.stderr)
        sys.exit(2)
