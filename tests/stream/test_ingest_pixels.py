"""The reader's RGB frames are PyAV's own conversion of the frames it samples, pixel for pixel.

The worker keeps one scaler per connection instead of converting each frame with a fresh
one (`frame.to_ndarray(width=, height=)`), for speed; this holds it to the same pixels.
"""

from __future__ import annotations

import av
import numpy as np
from test_ingest import drain

from vgsum.stream.config import StreamConfig
from vgsum.stream.ingest import StreamWorker


def test_sampled_rgb_equals_a_fresh_conversion_of_the_same_frame(bikes_mp4) -> None:
    cfg = StreamConfig(stream_id="f", url=str(bikes_mp4), sample_fps=2.0, skip_unreferenced=False)
    worker = StreamWorker(cfg)
    worker.start()
    sampled = {round(f.pts, 6): f.rgb for f in drain(worker)}
    assert worker.join(5) and len(sampled) == 20
    checked = 0
    with av.open(str(bikes_mp4)) as container:
        for frame in container.decode(video=0):
            rgb = sampled.get(round(float(frame.time), 6))
            if rgb is None:
                continue
            w, h = cfg.output_size(frame.width, frame.height)
            expected = frame.to_ndarray(format="rgb24", width=w, height=h)
            assert np.array_equal(rgb, expected), f"frame at {frame.time:.2f} s differs"
            checked += 1
    assert checked == 20
