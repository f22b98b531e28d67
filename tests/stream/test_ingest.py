"""The stream worker on real files (and a port nobody serves): sampling by pts, pacing, epochs, end and failure."""

from __future__ import annotations

import logging
import re
import time

import pytest
from damaged_videos import cut_in_half, variable_rate_ts
from polling import wait_until

from vgsum.stream.config import StreamConfig
from vgsum.stream.frame_queue import QueueClosed
from vgsum.stream.ingest import SampledFrame, StreamWorker
from vgsum.stream.state import StreamState


def drain(worker: StreamWorker, max_s: float = 30.0, stop_after: int | None = None) -> list[SampledFrame]:
    out: list[SampledFrame] = []
    deadline = time.monotonic() + max_s
    try:
        while time.monotonic() < deadline:
            item = worker.queue.get(timeout=0.2)
            if item is not None:
                out.append(item)
                if stop_after is not None and len(out) >= stop_after:
                    break
    except QueueClosed:
        pass
    return out


def test_file_sampled_by_pts_at_target_size_and_ends(bikes_mp4):
    worker = StreamWorker(StreamConfig(stream_id="f", url=str(bikes_mp4), sample_fps=2.0, skip_unreferenced=False))
    worker.start()
    frames = drain(worker)
    assert worker.join(5)
    stats = worker.stats()
    assert stats.state == StreamState.ENDED
    assert stats.frames_decoded == 250  # every frame decoded (10 s at 25 fps) ...
    assert len(frames) == stats.frames_sampled == 20  # ... 2 per second kept
    assert stats.frames_dropped == 0  # files wait, never drop
    assert frames[0].rgb.shape == (218, 512, 3) and frames[0].rgb.dtype.name == "uint8"
    assert [f.seq for f in frames] == list(range(20))
    assert abs(frames[-1].media_time - 9.52) < 1e-6
    assert stats.media_end == pytest.approx(10.0)


def test_sparse_sampling_skips_unreferenced_frames_but_keeps_every_sample_and_the_end(bikes_mp4):
    """At 2 of 25 fps the B-frames nobody references are not decoded; samples move by at most two frames."""
    worker = StreamWorker(StreamConfig(stream_id="f", url=str(bikes_mp4), sample_fps=2.0))
    worker.start()
    frames = drain(worker)
    assert worker.join(5)
    stats = worker.stats()
    assert stats.state == StreamState.ENDED and stats.last_error is None
    assert 100 < stats.frames_decoded < 200  # bikes.mp4 references about half its frames
    assert len(frames) == stats.frames_sampled == 20
    for index, frame in enumerate(frames):
        assert 0.0 <= frame.media_time - 0.5 * index <= 2 / 25 + 1e-6
    assert stats.media_end == pytest.approx(10.0)  # the skipped last frames still count for the end


def test_denser_sampling_decodes_every_frame(bikes_mp4):
    """At 3 of 25 fps (more than a tenth) a shift of two frames would move what the detector sees: all decoded."""
    worker = StreamWorker(StreamConfig(stream_id="f", url=str(bikes_mp4), sample_fps=3.0))
    worker.start()
    frames = drain(worker)
    assert worker.join(5)
    assert worker.stats().frames_decoded == 250
    assert len(frames) == 30


def test_explicit_output_size(bikes_mp4):
    worker = StreamWorker(StreamConfig(stream_id="f", url=str(bikes_mp4), width=224, height=224))
    worker.start()
    frames = drain(worker)
    assert frames and frames[0].rgb.shape == (224, 224, 3)


def test_realtime_pacing_follows_media_time(bikes_mp4):
    worker = StreamWorker(StreamConfig(stream_id="f", url=str(bikes_mp4), realtime=True, sample_fps=4.0))
    t0 = time.monotonic()
    worker.start()
    frames = drain(worker, stop_after=9)  # media 0 .. 2.0 s
    elapsed = time.monotonic() - t0
    worker.stop()
    assert worker.join(2)
    span = frames[-1].media_time - frames[0].media_time
    assert abs(span - 2.0) < 0.05
    assert 1.8 <= elapsed <= 3.5, elapsed  # paced like a camera, not decoded at full speed
    assert worker.stats().state == StreamState.ENDED


