"""FrameQueue: drop_oldest keeps the newest and counts drops; block waits; close wakes everyone."""

from __future__ import annotations

import threading
import time

import pytest

from vgsum.stream.frame_queue import FrameQueue, QueueClosed


def test_drop_oldest_counts_and_keeps_newest():
    q: FrameQueue[int] = FrameQueue(3, "drop_oldest")
    for i in range(10):
        assert q.put(i)
    assert q.dropped == 7
    assert len(q) == 3
    assert [q.get(0), q.get(0), q.get(0)] == [7, 8, 9]
    assert q.get(timeout=0.01) is None


def test_drop_oldest_bounds_latency_under_slow_consumer():
    q: FrameQueue[int] = FrameQueue(4, "drop_oldest")
    produced = 0
    for _ in range(50):  # producer 5x faster than the consumer
        for _ in range(5):
            q.put(produced)
            produced += 1
        got = q.get(0)
        assert got is not None and produced - got <= 4  # never more than the queue behind
    assert q.dropped + len(q) + 50 == produced


def test_block_waits_for_room_and_loses_nothing():
    q: FrameQueue[int] = FrameQueue(2, "block")
    out: list[int] = []

    def consume() -> None:
        try:
            while True:
                item = q.get(timeout=1)
                if item is not None:
                    out.append(item)
                    time.sleep(0.005)
        except QueueClosed:
            pass

    t = threading.Thread(target=consume)
    t.start()
    for i in range(40):
        assert q.put(i, timeout=5)
    q.close()
    t.join(5)
    assert out == list(range(40))
    assert q.dropped == 0


def test_block_put_times_out_when_full():
    q: FrameQueue[int] = FrameQueue(1, "block")
    q.put(1)
    t0 = time.monotonic()
    assert q.put(2, timeout=0.1) is False
    assert time.monotonic() - t0 >= 0.09


def test_close_wakes_blocked_producer_and_consumer_drains_first():
    q: FrameQueue[int] = FrameQueue(1, "block")
    q.put(1)
    errors: list[BaseException] = []

    def produce() -> None:
        try:
            q.put(2, timeout=5)
        except QueueClosed as err:
            errors.append(err)

    t = threading.Thread(target=produce)
    t.start()
    time.sleep(0.05)
    q.close()
    t.join(2)
    assert errors and not t.is_alive()
    assert q.get(0) == 1  # what was queued is still delivered
    with pytest.raises(QueueClosed):
        q.get(0)


def test_oldest_age_reports_queue_lag():
    q: FrameQueue[int] = FrameQueue(4, "drop_oldest")
    assert q.oldest_age() == 0.0
    q.put(1)
    time.sleep(0.05)
    assert q.oldest_age() >= 0.04
