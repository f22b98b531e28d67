"""Each stream's scene is read on the thread that submits its frames, and scores exactly as when read in line.

A daemon's pipeline thread runs the engines for every camera; the foreground model
(a quarter of that thread's work with thirty quiet cameras) runs on each stream's own
consumer thread as it submits a frame. Real engines, the room clip's real frames, two
streams submitted from two threads, one of them across a reconnect.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from vgsum.runtime.daemon.pipeline import Pipeline
from vgsum.runtime.engines.config import EngineConfig
from vgsum.runtime.engines.loader import Engines
from vgsum.runtime.live.sinks import StreamSinks
from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.summarizer import ScoreEvent
from vgsum.stream.ingest import SampledFrame
from vgsum.stream.stage_cpu import STAGE_CPU

pytestmark = pytest.mark.slow

STREAMS = {"steady": lambda t: 0, "reconnects": lambda t: 0 if t < 12.0 else 1}


def _pipeline(engines: Engines) -> tuple[Pipeline, dict[str, list[tuple[float, float, bool]]]]:
    scores: dict[str, list[tuple[float, float, bool]]] = {sid: [] for sid in STREAMS}

    def on_score(stream_id: str, event: ScoreEvent) -> None:
        scores[stream_id].append((event.t, event.score, event.final))

    sinks = StreamSinks(on_score=on_score, on_highlight=lambda _s, _e: None)
    # one frame per engine call: how the submitters' frames interleave must not change a batch, since ONNX
    # Runtime's results move in the last bits with a batch's size (here only where the scene is read may differ)
    pipeline = Pipeline(engines, SummaryConfig(), sinks, queue_size=256, max_batch=1)
    for sid in STREAMS:
        pipeline.add_stream(sid, 2.0)
    return pipeline, scores


def _frames(stream_id: str, room_frames) -> list[SampledFrame]:
    epoch_of = STREAMS[stream_id]
    return [SampledFrame(stream_id, i, epoch_of(t), t, t, 0.0, rgb) for i, (t, rgb) in enumerate(room_frames)]


def test_scenes_read_by_the_submitting_threads_score_as_scenes_read_in_line(engine_folder: Path, room_frames) -> None:
    engines = Engines.load(EngineConfig(dir=engine_folder, threads=1))

    inline, inline_scores = _pipeline(engines)
    for sid in STREAMS:
        inline.process(_frames(sid, room_frames))
        inline.finish(sid)

    threaded, threaded_scores = _pipeline(engines)
    foreground_before = STAGE_CPU.snapshot().get("foreground", 0.0)

    def submit_all(stream_id: str) -> None:
        for frame in _frames(stream_id, room_frames):
            assert threaded.submit(frame)
        threaded.end_stream(stream_id)

    submitters = [threading.Thread(target=submit_all, args=(sid,)) for sid in STREAMS]
    for thread in submitters:
        thread.start()
    for thread in submitters:
        thread.join(60)
    # no pipeline thread yet: every frame's foreground already ran, on the submitters
    assert STAGE_CPU.snapshot()["foreground"] > foreground_before
    assert threaded.frames_done("steady") == 0
    runner = threading.Thread(target=threaded.run)
    runner.start()
    deadline = time.monotonic() + 120
    while not all(threaded.finished(sid) for sid in STREAMS) and time.monotonic() < deadline:
        time.sleep(0.05)
    threaded.stop()
    runner.join(5)

    assert threaded.failure is None
    for sid in STREAMS:
        assert threaded.frames_done(sid) == len(room_frames)
        assert threaded_scores[sid] == inline_scores[sid]  # the same scores, bit for bit
    assert threaded.gaps("reconnects") == 1 and threaded.gaps("steady") == 0
