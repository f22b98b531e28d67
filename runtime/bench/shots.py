"""`vgsum bench shots`: what each live shot cut costs per frame, side by side in one run.

The KTS cut re-solves the open frames every frame and re-fits its penalty over the
horizon every 8 s, so it costs more than the threshold cut; this says how much, at
the live scale (2 fps, the 1280-d frame feature beside 80 class-presence flags, a
10-minute horizon), on a stream of synthetic scenes 2-12 s long.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.knapsack_summary import shot_cutter
from vgsum.stream.sampler import DEFAULT_SAMPLE_FPS


def _scenes(minutes: float, fps: float, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(minutes * 60 * fps)
    lengths = rng.integers(int(2 * fps), int(12 * fps) + 1, size=n)
    centres = rng.normal(size=(len(lengths), dim))
    features = np.repeat(centres, lengths, axis=0)[:n]
    return features + 0.5 * rng.normal(size=features.shape)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vgsum bench shots", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="stream length (default 20)")
    parser.add_argument(
        "--fps", type=float, default=DEFAULT_SAMPLE_FPS, help="sampled frames per second (default %(default)g)"
    )
    parser.add_argument("--dim", type=int, default=1360, help="shot signature size (default 1280 + 80)")
    args = parser.parse_args(argv)
    features = _scenes(args.minutes, args.fps, args.dim)
    print(f"{len(features)} frames ({args.minutes:g} min at {args.fps:g} fps), {args.dim}-d signature")
    print("| cut | ms per frame (mean) | ms per frame (p99) | ms per frame (max) | share of one core at this fps "
          "| shots |")
    print("| --- | --- | --- | --- | --- | --- |")
    for cut in ("threshold", "kts"):
        cutter, spent, shots = shot_cutter(SummaryConfig(shot_cut=cut), args.fps), [], 0  # as the summarizer builds it
        for feature in features:
            started = time.perf_counter()
            shots += len(cutter.push(feature))
            spent.append(time.perf_counter() - started)
        shots += len(cutter.flush())
        ms = 1e3 * np.array(spent)
        print(f"| {cut} | {ms.mean():.2f} | {np.quantile(ms, 0.99):.1f} | {ms.max():.1f} "
              f"| {ms.mean() * args.fps / 10:.2f} % | {shots} |")
    return 0
