"""`encode_jpeg`: a highlight's thumbnail as JPEG bytes, shared by the history store and the MQTT bridge."""

from __future__ import annotations

from fractions import Fraction

import numpy as np


def encode_jpeg(rgb: np.ndarray) -> bytes:
    """A JPEG of an RGB frame with PyAV's MJPEG encoder (already a dependency; no Pillow on the edge)."""
    import av

    height, width = rgb.shape[:2]
    rgb = np.ascontiguousarray(rgb[: height - height % 2, : width - width % 2])
    ctx = av.CodecContext.create("mjpeg", "w")
    ctx.width, ctx.height = rgb.shape[1], rgb.shape[0]
    ctx.pix_fmt = "yuvj420p"
    ctx.time_base = Fraction(1, 25)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuvj420p")
    return b"".join(bytes(p) for p in [*ctx.encode(frame), *ctx.encode(None)])