def test_loop_makes_new_epochs_with_monotonic_media_time(bikes_mp4):
    worker = StreamWorker(StreamConfig(stream_id="f", url=str(bikes_mp4), loop=True, sample_fps=2.0))
    worker.start()
    frames = drain(worker, stop_after=45)
    worker.stop()
    worker.join(2)
    assert {f.epoch for f in frames} == {0, 1, 2}
    times = [f.media_time for f in frames]
    assert all(b > a for a, b in zip(times, times[1:], strict=False))
    second = [f for f in frames if f.epoch == 1]
    assert second[0].pts == 0.0 and second[0].media_time > frames[19].media_time


def test_drop_oldest_when_consumer_is_slow(bikes_mp4):
    # A paced file counts as live: drop_oldest. Nobody consumes: the queue stays bounded, drops counted.
    cfg = StreamConfig(
        stream_id="f", url=str(bikes_mp4), realtime=False, queue_size=3, queue_policy="drop_oldest", sample_fps=10.0
    )
    worker = StreamWorker(cfg)
    worker.start()
    assert worker.join(20)
    stats = worker.stats()
    assert stats.frames_sampled == 100
    assert len(worker.queue) == 3 and stats.frames_dropped == 97
    assert [f.seq for f in drain(worker)] == [97, 98, 99]  # the newest survived


def test_a_slow_consumer_is_not_a_stalled_file(bikes_mp4):
    # A file waits for its consumer (block policy): a pipeline slower than stall_after_s must
    # not turn that wait into "stalled: no frame" and cut the file short.
    worker = StreamWorker(StreamConfig(stream_id="f", url=str(bikes_mp4), queue_size=1, stall_after_s=0.3))
    worker.start()
    frames = [worker.queue.get(timeout=5)]
    time.sleep(0.8)  # the consumer is busy; the reader waits on the full queue
    frames += drain(worker)
    assert worker.join(5)
    stats = worker.stats()
    assert (stats.state, stats.last_error, stats.stalls) == (StreamState.ENDED, None, 0)
    assert len(frames) == stats.frames_sampled == 20


