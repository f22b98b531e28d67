"""The stage accounting (stream/stage_cpu.py) and FFmpeg's decoder threads (stream/decoder_cpu.py), on real threads
and a real decoder: each stage gets its own thread's CPU, nested stages are not counted twice, and the stages
never add up to more than the process burned."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from vgsum.stream.decoder_cpu import DecoderThreads, thread_cpu
from vgsum.stream.stage_cpu import StageCpu, since

BUSY_S = 0.3  # CPU seconds each thread burns


def _burn(seconds: float) -> float:
    """Spin until this thread has used `seconds` of CPU; returns the CPU it used by its own clock."""
    start = time.thread_time()
    x = 0
    while time.thread_time() - start < seconds:
        x += 1
    return time.thread_time() - start


def test_two_threads_each_charge_their_own_cpu_and_the_sum_stays_within_the_process() -> None:
    cpu = StageCpu()
    own: dict[str, float] = {}

    def work(stage: str) -> None:
        with cpu.timer(stage):
            own[stage] = _burn(BUSY_S)

    process0 = time.process_time()
    threads = [threading.Thread(target=work, args=(stage,)) for stage in ("decode", "perception")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    process = time.process_time() - process0
    got = cpu.snapshot()
    assert set(got) == {"decode", "perception"}
    for stage in ("decode", "perception"):
        # at least the spin, and not the other thread's spin as well (the GIL interleaves them: wall time would)
        assert own[stage] <= got[stage] < own[stage] + 0.05, (stage, got, own)
    assert sum(got.values()) <= process + 1e-3, (got, process)


def test_a_nested_stage_is_charged_to_itself_only() -> None:
    cpu = StageCpu()
    with cpu.timer("summary"):
        outer = _burn(0.05)
        with cpu.timer("window"):
            inner = _burn(0.1)
        with cpu.timer("publish"):
            _burn(0.02)
    got = cpu.snapshot()
    assert inner <= got["window"] < inner + 0.01
    assert outer <= got["summary"] < outer + 0.01, got  # the window's 0.1 s is not the summary's
    assert got["publish"] >= 0.02


def test_timed_iterator_charges_only_the_time_inside_next() -> None:
    cpu = StageCpu()

    def frames() -> object:
        for _ in range(3):
            _burn(0.02)
            yield object()

    consumer = 0.0
    for _ in cpu.timed("decode", frames()):
        consumer += _burn(0.03)  # the loop's own work between frames is not decoding
    got = cpu.snapshot()["decode"]
    assert 0.06 <= got < 0.06 + 0.02, got
    assert consumer >= 0.09


def test_since_keeps_what_ran_between_two_snapshots() -> None:
    assert since({"decode": 1.0, "convert": 0.5}, {"decode": 1.5, "convert": 0.5, "store": 0.2}) == {
        "decode": 0.5, "store": 0.2,
    }


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread CPU clocks of other threads: Linux")
def test_thread_cpu_reads_a_threads_clock_from_outside() -> None:
    done, ready = threading.Event(), threading.Event()
    result: dict[str, float] = {}

    def work() -> None:
        result["own"] = _burn(0.1)
        result["tid"] = threading.get_native_id()
        ready.set()
        done.wait(5)

    t = threading.Thread(target=work)
    t.start()
    assert ready.wait(10), "the worker thread did not report"
    seen = thread_cpu(int(result["tid"]))
    done.set()
    t.join()
    assert seen is not None and result["own"] <= seen < result["own"] + 0.05


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread names and clocks from /proc: Linux")
def test_decoder_threads_of_a_real_decode_are_found_and_timed(bikes_mp4: Path) -> None:
    import av

    decoders = DecoderThreads()
    container = av.open(str(bikes_mp4))
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"  # as stream/source.py opens it
    stream.codec_context.thread_count = 2
    try:
        frames = container.decode(stream)
        next(frames)
        decoders.claim()
        for _ in frames:
            pass
        cpu = decoders.release()
    finally:
        container.close()
    assert cpu > 0.01  # 250 frames decoded in those threads
    again = DecoderThreads()
    again.claim()
    assert again.release() == 0.0  # nothing opened since: nothing claimed
