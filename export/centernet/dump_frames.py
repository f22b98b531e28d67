"""Letterboxed 512x512 frames of the bundled sample, as the parity input (run in the main .venv).

Usage: dump_frames.py OUT_NPY   (float32 [N,512,512,3], raw 0..255 RGB, zero padding)
"""

import sys

import av
import numpy as np

from vgsum.runtime.common.sample import bundled_sample

TIMES_S = (0.5, 2.0, 4.0, 6.5, 8.0)
SIZE = 512


def letterbox(rgb: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Resize keeping the aspect ratio (nearest), pad bottom and right with zeros."""
    height, width = rgb.shape[:2]
    scale = size / max(height, width)
    new_h, new_w = round(height * scale), round(width * scale)
    rows = np.minimum((np.arange(new_h) + 0.5) / scale, height - 1).astype(int)
    cols = np.minimum((np.arange(new_w) + 0.5) / scale, width - 1).astype(int)
    out = np.zeros((size, size, 3), np.float32)
    out[:new_h, :new_w] = rgb[rows][:, cols]
    return out


def main(out_npy: str) -> None:
    """Decode the frames nearest TIMES_S and save them letterboxed."""
    frames = []
    with av.open(str(bundled_sample())) as container:
        wanted = list(TIMES_S)
        for frame in container.decode(video=0):
            if wanted and frame.time >= wanted[0]:
                frames.append(letterbox(frame.to_ndarray(format="rgb24")))
                wanted.pop(0)
    np.save(out_npy, np.stack(frames))


if __name__ == "__main__":
    main(sys.argv[1])