def test_missing_file_fails_once_without_retry(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    worker = StreamWorker(StreamConfig(stream_id="f", url=str(tmp_path / "nope.mp4")))
    worker.start()
    assert worker.join(5)
    stats = worker.stats()
    assert stats.state == StreamState.FAILED
    assert "No such file" in stats.last_error
    assert not any("retry" in r.getMessage() for r in caplog.records)
    assert "Traceback" not in caplog.text


def test_not_a_video_fails(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    worker = StreamWorker(StreamConfig(stream_id="f", url=str(bad)))
    worker.start()
    assert worker.join(5)
    assert worker.stats().state == StreamState.FAILED
    assert "Invalid data" in worker.stats().last_error


def test_unreachable_live_source_retries_forever_and_says_so(caplog):
    # Nothing listens on the port: a transient error, retried with backoff however small max_retries is.
    # Status must show it: `reconnecting` from the first failure, every retry counted, the reason kept.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = StreamConfig(
        stream_id="cam",
        url=f"rtsp://user:secret@127.0.0.1:{port}/live",
        max_retries=0,
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
        open_timeout_s=1,
    )
    caplog.set_level(logging.WARNING)
    changes: list[tuple[StreamState, str | None]] = []
    worker = StreamWorker(cfg, on_state=lambda _w, state, reason: changes.append((state, reason)))
    worker.start()
    wait_until(lambda: sum("retry" in r.getMessage() for r in caplog.records) >= 5, 20, "five retries")
    stats = worker.stats()
    retries = [r for r in caplog.records if "retry" in r.getMessage()]
    worker.stop()
    assert worker.join(2)
    assert len(retries) >= 5  # capped backoff: 0.05, 0.1, 0.2, 0.2, ...
    assert stats.state == StreamState.RECONNECTING
    assert changes[0] == (StreamState.RECONNECTING, "cannot open: Connection refused (ConnectionRefusedError)")
    # every attempt after the first is a reconnect: the one logged retry may still be waiting its turn
    assert len(retries) - 1 <= stats.reconnects <= len(retries), (stats.reconnects, len(retries))
    assert stats.last_error == "cannot open: Connection refused (ConnectionRefusedError)"
    assert worker.state == StreamState.ENDED
    assert "secret" not in caplog.text


def test_server_that_never_answers_is_a_timeout_not_invalid_data():
    # A real TCP listener that accepts and stays silent, like a hung camera: FFmpeg's RTSP
    # handshake is cut by the open timeout and calls that "Invalid data found".
    import socket

    from vgsum.stream.source import SourceError, VideoSource

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        port = server.getsockname()[1]
        source = VideoSource(StreamConfig(stream_id="cam", url=f"rtsp://127.0.0.1:{port}/live", open_timeout_s=1.0))
        with pytest.raises(SourceError) as failed:
            source.open()
    assert re.fullmatch(r"cannot open: timed out: no answer in 1\.\d s", str(failed.value)), str(failed.value)
    assert not failed.value.permanent  # a hung camera is retried


@pytest.mark.parametrize("name", ["bikes.mp4", "parking-lot-cars.mp4", "person-bicycle-car-detection.gif"])
def test_a_complete_file_ends_where_its_header_says_without_a_warning(name, bikes_mp4, request):
    # Real clips (one with a longer audio track, a GIF): no false "ended early".
    path = bikes_mp4 if name == "bikes.mp4" else request.getfixturevalue("shared_videos") / name
    worker = StreamWorker(StreamConfig(stream_id="f", url=str(path), sample_fps=0.5, long_side=64, queue_size=1000))
    worker.start()
    assert worker.join(60)
    stats = worker.stats()
    assert (stats.state, stats.last_error) == (StreamState.ENDED, None)
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        *_, last = container.decode(stream)
    assert stats.media_end == pytest.approx(float(last.time + last.duration * last.time_base))


def test_variable_rate_file_ends_at_its_last_frame(tmp_path):
    path = variable_rate_ts(tmp_path / "vfr.ts")
    worker = StreamWorker(StreamConfig(stream_id="f", url=str(path), sample_fps=2.0, long_side=64, queue_size=100))
    worker.start()
    frames = drain(worker)
    assert worker.join(5)
    stats = worker.stats()
    assert (stats.state, stats.last_error, stats.frames_decoded) == (StreamState.ENDED, None, 60)
    assert frames[-1].media_time == pytest.approx(15.4)  # the last frame (MPEG-TS clocks start at 1.4 s) ...
    assert stats.media_end == pytest.approx(15.5)  # ... and it lasts 0.1 s: not 60 frames / 10 fps, nor 14.1


def test_file_cut_in_half_ends_early_and_says_where(tmp_path, bikes_mp4, caplog):
    caplog.set_level(logging.INFO)
    path = cut_in_half(bikes_mp4, tmp_path / "half.mp4")
    worker = StreamWorker(StreamConfig(stream_id="f", url=str(path), sample_fps=2.0, long_side=64))
    worker.start()
    frames = drain(worker)
    assert worker.join(5)
    stats = worker.stats()
    # everything readable was read: the stream ended, and its error says what is missing
    assert stats.state == StreamState.ENDED
    assert re.fullmatch(r"file ended early at 4\.\d s of 10\.0 s \(truncated or damaged.*\)", stats.last_error or "")
    assert 8 <= len(frames) <= 10 and stats.media_end == pytest.approx(float(stats.last_error.split()[4]), abs=0.05)
    said = [r.getMessage() for r in caplog.records if "ended early" in r.getMessage()]
    assert len(said) == 1 and said[0].endswith(f"streaming -> ended: {stats.last_error}")


def test_error_classification_retries_what_a_retry_can_fix():
    import av.error

    from vgsum.stream.source import _permanent

    garbage = av.error.InvalidDataError(-1094995529, "Invalid data found when processing input")
    not_found = av.error.HTTPNotFoundError(-1, "Server returned 404 Not Found")
    # An unreachable camera surfaces as "Invalid data" in FFmpeg: retried forever for a live source.
    assert not _permanent(garbage, "rtsp") and _permanent(garbage, "file")
    assert _permanent(not_found, "rtsp")


def test_fail_from_outside_stops_the_reader_and_keeps_the_reason(bikes_mp4):
    states: list[tuple[StreamState, str | None]] = []
    cfg = StreamConfig(stream_id="f", url=str(bikes_mp4), realtime=True, loop=True)
    worker = StreamWorker(cfg, on_state=lambda _w, state, reason: states.append((state, reason)))
    worker.start()
    assert drain(worker, max_s=10, stop_after=2), "no frame"
    worker.fail("pipeline failed: RuntimeError: boom")
    assert worker.join(5)
    stats = worker.stats()
    assert stats.state == StreamState.FAILED and stats.last_error == "pipeline failed: RuntimeError: boom"
    assert states[-1] == (StreamState.FAILED, "pipeline failed: RuntimeError: boom")
    assert [s for s, _ in states].count(StreamState.FAILED) == 1  # the reader's own "stopped" end does not follow
    assert StreamState.ENDED not in [s for s, _ in states]
